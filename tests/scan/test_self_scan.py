"""The project's own repository stays clean under ``xaa scan .``, and the pre-commit hook is wired up."""

from __future__ import annotations

from pathlib import Path

from xaa_cli.scan import Scanner, load_rules

ROOT = Path(__file__).resolve().parents[2]


def test_repository_scans_clean() -> None:
    result = Scanner(load_rules()).scan_tree(ROOT)
    assert [(f.path, f.line, f.rule_id) for f in result.findings] == []
    assert result.stats.files > 50  # really scanned the project


def test_pre_commit_hook_scans_staged_changes() -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "- id: xaa-scan\n" in text
    assert "entry: xaa scan --staged\n" in text
    assert "pass_filenames: false" in text
