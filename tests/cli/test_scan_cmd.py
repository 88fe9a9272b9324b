"""``xaa scan`` through the real CLI on real files: exit codes, output modes, redaction, baselines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.scan.fakes import Fakes
from xaa_cli.cli.app import app
from xaa_cli.scan.report import JSON_FIELDS


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    fake = Fakes(11)
    secrets = {"github": fake.github(), "stripe": fake.stripe(), "password": fake.password()}
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.py").write_text(f'GH = "{secrets["github"]}"\nSTRIPE = "{secrets["stripe"]}"\n')
    (root / ".env").write_text(f"DB_PASSWORD={secrets['password']}\n")
    (root / "clean.py").write_text("print('hello')\n")
    return root, secrets


def _all_output(result: object) -> str:
    return getattr(result, "stdout", "") + getattr(result, "stderr", "")


def test_clean_directory_exits_0(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    result = runner.invoke(app, ["scan", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "No secrets found" in result.stdout


def test_findings_exit_1_and_table_groups_by_provider(
    runner: CliRunner, planted: tuple[Path, dict[str, str]]
) -> None:
    root, secrets = planted
    result = runner.invoke(app, ["scan", str(root)])
    assert result.exit_code == 1
    assert "github (1)" in result.stdout
    assert "stripe (1)" in result.stdout
    assert "3 secrets in 2 file(s)" in result.stdout
    for value in secrets.values():
        assert value not in _all_output(result)


def test_exit_code_option_overrides(runner: CliRunner, planted: tuple[Path, dict[str, str]]) -> None:
    root, _ = planted
    assert runner.invoke(app, ["scan", str(root), "--exit-code", "42"]).exit_code == 42
    assert runner.invoke(app, ["scan", str(root), "--exit-code", "0"]).exit_code == 0


def test_usage_errors_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(app, ["scan", str(tmp_path / "missing")]).exit_code == 2
    assert runner.invoke(app, ["scan", str(tmp_path), "-o", "csv"]).exit_code == 2
    assert runner.invoke(app, ["scan", str(tmp_path), "--history", "--staged"]).exit_code == 2
    assert runner.invoke(app, ["scan", str(tmp_path), "--update-baseline"]).exit_code == 2
    assert runner.invoke(app, ["scan", str(tmp_path), "--max-file-size", "lots"]).exit_code == 2


def test_json_fields_and_redaction(runner: CliRunner, planted: tuple[Path, dict[str, str]]) -> None:
    root, secrets = planted
    result = runner.invoke(app, ["scan", str(root), "-o", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["summary"]["findings"] == 3
    for finding in doc["findings"]:
        assert list(finding)[: len(JSON_FIELDS)] == list(JSON_FIELDS)
        assert "secret" not in finding
    by_rule = {f["rule_id"]: f for f in doc["findings"]}
    gh = by_rule["github-pat"]
    assert gh["path"] == "app.py"
    assert (gh["line"], gh["column"]) == (1, 7)
    import hashlib

    assert gh["fingerprint"] == hashlib.sha256(secrets["github"].encode()).hexdigest()
    assert gh["redacted"] == secrets["github"][:4] + "…"
    assert "GitHub App" in gh["replacement"]
    for value in secrets.values():
        assert value not in _all_output(result)


def test_reveal_shows_secrets(runner: CliRunner, planted: tuple[Path, dict[str, str]]) -> None:
    root, secrets = planted
    result = runner.invoke(app, ["scan", str(root), "-o", "json", "--reveal"])
    revealed = {f["secret"] for f in json.loads(result.stdout)["findings"]}
    assert revealed == set(secrets.values())
    table = runner.invoke(app, ["scan", str(root), "--reveal"])
    assert secrets["github"][:12] in table.stdout
    assert secrets["github"][:4] + "…" not in table.stdout


def test_baseline_round_trip(runner: CliRunner, planted: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    root, secrets = planted
    base = tmp_path / "baseline.json"
    result = runner.invoke(app, ["scan", str(root), "--baseline", str(base), "--update-baseline"])
    assert result.exit_code == 0
    text = base.read_text()
    assert all(value not in text for value in secrets.values())
    assert len(json.loads(text)["entries"]) == 3
    # lines above the known secrets move them; the baseline still matches (keyed by secret hash, not line)
    app_py = root / "app.py"
    app_py.write_text("# moved\n\n" + app_py.read_text())
    assert runner.invoke(app, ["scan", str(root), "--baseline", str(base)]).exit_code == 0
    fresh = Fakes(99).github()
    (root / "new.py").write_text(f'T = "{fresh}"\n')
    result = runner.invoke(app, ["scan", str(root), "--baseline", str(base), "-o", "json"])
    assert result.exit_code == 1
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["new.py"]


def test_bad_baseline_is_a_usage_error(
    runner: CliRunner, planted: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, _ = planted
    bad = tmp_path / "b.json"
    bad.write_text("not json")
    result = runner.invoke(app, ["scan", str(root), "--baseline", str(bad)])
    assert result.exit_code == 2
    assert "not an xaa scan baseline" in result.stderr


ACME_RULE = """
[[rules]]
id = "acme-token"
provider = "acme"
description = "ACME internal token"
regex = '''\\b(acme_[a-z0-9]{24})\\b'''
keywords = ["acme_"]
positive = ["t = acme_0123456789abcdefghijklmn"]
negative = ["t = acme_short"]
"""


def test_rules_file_adds_and_overrides(runner: CliRunner, tmp_path: Path) -> None:
    fake = Fakes(12)
    token = "acme_" + fake.text("abcdefghijklmnopqrstuvwxyz0123456789", 24)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text(f'A = "{token}"\nG = "{fake.github()}"\n')
    rules = tmp_path / "rules.toml"
    # same id as a built-in: the user's version replaces it (here: never matches)
    rules.write_text(
        ACME_RULE + "\n[[rules]]\nid = \"github-pat\"\nregex = '''NEVER(x)'''\nkeywords = [\"never\"]\n"
    )
    result = runner.invoke(app, ["scan", str(tmp_path / "src"), "--rules", str(rules), "-o", "json"])
    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule_id"], f["provider"]) for f in findings] == [("acme-token", "acme")]
    assert findings[0]["replacement"]  # unknown provider: the generic hint


def test_invalid_rules_file_is_a_config_error(runner: CliRunner, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nid = "bad"\nregex = "([unclosed"\n')
    result = runner.invoke(app, ["scan", str(tmp_path), "--rules", str(rules)])
    assert result.exit_code == 3
    assert "rule bad" in result.stderr
    assert "regex" in result.stderr
    rules.write_text('[[rules]]\nid = "x1"\nregex = "a"\nsurprise = 1\n')
    assert "unknown field" in runner.invoke(app, ["scan", str(tmp_path), "--rules", str(rules)]).stderr


def test_config_scan_section(runner: CliRunner, tmp_path: Path, isolated_home: Path) -> None:
    fake = Fakes(13)
    token = "acme_" + fake.text("abcdefghijklmnopqrstuvwxyz0123456789", 24)
    root = tmp_path / "src"
    (root / "fixtures").mkdir(parents=True)
    (root / "a.py").write_text(f'A = "{token}"\nS = "{fake.stripe()}"\n')
    (root / "fixtures" / "b.py").write_text(f'G = "{fake.github()}"\n')
    config = isolated_home / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    inline = ACME_RULE.replace("[[rules]]", "[[scan.rules]]")
    config.write_text(
        '[scan]\ndisabled_rules = ["stripe-secret-key"]\nexclude_paths = ["fixtures/"]\nexit_code = 9\n'
        + inline
    )
    result = runner.invoke(app, ["scan", str(root), "-o", "json"], env={"XAA_CONFIG": str(config)})
    assert result.exit_code == 9, result.output
    assert [f["rule_id"] for f in json.loads(result.stdout)["findings"]] == ["acme-token"]
    config.write_text("[scan]\nmax_file_size = []\n")
    bad = runner.invoke(app, ["scan", str(root)], env={"XAA_CONFIG": str(config)})
    assert bad.exit_code == 3


def test_progress_bar_goes_to_stderr_only(
    runner: CliRunner, planted: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from xaa_cli.cli.commands import scan as scan_cmd

    root, _ = planted
    monkeypatch.setattr(scan_cmd, "_stderr_is_tty", lambda: True)
    updates: list[tuple[int, int]] = []
    real = scan_cmd._progress.__enter__

    def spy(self: scan_cmd._progress):  # type: ignore[no-untyped-def]
        update = real(self)
        assert update is not None

        def record(done: int, total: int) -> None:
            updates.append((done, total))
            update(done, total)

        return record

    monkeypatch.setattr(scan_cmd._progress, "__enter__", spy)
    result = runner.invoke(app, ["scan", str(root), "-o", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["findings"] == 3  # stdout is still pure JSON
    assert updates
    assert updates[-1][0] == updates[-1][1] > 0
