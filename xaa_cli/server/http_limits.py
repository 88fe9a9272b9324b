"""uvicorn's httptools protocol with a size cap on the request head (request line + headers).

httptools (a regular dependency since issue 3's load goal, see pyproject.toml) parses far faster than h11,
but unlike h11 (``h11_max_incomplete_event_size``) it accepts a head of any size: a single client could
make a worker buffer megabytes of headers. This subclass counts the head as httptools delivers it and
answers 400 (uvicorn's answer to any parser error) once it passes ``MAX_HEAD_BYTES``. Imported only when
serving (runner.py)."""

from __future__ import annotations

from typing import Final

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES: Final = 64 * 1024  # the limit h11 enforced before


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    _head_bytes = 0

    def on_message_begin(self) -> None:
        self._head_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            # Raised inside a parser callback, it comes out of feed_data(); uvicorn answers 400 and closes.
            raise httptools.HttpParserError("the request head is too large")
