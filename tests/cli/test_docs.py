"""docs/commands.md is generated from the command tree and must match it; every relative link in README.md
and docs/ points at a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

from xaa_cli.cli import docgen

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def test_command_reference_is_in_sync_with_the_code() -> None:
    committed = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    assert docgen.render() == committed, (
        "docs/commands.md is stale: run `python -m xaa_cli.cli.docgen > docs/commands.md`"
    )


def test_command_reference_covers_every_command() -> None:
    text = docgen.render()
    for heading in ("`xaa token get`", "`xaa demo`", "`xaa completion`", "`xaa dev serve`", "`xaa revoke`"):
        assert f"### {heading}" in text or f"#### {heading}" in text, heading


def test_relative_links_resolve() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target, _anchor in LINK.findall(page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert not broken, "broken links:\n" + "\n".join(broken)
