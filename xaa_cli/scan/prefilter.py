"""Keyword prefilter: find where rule keywords occur in a lower-cased buffer, so most rules never run.

Aho-Corasick (``pyahocorasick``, one pass for all keywords) when installed; otherwise one ``str.find``
sweep per keyword — same answers, about five times slower on ordinary code (benchmarks/scan_bench.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

#: Beyond this many hits, the keyword is "everywhere" and its rules scan the whole buffer instead.
MAX_HITS_PER_KEYWORD: Final = 2000


class Prefilter:
    """Maps a lower-cased text to ``{keyword index: [start offsets]}`` (offsets capped per keyword)."""

    def __init__(self, keywords: Sequence[str]) -> None:
        self.keywords = tuple(keywords)
        self._automaton: Any = _build_automaton(self.keywords)

    def hits(self, lowered: str) -> dict[int, list[int]]:
        if self._automaton is not None:
            return self._hits_automaton(lowered)
        return self._hits_find(lowered)

    def _hits_automaton(self, lowered: str) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        for end, (index, length) in self._automaton.iter(lowered):
            positions = found.get(index)
            if positions is None:
                found[index] = [end - length + 1]
            elif len(positions) <= MAX_HITS_PER_KEYWORD:
                positions.append(end - length + 1)
        return found

    def _hits_find(self, lowered: str) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        for index, keyword in enumerate(self.keywords):
            pos = lowered.find(keyword)
            if pos < 0:
                continue
            positions = found[index] = []
            while pos >= 0 and len(positions) <= MAX_HITS_PER_KEYWORD:
                positions.append(pos)
                pos = lowered.find(keyword, pos + 1)
        return found


def _build_automaton(keywords: Sequence[str]) -> Any:
    try:
        import ahocorasick
    except ImportError:  # optional speed-up; the fallback gives identical results
        return None
    automaton = ahocorasick.Automaton()
    for index, keyword in enumerate(keywords):
        automaton.add_word(keyword, (index, len(keyword)))
    if not keywords:
        return None
    automaton.make_automaton()
    return automaton
