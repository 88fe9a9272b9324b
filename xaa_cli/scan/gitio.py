"""Git plumbing through the ``git`` executable: tracked files, every blob of the history (each once, with
the commit that introduced it), staged blobs, and a persistent ``cat-file --batch`` reader. Stdlib only.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from xaa_cli.errors import UsageError

_ENV: Final = {"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
_NULL_SHA: Final = "0" * 40
_NO_GIT_HINT: Final = "install git or scan without --history/--staged"


@dataclass(frozen=True, slots=True)
class Blob:
    sha: str
    path: str  # POSIX, relative to the repository top level
    commit: str | None = None
    author_date: str | None = None
    size: int = 0


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(
            ["git", "-C", str(cwd), *args],
            input=stdin,
            capture_output=True,
            check=False,
            env={**os.environ, **_ENV},
        )
    except FileNotFoundError as exc:
        raise UsageError("git is not installed", hint=_NO_GIT_HINT) from exc
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {args[0]} failed: {reason[-1] if reason else proc.returncode}")
    return proc.stdout


def toplevel(path: Path) -> Path | None:
    """The work tree containing ``path``, or ``None`` outside git (or without git installed)."""
    directory = path if path.is_dir() else path.parent
    try:
        out = _git(directory, "rev-parse", "--show-toplevel")
    except UsageError:
        return None
    return Path(out.decode().strip())


def require_toplevel(path: Path) -> Path:
    top = toplevel(path)
    if top is None:
        raise UsageError(
            f"{path} is not inside a git repository", hint="--history and --staged need a git work tree"
        )
    return top


def tracked_files(root: Path) -> set[str] | None:
    """Tracked paths relative to ``root`` (a directory); ``None`` when ``root`` is not in a git work tree."""
    if toplevel(root) is None:
        return None
    out = _git(root, "ls-files", "-z")
    return {p for p in out.decode("utf-8", "surrogateescape").split("\0") if p}


def history_blobs(top: Path) -> tuple[list[Blob], int]:
    """Every blob reachable from any ref, once, with the oldest commit that introduced it."""
    args = (
        "log", "--all", "--reverse", "--raw", "--no-renames", "--no-abbrev", "-z",
        "--diff-merges=first-parent", "--format=%x01%H %aI",
    )  # fmt: skip
    seen: dict[str, Blob] = {}
    commits = 0
    pending = b""
    # streamed: the log of a long history never sits in memory whole, only the blob table does
    for chunk in _git_stream(top, *args):
        *complete, pending = (pending + chunk).split(b"\x01")
        commits += sum(_add_commit(record, seen) for record in complete)
    commits += _add_commit(pending, seen)
    return list(seen.values()), commits


def _add_commit(record: bytes, seen: dict[str, Blob]) -> int:
    """Record the blobs one ``%H %aI`` + raw-diff record introduces; 1 for a commit, 0 for nothing."""
    if not record:
        return 0
    header, _, rest = record.partition(b"\0")
    commit, _, date = header.decode().partition(" ")
    for sha, path in _raw_entries(rest):
        if sha not in seen:
            seen[sha] = Blob(sha, path, commit, date)
    return 1


def _git_stream(cwd: Path, *args: str, chunk: int = 1 << 20) -> Iterator[bytes]:
    """``git ARGS`` stdout in chunks; stderr goes to a temp file so a chatty git can never block."""
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                ["git", "-C", str(cwd), *args],
                stdout=subprocess.PIPE,
                stderr=errors,
                env={**os.environ, **_ENV},
            )
        except FileNotFoundError as exc:
            raise UsageError("git is not installed", hint=_NO_GIT_HINT) from exc
        with proc:
            stdout = proc.stdout
            while stdout is not None and (data := stdout.read(chunk)):
                yield data
        if proc.returncode != 0:
            errors.seek(0)
            reason = errors.read().decode("utf-8", "replace").strip().splitlines()
            raise UsageError(f"git {args[0]} failed: {reason[-1] if reason else proc.returncode}")


def staged_blobs(top: Path) -> list[Blob]:
    """Blobs added or modified in the index (what the next commit will contain)."""
    out = _git(top, "diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", "--diff-filter=ACMRT")
    return [Blob(sha, path) for sha, path in _raw_entries(out)]


def _raw_entries(raw: bytes) -> Iterator[tuple[str, str]]:
    """``:old new oldsha newsha status\\0path\\0`` records → (new blob sha, path) for regular files."""
    fields = raw.split(b"\0")
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.strip().lstrip(b":").split()
        if len(parts) < 5 or not parts[1].startswith(b"100"):
            continue  # deletions (mode 000000), submodules (160000) and symlinks (120000)
        sha = parts[3].decode()
        if sha != _NULL_SHA:
            yield sha, path.decode("utf-8", "surrogateescape")


def with_sizes(top: Path, blobs: list[Blob]) -> list[Blob]:
    """Fill in each blob's size with one ``cat-file --batch-check`` call."""
    if not blobs:
        return blobs
    out = _git(
        top,
        "cat-file",
        "--batch-check=%(objectname) %(objectsize)",
        stdin="\n".join(b.sha for b in blobs).encode() + b"\n",
    )
    sizes = {}
    for line in out.decode().splitlines():
        sha, _, size = line.partition(" ")
        if size.isdigit():
            sizes[sha] = int(size)
    return [Blob(b.sha, b.path, b.commit, b.author_date, sizes.get(b.sha, 0)) for b in blobs]


class CatFile:
    """A long-lived ``git cat-file --batch``: one process serves many blob reads."""

    def __init__(self, top: Path) -> None:
        self._proc = subprocess.Popen(
            ["git", "-C", str(top), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, **_ENV},
        )

    def read(self, sha: str) -> bytes | None:
        stdin, stdout = self._pipes()
        stdin.write(sha.encode() + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            return None
        size = int(header[2])
        data = stdout.read(size)
        stdout.read(1)  # the newline after each object
        return data

    def read_many(self, shas: Iterable[str]) -> Iterator[tuple[str, bytes | None]]:
        for sha in shas:
            yield sha, self.read(sha)

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        stdin, stdout = self._proc.stdin, self._proc.stdout
        if stdin is None or stdout is None:  # cannot happen: both are PIPE
            raise RuntimeError("git cat-file pipes are closed")
        return stdin, stdout

    def close(self) -> None:
        stdin, stdout = self._pipes()
        stdin.close()
        self._proc.wait()
        stdout.close()
