"""Work that runs in scanner worker processes: read a batch of files or git blobs, run the engine, and
return raw hits with line/column already resolved (the bytes never travel back). Stdlib only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from xaa_cli.scan.engine import Engine
from xaa_cli.scan.gitio import Blob, CatFile
from xaa_cli.scan.model import ScanStats
from xaa_cli.scan.rules import RuleSet
from xaa_cli.scan.walker import Entry

BINARY_SNIFF: Final = 8000  # git's heuristic: a NUL byte in the first 8000 bytes means binary


@dataclass(frozen=True, slots=True)
class RawHit:
    rule_id: str
    path: str
    line: int
    column: int
    secret: bytes
    checksum: str
    order: int = 0  # position of the blob in history order (the oldest introduction wins)


@dataclass(slots=True)
class _State:
    engine: Engine | None = None
    max_size: int = 0
    top: Path | None = None
    cat: CatFile | None = None


_STATE: Final = _State()


def init(ruleset: RuleSet, max_size: int, top: str | None = None) -> None:
    """Per-process set-up: compile the rules once (pool initializer, or in-process for small scans)."""
    _STATE.engine = Engine(ruleset.rules)
    _STATE.max_size = max_size
    _STATE.top = Path(top) if top else None
    finish()


def finish() -> None:
    """Release the ``git cat-file`` process (pool workers get this for free when they exit)."""
    if _STATE.cat is not None:
        _STATE.cat.close()
    _STATE.cat = None


def scan_files(batch: list[Entry]) -> tuple[list[RawHit], ScanStats]:
    stats = ScanStats()
    hits: list[RawHit] = []
    for entry in batch:
        try:
            with open(entry.path, "rb") as handle:
                data = handle.read(_STATE.max_size + 1)
        except OSError:
            stats.skipped_unreadable += 1
            continue
        hits.extend(_scan(data, entry.rel, stats))
    return hits, stats


def scan_blobs(batch: list[tuple[int, Blob]]) -> tuple[list[RawHit], ScanStats]:
    stats = ScanStats()
    hits: list[RawHit] = []
    if _STATE.cat is None:
        _STATE.cat = CatFile(_STATE.top or Path("."))
    for order, blob in batch:
        data = _STATE.cat.read(blob.sha)
        if data is None:
            stats.skipped_unreadable += 1
            continue
        found = _scan(data, blob.path, stats)
        stats.blobs += 1
        hits.extend(RawHit(h.rule_id, h.path, h.line, h.column, h.secret, h.checksum, order) for h in found)
    return hits, stats


def _scan(data: bytes, rel: str, stats: ScanStats) -> list[RawHit]:
    if len(data) > _STATE.max_size:
        stats.skipped_large += 1
        return []
    if b"\0" in data[:BINARY_SNIFF]:
        stats.skipped_binary += 1
        return []
    stats.files += 1
    stats.bytes += len(data)
    engine = _STATE.engine
    if engine is None:
        raise RuntimeError("worker.init() was not called")
    return [_locate(data, rel, h.rule.id, h.start, h.secret, h.checksum) for h in engine.scan(data, rel)]


def _locate(data: bytes, rel: str, rule_id: str, start: int, secret: bytes, checksum: str) -> RawHit:
    line = data.count(b"\n", 0, start) + 1
    line_start = data.rfind(b"\n", 0, start) + 1
    column = len(data[line_start:start].decode("utf-8", "replace")) + 1
    return RawHit(rule_id, rel, line, column, secret, checksum)
