"""A ``.gitignore`` matcher (the documented subset git users rely on), so the walker skips what git skips.

Supported: comments, blank lines, ``!`` negation, trailing ``/`` (directories only), patterns with a
``/`` anchored to their file's directory, ``*``, ``?``, ``[...]`` and ``**`` (``**/x``, ``x/**``,
``a/**/b``), and the repository's ``.git/info/exclude``. Not supported: escaped trailing spaces,
``core.excludesFile``. Stdlib only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

MAX_IGNORE_FILE: Final = 256 * 1024


@dataclass(frozen=True, slots=True)
class Pattern:
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool
    base: str  # POSIX directory of the .gitignore, relative to the scan root ("" = root)


def translate(glob: str) -> str:
    """Turn a gitignore glob (without leading ``/``) into a regex body matching a relative path."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = glob.find("]", i + 2)
            if end < 0:
                out.append(re.escape(c))
                i += 1
            else:
                body = glob[i + 1 : end].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end + 1
        elif c == "\\" and i + 1 < len(glob):
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def parse(text: str, base: str) -> list[Pattern]:
    patterns: list[Pattern] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        line = line[1:] if negate else line
        line = line[1:] if line.startswith("\\") and line[1:2] in ("#", "!") else line
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        body = translate(line.lstrip("/"))
        regex = ("^" if anchored else "^(?:.*/)?") + body + "$"
        try:
            patterns.append(Pattern(re.compile(regex), negate, dir_only, base))
        except re.error:
            continue  # git ignores patterns it cannot parse; so do we
    return patterns


def load(directory: Path, base: str, *, name: str = ".gitignore") -> list[Pattern]:
    """Patterns from ``directory/.gitignore`` (or ``.git/info/exclude``); empty when absent or unreadable."""
    try:
        with (directory / name).open("rb") as handle:
            data = handle.read(MAX_IGNORE_FILE)
    except OSError:
        return []
    return parse(data.decode("utf-8", "replace"), base)


def is_ignored(patterns: list[Pattern], rel: str, *, is_dir: bool) -> bool:
    """Git's rule: the last matching pattern decides; ``!`` re-includes."""
    for pattern in reversed(patterns):
        if pattern.dir_only and not is_dir:
            continue
        sub = rel[len(pattern.base) + 1 :] if pattern.base else rel
        if pattern.base and not rel.startswith(pattern.base + "/"):
            continue
        if pattern.regex.match(sub):
            return not pattern.negate
    return False
