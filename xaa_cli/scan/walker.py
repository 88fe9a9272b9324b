"""Walk a directory like git does: honour ``.gitignore`` for ordinary files, but always yield env and
credential files (the inventory's point), never leave the tree through a symlink unless asked, and
survive loops, unreadable entries and odd names. Stdlib only; reads no file contents.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from xaa_cli.scan import gitignore
from xaa_cli.scan.model import ScanOptions, ScanStats

#: Always scanned, even when gitignored: these files are where static secrets live.
CREDENTIAL_FILES: Final = re.compile(
    r"""(?ix)^(?:
        \.env(?:\..*)? | .*\.env | \.envrc | .*\.tfvars(?:\.json)? | .*\.tfstate(?:\.backup)?
      | credentials(?:\.\w+)? | .*\.pem | .*\.key | id_(?:rsa|dsa|ecdsa|ed25519)
      | \.npmrc | \.pypirc | [._]netrc | \.git-credentials | \.dockercfg | .*\.p12 | .*\.pfx
      | .*kubeconfig | secrets?\.(?:ya?ml|json|toml|env) | \.htpasswd | service[-_]?account.*\.json
    )$"""
)
#: Never entered: dependency trees and tool caches (huge, third-party, not the inventory).
SKIP_DIRS: Final = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox",
     ".mypy_cache", ".ruff_cache", ".pytest_cache", ".terraform", "site-packages"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Entry:
    path: str  # absolute file system path
    rel: str  # POSIX, relative to the scan root
    size: int


class Walker:
    def __init__(self, root: Path, options: ScanOptions, stats: ScanStats) -> None:
        self.root = root
        self.options = options
        self.stats = stats
        self._seen_dirs: set[tuple[int, int]] = set()
        self._excludes = [
            re.compile(gitignore.translate(p.strip("/")) + "(?:/|$)") for p in options.exclude_paths
        ]

    def files(self) -> Iterator[Entry]:
        if self.root.is_file():
            size = self.root.stat().st_size
            yield Entry(str(self.root), self.root.name, size)
            return
        patterns: list[gitignore.Pattern] = []
        if self.options.respect_gitignore:
            patterns = gitignore.load(self.root / ".git" / "info", "", name="exclude") + gitignore.load(
                self.root, ""
            )
        yield from self._walk(str(self.root), "", patterns, credentials_only=False)

    def _walk(
        self, path: str, rel: str, patterns: list[gitignore.Pattern], *, credentials_only: bool
    ) -> Iterator[Entry]:
        try:
            st = os.stat(path)
            if (st.st_dev, st.st_ino) in self._seen_dirs:
                return  # a symlink loop or a second link to the same directory
            self._seen_dirs.add((st.st_dev, st.st_ino))
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            self.stats.skipped_unreadable += 1
            return
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            if any(x.match(child) for x in self._excludes):
                continue
            yield from self._entry(entry, child, patterns, credentials_only=credentials_only)

    def _entry(
        self, entry: os.DirEntry[str], rel: str, patterns: list[gitignore.Pattern], *, credentials_only: bool
    ) -> Iterator[Entry]:
        try:
            if entry.is_symlink():
                if not self.options.follow_symlinks:
                    self.stats.skipped_symlinks += 1
                    return
                st = os.stat(entry.path)  # follows the link; raises on a dangling one
            else:
                st = entry.stat(follow_symlinks=False)
        except OSError:
            self.stats.skipped_unreadable += 1
            return
        if stat.S_ISDIR(st.st_mode):
            if entry.name in SKIP_DIRS:
                return
            ignored = credentials_only or gitignore.is_ignored(patterns, rel, is_dir=True)
            child_patterns = patterns
            if self.options.respect_gitignore and not ignored:
                child_patterns = patterns + gitignore.load(Path(entry.path), rel)
            yield from self._walk(entry.path, rel, child_patterns, credentials_only=ignored)
        elif stat.S_ISREG(st.st_mode):
            wanted = CREDENTIAL_FILES.match(entry.name) is not None
            if not wanted and (credentials_only or gitignore.is_ignored(patterns, rel, is_dir=False)):
                return
            yield Entry(entry.path, rel, st.st_size)
