"""Orchestration: enumerate what to read (working tree, git history, staged index), spread the work over
processes, and turn raw hits into ``Finding``s with hints, tracked flags and history details. Stdlib only.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final, TypeVar

from xaa_cli.errors import UsageError
from xaa_cli.scan import gitio, worker
from xaa_cli.scan.gitio import Blob
from xaa_cli.scan.hints import hint_for
from xaa_cli.scan.model import Finding, ScanOptions, ScanResult, ScanStats, redact
from xaa_cli.scan.rules import RuleSet
from xaa_cli.scan.walker import Entry, Walker
from xaa_cli.scan.worker import RawHit

Progress = Callable[[int, int], None]  # (bytes done, bytes total)
T = TypeVar("T")

BATCH_BYTES: Final = 1024 * 1024
BATCH_ITEMS: Final = 256
#: Below this much input one process is faster than starting workers.
PARALLEL_THRESHOLD: Final = 4 * 1024 * 1024
MAX_PRESENCE_READ: Final = 64 * 1024 * 1024  # "is the secret still there?" reads at most this much


class Scanner:
    """Scans with one rule set and one set of options; every public method returns a ``ScanResult``."""

    def __init__(self, ruleset: RuleSet, options: ScanOptions | None = None) -> None:
        self.ruleset = ruleset
        self.options = options or ScanOptions()
        self._rules = ruleset.by_id()

    # ------------------------------------------------------------------ working tree
    def scan_tree(self, root: Path, progress: Progress | None = None) -> ScanResult:
        root = _existing(root)
        stats = ScanStats()
        entries = [e for e in Walker(root, self.options, stats).files() if not self._globally_allowed(e.rel)]
        wanted: list[Entry] = []
        path_hits: list[RawHit] = []
        for entry in entries:
            if entry.size > self.options.max_file_size:
                stats.skipped_large += 1
                continue
            path_hits.extend(self._path_rule_hits(entry))
            wanted.append(entry)
        raw = path_hits + self._run(worker.scan_files, wanted, lambda e: e.size, stats, progress, top=None)
        tracked = gitio.tracked_files(root if root.is_dir() else root.parent)
        findings = [self._finding(h, tracked=None if tracked is None else h.path in tracked) for h in raw]
        return ScanResult(str(root), "tree", sorted(findings, key=Finding.sort_key), stats)

    # ------------------------------------------------------------------ history
    def scan_history(self, root: Path, progress: Progress | None = None) -> ScanResult:
        root = _existing(root)
        top = gitio.require_toplevel(root)
        blobs, commits = gitio.history_blobs(top)
        stats = ScanStats(commits=commits)
        prefix = _prefix(top, root)
        blobs = gitio.with_sizes(top, self._wanted_blobs(blobs, prefix))
        raw = self._run_blobs(top, blobs, stats, progress)
        tracked = gitio.tracked_files(top) or set()
        best: dict[tuple[str, str, bytes], RawHit] = {}
        for hit in raw:  # one finding per (rule, path, secret): the commit that introduced it
            key = (hit.rule_id, hit.path, hit.secret)
            if key not in best or hit.order < best[key].order:
                best[key] = hit
        findings = []
        for hit in best.values():
            blob = blobs[hit.order]
            findings.append(
                self._finding(
                    hit,
                    tracked=blob.path in tracked,
                    commit=blob.commit,
                    author_date=blob.author_date,
                    in_working_tree=_still_present(top / blob.path, hit.secret),
                    strip=prefix,
                )
            )
        return ScanResult(str(root), "history", sorted(findings, key=Finding.sort_key), stats)

    # ------------------------------------------------------------------ staged
    def scan_staged(self, root: Path, progress: Progress | None = None) -> ScanResult:
        root = _existing(root)
        top = gitio.require_toplevel(root)
        stats = ScanStats()
        prefix = _prefix(top, root)
        blobs = gitio.with_sizes(top, self._wanted_blobs(gitio.staged_blobs(top), prefix))
        raw = self._run_blobs(top, blobs, stats, progress)
        findings = [self._finding(h, tracked=True, strip=prefix) for h in raw]
        return ScanResult(str(root), "staged", sorted(findings, key=Finding.sort_key), stats)

    # ------------------------------------------------------------------ helpers
    def _wanted_blobs(self, blobs: Iterable[Blob], prefix: str) -> list[Blob]:
        out = []
        for blob in blobs:
            if prefix and not blob.path.startswith(prefix):
                continue
            if self._globally_allowed(blob.path):
                continue
            out.append(blob)
        return out

    def _run_blobs(
        self, top: Path, blobs: list[Blob], stats: ScanStats, progress: Progress | None
    ) -> list[RawHit]:
        kept: list[tuple[int, Blob]] = []
        for order, blob in enumerate(blobs):
            if blob.size > self.options.max_file_size:
                stats.skipped_large += 1
            else:
                kept.append((order, blob))
        return self._run(worker.scan_blobs, kept, lambda ob: ob[1].size, stats, progress, top=str(top))

    def _run(
        self,
        func: Callable[[list[T]], tuple[list[RawHit], ScanStats]],
        items: Sequence[T],
        size_of: Callable[[T], int],
        stats: ScanStats,
        progress: Progress | None,
        *,
        top: str | None,
    ) -> list[RawHit]:
        total = sum(size_of(i) for i in items)
        batches = list(_batches(items, size_of))
        jobs = self.options.jobs or os.cpu_count() or 1
        init_args = (self.ruleset, self.options.max_file_size, top)
        results: Iterator[tuple[list[RawHit], ScanStats]]
        if jobs <= 1 or total < PARALLEL_THRESHOLD or len(batches) < 2:
            worker.init(*init_args)
            try:
                return self._collect((func(b) for b in batches), batches, size_of, stats, progress, total)
            finally:
                worker.finish()
        with _context().Pool(min(jobs, len(batches)), initializer=worker.init, initargs=init_args) as pool:
            results = pool.imap(func, batches)
            hits = self._collect(results, batches, size_of, stats, progress, total)
        return hits

    @staticmethod
    def _collect(
        results: Iterator[tuple[list[RawHit], ScanStats]],
        batches: list[list[Any]],
        size_of: Callable[[Any], int],
        stats: ScanStats,
        progress: Progress | None,
        total: int,
    ) -> list[RawHit]:
        hits: list[RawHit] = []
        done = 0
        for batch, (found, batch_stats) in zip(batches, results, strict=True):
            hits.extend(found)
            stats.add(batch_stats)
            done += sum(size_of(i) for i in batch)
            if progress is not None:
                progress(done, total)
        return hits

    def _globally_allowed(self, rel: str) -> bool:
        return any(p.search(rel) for p in self.ruleset.allow_paths)

    def _path_rule_hits(self, entry: Entry) -> Iterator[RawHit]:
        for rule in self.ruleset.rules:
            if rule.path_only and rule.applies_to(entry.rel):
                try:
                    with open(entry.path, "rb") as handle:
                        content = handle.read(self.options.max_file_size)
                except OSError:
                    continue
                yield RawHit(rule.id, entry.rel, 1, 1, content, "n/a")

    def _finding(
        self,
        hit: RawHit,
        *,
        tracked: bool | None,
        commit: str | None = None,
        author_date: str | None = None,
        in_working_tree: bool | None = None,
        strip: str = "",
    ) -> Finding:
        rule = self._rules[hit.rule_id]
        secret = hit.secret.decode("utf-8", "replace")
        path = hit.path[len(strip) :] if strip and hit.path.startswith(strip) else hit.path
        return Finding(
            rule_id=rule.id,
            provider=rule.provider,
            description=rule.description,
            path=path,
            line=hit.line,
            column=hit.column,
            fingerprint=hashlib.sha256(hit.secret).hexdigest(),
            redacted=redact(secret) if not rule.path_only else "(file)",
            secret=secret if not rule.path_only else f"(binary file, {len(hit.secret)} bytes)",
            tracked=tracked,
            commit=commit,
            author_date=author_date,
            in_working_tree=in_working_tree,
            checksum=hit.checksum,
            replacement=hint_for(rule.provider).replacement,
            xaa=hint_for(rule.provider).xaa,
        )


def _existing(root: Path) -> Path:
    if not root.exists():
        raise UsageError(f"{root} does not exist", hint="pass a directory or file to scan")
    return root.resolve()


def _prefix(top: Path, root: Path) -> str:
    rel = root.relative_to(top.resolve()).as_posix()
    return "" if rel == "." else rel + "/"


def _still_present(path: Path, secret: bytes) -> bool:
    try:
        with path.open("rb") as handle:
            return secret in handle.read(MAX_PRESENCE_READ)
    except OSError:
        return False


def _batches(items: Sequence[T], size_of: Callable[[T], int]) -> Iterator[list[T]]:
    batch: list[T] = []
    size = 0
    for item in items:
        batch.append(item)
        size += size_of(item)
        if size >= BATCH_BYTES or len(batch) >= BATCH_ITEMS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _context() -> Any:
    # fork is fastest (workers inherit compiled rules); avoid it when threads exist or off Linux.
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
