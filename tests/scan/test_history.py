"""``--history`` and ``--staged`` on real git repositories built here."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.scan.fakes import Fakes
from tests.scan.gitrepo import Repo
from xaa_cli.cli.app import app
from xaa_cli.scan import Scanner, load_rules

RULES = load_rules()


def build_history(tmp_path: Path) -> tuple[Repo, dict[str, str], dict[str, str]]:
    fake = Fakes(21)
    s = {"removed": fake.github(), "kept": fake.stripe(), "branch": fake.slack_bot()}
    repo = Repo(tmp_path / "repo")
    repo.write("app.py", "x = 1\n")
    c1 = repo.commit("init", "2024-01-01T10:00:00+00:00")
    repo.write("app.py", f'x = 1\nGH = "{s["removed"]}"\n')
    repo.write("pay.py", f'STRIPE = "{s["kept"]}"\n')
    c2 = repo.commit("add keys", "2024-02-01T10:00:00+00:00")
    for i in range(3):  # the same secret stays in later versions of the file: still one finding
        repo.write("pay.py", f'STRIPE = "{s["kept"]}"\n' + f"# edit {i}\n")
        repo.commit(f"edit {i}", f"2024-03-0{i + 1}T10:00:00+00:00")
    repo.write("app.py", "x = 1\n")
    repo.commit("remove key", "2024-04-01T10:00:00+00:00")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("chat.py", f'SLACK = "{s["branch"]}"\n')
    c3 = repo.commit("slack on a branch", "2024-05-01T10:00:00+00:00")
    repo.git("checkout", "-q", "main")
    return repo, s, {"init": c1, "keys": c2, "branch": c3}


def test_history_reports_each_secret_once_with_commit_date_and_tree_flag(tmp_path: Path) -> None:
    repo, secrets, commits = build_history(tmp_path)
    result = Scanner(RULES).scan_history(repo.root)
    by_secret = {f.secret: f for f in result.findings}
    assert set(by_secret) == set(secrets.values())
    assert len(result.findings) == 3
    removed = by_secret[secrets["removed"]]
    assert (removed.path, removed.line, removed.commit) == ("app.py", 2, commits["keys"])
    assert removed.author_date == "2024-02-01T10:00:00+00:00"
    assert removed.in_working_tree is False
    assert removed.tracked is True
    kept = by_secret[secrets["kept"]]
    assert (kept.commit, kept.in_working_tree) == (commits["keys"], True)
    branch = by_secret[secrets["branch"]]
    assert (branch.commit, branch.in_working_tree, branch.tracked) == (commits["branch"], False, False)
    assert result.stats.commits == 7
    # each blob reachable from any ref was read exactly once
    objects = repo.git("rev-list", "--all", "--objects").splitlines()
    kinds = repo.git("cat-file", "--batch-check=%(objecttype)", "--batch-all-objects").splitlines()
    assert result.stats.blobs == kinds.count("blob") == 7  # app.py v3 == v1: one blob
    assert len(objects) > result.stats.blobs


def test_history_via_cli_json(tmp_path: Path, runner: CliRunner) -> None:
    repo, secrets, commits = build_history(tmp_path)
    result = runner.invoke(app, ["scan", str(repo.root), "--history", "-o", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["mode"] == "history"
    assert {f["commit"] for f in doc["findings"]} == {commits["keys"], commits["branch"]}
    assert all(f["author_date"] and f["in_working_tree"] is not None for f in doc["findings"])
    assert not any(value in result.stdout + result.stderr for value in secrets.values())


def test_history_of_a_subdirectory_reports_paths_relative_to_it(tmp_path: Path) -> None:
    fake = Fakes(22)
    repo = Repo(tmp_path / "repo")
    repo.write("svc/conf.py", f'T = "{fake.github()}"\n')
    repo.write("other.py", f'T = "{fake.github()}"\n')
    repo.commit("init", "2024-01-01T00:00:00+00:00")
    result = Scanner(RULES).scan_history(repo.root / "svc")
    assert [f.path for f in result.findings] == ["conf.py"]


def test_staged_scans_only_what_is_staged(tmp_path: Path, runner: CliRunner) -> None:
    fake = Fakes(23)
    committed, staged, unstaged = fake.github(), fake.github(), fake.github()
    repo = Repo(tmp_path / "repo")
    repo.write("old.py", f'T = "{committed}"\n')
    repo.commit("init", "2024-01-01T00:00:00+00:00")
    repo.write("new.py", f'T = "{staged}"\n')
    repo.git("add", "new.py")
    repo.write("new.py", f'T = "{staged}"\nU = "{unstaged}"\n')  # modified after staging: not in the index
    result = Scanner(RULES).scan_staged(repo.root)
    assert [(f.path, f.secret, f.tracked) for f in result.findings] == [("new.py", staged, True)]
    cli = runner.invoke(app, ["scan", str(repo.root), "--staged"])
    assert cli.exit_code == 1
    repo.git("reset", "-q")
    assert runner.invoke(app, ["scan", str(repo.root), "--staged"]).exit_code == 0


def test_history_outside_git_is_a_usage_error(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["scan", str(tmp_path), "--history"])
    assert result.exit_code == 2
    assert "not inside a git repository" in result.stderr


def test_tree_scan_marks_tracked_files(tmp_path: Path) -> None:
    fake = Fakes(24)
    repo = Repo(tmp_path / "repo")
    repo.write("tracked.py", f'T = "{fake.github()}"\n')
    repo.write(".gitignore", ".env\n")
    repo.commit("init", "2024-01-01T00:00:00+00:00")
    repo.write(".env", f"GITHUB_TOKEN={fake.github()}\n")
    repo.write("untracked.py", f'T = "{fake.github()}"\n')
    result = Scanner(RULES).scan_tree(repo.root)
    assert {f.path: f.tracked for f in result.findings} == {
        ".env": False,
        "tracked.py": True,
        "untracked.py": False,
    }


def test_empty_repository_and_first_commit_staging(tmp_path: Path, runner: CliRunner) -> None:
    repo = Repo(tmp_path / "repo")
    assert runner.invoke(app, ["scan", str(repo.root), "--history"]).exit_code == 0
    token = Fakes(25).github()
    repo.write("a.py", f'T = "{token}"\n')
    repo.git("add", "a.py")  # no HEAD yet: the index is compared with the empty tree
    result = Scanner(RULES).scan_staged(repo.root)
    assert [f.secret for f in result.findings] == [token]


def test_git_failures_are_usage_errors(tmp_path: Path) -> None:
    import pytest

    from xaa_cli.errors import UsageError
    from xaa_cli.scan import gitio

    repo = Repo(tmp_path / "repo")
    repo.write("a.py", "x = 1\n")
    repo.commit("init", "2024-01-01T00:00:00+00:00")
    with pytest.raises(UsageError, match=r"git log failed: .*no-such-option"):
        list(gitio._git_stream(repo.root, "log", "--no-such-option"))
