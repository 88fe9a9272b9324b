"""The detection engine: bytes in, candidate secrets out. Pure and stdlib-only (plus the optional
prefilter accelerator); no file system, no git.

Order of work per buffer (cheapest first, as gitleaks does): keyword prefilter → each triggered rule's
compiled regex, run only on the lines around keyword hits → entropy floor → filters → offline check →
inline ``xaa:allow``. Specific rules win over generic ones when their secrets overlap.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from xaa_cli.scan import checks, filters
from xaa_cli.scan.prefilter import MAX_HITS_PER_KEYWORD, Prefilter
from xaa_cli.scan.rules import Rule
from xaa_cli.scan.structured import DETECTORS, Candidate

WINDOW_BEFORE: Final = 256  # identifier + operator before a generic secret stay well inside this
WINDOW_AFTER: Final = 1024  # longest single-line tokens (Bedrock keys, JWTs) fit
Window = tuple[int, int]
REJECTED: Final = "rejected"


@dataclass(frozen=True, slots=True)
class Hit:
    rule: Rule
    start: int
    end: int
    secret: bytes
    checksum: str = "n/a"


class Engine:
    """Compiled rules plus the keyword prefilter; cheap to share across files (not across processes)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self.path_rules = tuple(r for r in self.rules if r.path_only)
        content = [r for r in self.rules if not r.path_only]
        keywords = sorted({k for r in content for k in r.keywords})
        self._prefilter = Prefilter(keywords)
        index = {k: i for i, k in enumerate(keywords)}
        self._by_keyword: list[list[int]] = [[] for _ in keywords]
        self._always: list[int] = []
        self._content = content
        for ri, rule in enumerate(content):
            for k in rule.keywords:
                self._by_keyword[index[k]].append(ri)
            if not rule.keywords:
                self._always.append(ri)
        self._order = {r.id: (r.generic, i) for i, r in enumerate(self.rules)}

    def scan(self, data: bytes, path: str) -> list[Hit]:
        """All accepted secrets in ``data`` (the file at POSIX ``path``), overlaps resolved."""
        lowered = data.lower().decode("latin-1")  # latin-1 keeps offsets identical to the bytes
        windows: dict[int, list[Window]] = {ri: [] for ri in self._always}
        everywhere: set[int] = set(self._always)
        for kw, positions in self._prefilter.hits(lowered).items():
            spans = _windows(data, positions)
            for ri in self._by_keyword[kw]:
                if len(positions) > MAX_HITS_PER_KEYWORD or self._content[ri].multiline:
                    everywhere.add(ri)
                windows.setdefault(ri, []).extend(spans)
        hits: list[Hit] = []
        for ri, spans in windows.items():
            rule = self._content[ri]
            if not rule.applies_to(path):
                continue
            merged = [(0, len(data))] if ri in everywhere else _merge(spans)
            hits.extend(self._run_rule(rule, data, merged))
        return self._resolve(hits)

    def _run_rule(self, rule: Rule, data: bytes, spans: list[Window]) -> Iterator[Hit]:
        if rule.detector is not None:
            candidates: Iterator[Candidate] = DETECTORS[rule.detector](data)
        else:
            candidates = _regex_candidates(rule, data, spans)
        seen: set[tuple[int, int]] = set()
        for start, end, secret in candidates:
            if (start, end) in seen:
                continue
            seen.add((start, end))
            hit = accept(rule, data, start, end, secret)
            if hit is not None:
                yield hit
            elif rule.validate is not None and not rule.generic:
                # a token of a known format that failed its offline check (e.g. a GitHub token with a
                # broken CRC): remember the span so a generic rule does not report it after all
                yield Hit(rule, start, end, secret, REJECTED)

    def _resolve(self, hits: list[Hit]) -> list[Hit]:
        hits.sort(key=lambda h: (*self._order[h.rule.id], h.start))
        kept: list[Hit] = []
        for hit in hits:
            if not any(hit.start < k.end and k.start < hit.end for k in kept):
                kept.append(hit)
        return sorted((h for h in kept if h.checksum != REJECTED), key=lambda h: h.start)


def accept(rule: Rule, data: bytes, start: int, end: int, secret: bytes) -> Hit | None:
    """Apply the rule's precision gates to one candidate; ``None`` when any of them rejects it."""
    if not secret or (rule.entropy and checks.shannon_entropy(secret) < rule.entropy):
        return None
    if any(filters.FILTER_FUNCS[name](secret) for name in rule.filters):
        return None
    if rule.stopwords:
        low = secret.lower()
        if any(word in low for word in rule.stopwords):
            return None
    if any(p.search(secret) for p in rule.allow_regexes):
        return None
    checksum = "n/a"
    if rule.validate is not None:
        if not checks.CHECKS[rule.validate](secret):
            return None
        if rule.validate in checks.CHECKSUMS:
            checksum = "valid"
    if filters.line_allows(data, start, end):
        return None
    return Hit(rule, start, end, secret, checksum)


def _regex_candidates(rule: Rule, data: bytes, spans: list[Window]) -> Iterator[Candidate]:
    regex, group = rule.regex, rule.secret_group
    if regex is None:
        return
    for lo, hi in spans:
        for match in regex.finditer(data, lo, hi):
            g = group if group is not None else _first_group(match.groups())
            if match.group(g) is None:
                continue
            yield match.start(g), match.end(g), match.group(g)


def _first_group(groups: tuple[bytes | None, ...]) -> int:
    for i, value in enumerate(groups, start=1):
        if value:
            return i
    return 0


def _windows(data: bytes, positions: list[int]) -> list[Window]:
    """The line around each keyword hit, clipped to a bounded window for very long lines."""
    spans: list[Window] = []
    last_end = -1
    for pos in positions:
        if pos < last_end:
            continue  # same line as the previous hit
        lo = max(data.rfind(b"\n", 0, pos) + 1, pos - WINDOW_BEFORE)
        hi = data.find(b"\n", pos)
        hi = len(data) if hi < 0 else hi
        hi = min(hi, pos + WINDOW_AFTER)
        spans.append((lo, hi))
        last_end = hi
    return spans


def _merge(spans: list[Window]) -> list[Window]:
    spans.sort()
    merged: list[Window] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged
