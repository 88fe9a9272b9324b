"""Structured detectors: credentials that a single regex cannot pin down.

``kubernetes-secret`` walks each YAML document that declares ``kind: Secret`` and yields every value under
``data:`` (base64-decoded: the decoded value is the secret) and ``stringData:``. Stdlib only, line-based
(no YAML parser): indentation decides what belongs to the block.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from typing import Final

# (start, end, secret): offsets locate the value in the file; secret is what gets fingerprinted.
Candidate = tuple[int, int, bytes]

_DOC_SPLIT: Final = re.compile(rb"^---[^\n]*$", re.MULTILINE)
_KIND_SECRET: Final = re.compile(rb"^kind:\s*[\"']?Secret[\"']?\s*$", re.MULTILINE)
_BLOCK: Final = re.compile(rb"^([ \t]*)(data|stringData):[ \t\r]*$", re.MULTILINE)
# key: "quoted" | 'quoted' | plain (a '#' inside a plain value is data; after whitespace it is a comment)
_ENTRY: Final = re.compile(
    rb"""^([ \t]+)([\w.-]+):[ \t]*(?:"([^"\n]*)"|'([^'\n]*)'|([^\s#"'][^\s]*))[ \t]*(?:\#.*)?$"""
)
_NOT_SECRET_KEY: Final = re.compile(
    rb"(?i)^(?:user(?:name)?|login|email|host(?:name)?|port|db|database|namespace|url|endpoint|region)$"
)


def kubernetes_secret(data: bytes) -> Iterator[Candidate]:
    """Values of ``data``/``stringData`` in ``kind: Secret`` manifests."""
    separators = list(_DOC_SPLIT.finditer(data))
    starts = [0, *(m.end() for m in separators)]
    ends = [*(m.start() for m in separators), len(data)]
    for start, end in zip(starts, ends, strict=True):
        doc = data[start:end]
        if _KIND_SECRET.search(doc):
            yield from _doc_values(doc, start)


def _doc_values(doc: bytes, base: int) -> Iterator[Candidate]:
    for block in _BLOCK.finditer(doc):
        indent, encoded = len(block.group(1)), block.group(2) == b"data"
        pos = block.end() + 1
        while pos < len(doc):
            end = doc.find(b"\n", pos)
            end = len(doc) if end < 0 else end
            line = doc[pos:end].rstrip(b"\r")  # CRLF files
            entry = _ENTRY.match(line)
            if line.strip() and (not entry or len(entry.group(1)) <= indent):
                break
            if entry and not _NOT_SECRET_KEY.match(entry.group(2)):
                group = next(g for g in (3, 4, 5) if entry.group(g) is not None)
                value = entry.group(group)
                secret = _decode(value) if encoded else value
                if secret:
                    yield base + pos + entry.start(group), base + pos + entry.end(group), secret
            pos = end + 1


def _decode(value: bytes) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True).strip() or None
    except (ValueError, binascii.Error):
        return None


DETECTORS: Final[dict[str, Callable[[bytes], Iterator[Candidate]]]] = {
    "kubernetes-secret": kubernetes_secret,
}
