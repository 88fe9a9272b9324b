"""Baselines: accepted findings keyed by (rule, path, secret SHA-256) — never line numbers, never the
secret — so edits above a known secret do not resurrect it and the file causes no merge churn."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from xaa_cli.errors import UsageError
from xaa_cli.scan.model import Finding

VERSION: Final = 1
MAX_BASELINE: Final = 32 * 1024 * 1024
Key = tuple[str, str, str]


def key(finding: Finding) -> Key:
    return (finding.rule_id, finding.path, finding.fingerprint)


def load(path: Path) -> set[Key]:
    """The keys in ``path``; a clear ``UsageError`` for a missing or malformed file."""
    try:
        raw = path.read_bytes()[: MAX_BASELINE + 1]
    except OSError as exc:
        raise UsageError(
            f"cannot read baseline {path}: {exc.strerror}", hint="create it with --update-baseline"
        ) from exc
    try:
        doc = json.loads(raw)
        entries = doc["entries"]
        return {(str(e["rule_id"]), str(e["path"]), str(e["fingerprint"])) for e in entries}
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"{path} is not an xaa scan baseline", hint="recreate it with --update-baseline"
        ) from exc


def subtract(findings: Iterable[Finding], known: set[Key]) -> list[Finding]:
    return [f for f in findings if key(f) not in known]


def render(findings: Iterable[Finding]) -> str:
    entries = sorted({key(f) for f in findings})
    doc = {
        "version": VERSION,
        "tool": "xaa scan",
        "entries": [{"rule_id": r, "path": p, "fingerprint": fp} for r, p, fp in entries],
    }
    return json.dumps(doc, indent=2) + "\n"


def write(path: Path, findings: Iterable[Finding]) -> None:
    """Atomically replace ``path`` (temp file + rename) so a crash never leaves half a baseline."""
    text = render(findings)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"cannot write baseline {path}: {exc.strerror}") from exc
