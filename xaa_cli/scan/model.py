"""Plain data carried between the scanner's stages: options, findings and totals. Stdlib only."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from xaa_cli.errors import UsageError

DEFAULT_MAX_FILE_SIZE: Final = 5 * 1024 * 1024
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$", re.IGNORECASE)
_UNITS: Final = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What to read and how. ``jobs=0`` means one worker per CPU."""

    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    follow_symlinks: bool = False
    respect_gitignore: bool = True
    exclude_paths: tuple[str, ...] = ()
    jobs: int = 0


@dataclass(frozen=True, slots=True)
class Finding:
    """One secret at one place. ``secret`` stays in memory only; outputs use ``redacted``/``fingerprint``."""

    rule_id: str
    provider: str
    description: str
    path: str
    line: int
    column: int
    fingerprint: str
    redacted: str
    secret: str = field(repr=False)
    tracked: bool | None = None
    commit: str | None = None
    author_date: str | None = None
    in_working_tree: bool | None = None
    checksum: str = "n/a"
    replacement: str = ""
    xaa: bool = False  # the migration hint is an IdP-issued token (Cross-App Access / federation)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.rule_id)


@dataclass(slots=True)
class ScanStats:
    """What was read and what was skipped, for the summary line and warnings on stderr."""

    files: int = 0
    bytes: int = 0
    blobs: int = 0
    commits: int = 0
    skipped_binary: int = 0
    skipped_large: int = 0
    skipped_unreadable: int = 0
    skipped_symlinks: int = 0

    def add(self, other: ScanStats) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(slots=True)
class ScanResult:
    root: str
    mode: str  # "tree" | "history" | "staged"
    findings: list[Finding]
    stats: ScanStats


def parse_size(text: str) -> int:
    """``"5M"`` → bytes. Accepts plain bytes and k/m/g (binary) suffixes, with optional ``iB``/``B``."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"cannot read size {text!r}", hint="use a number of bytes or e.g. 512K, 5M, 1G")
    value = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if value <= 0:
        raise UsageError(f"size {text!r} must be positive")
    return value


def redact(secret: str) -> str:
    """A few leading characters only: at most 4, and never more than a quarter of the secret."""
    keep = min(4, len(secret) // 4)
    return secret[:keep] + "…" if keep else "…"
