"""uvicorn's httptools protocol with a size cap on the request head (request line + headers).

httptools (a regular dependency since issue 3's load goal, see pyproject.toml) parses far faster than h11,
but unlike h11 (``h11_max_incomplete_event_size``) it accepts a head of any size: a single client could
make a worker buffer megabytes of headers. This subclass counts the head as httptools delivers it and
answers 400 (uvicorn's answer to any parser error) once it passes ``MAX_HEAD_BYTES``. Imported only when
serving (runner.py)."""

from __future__ import annotations

import asyncio
from typing import Any, Final

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES: Final = 64 * 1024  # the limit h11 enforced before


class OneWritePerResponse:
    """A transport that holds a response's head until its body is written, so that the two leave in one
    ``send()``: uvicorn writes them separately, which with ``TCP_NODELAY`` means two loopback segments,
    two system calls and often two wake-ups of the client for every response. Anything else (a body, an
    interim ``100 Continue``, a whole error response) is written at once; ``flush`` and ``close`` send a
    head still held (a ``HEAD`` response has no body)."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._head is not None:
            data, self._head = self._head + data, None
        elif (
            data.endswith(b"\r\n\r\n")
            and data.startswith(b"HTTP/1.1 ")
            and not data.startswith(b"HTTP/1.1 1")
        ):
            self._head = data
            return
        self._transport.write(data)

    def flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _final_response_head(data: bytes) -> bool:
    """A status line and headers only, and not an interim (1xx) response the client must see at once."""
    return data.startswith(b"HTTP/1.1 ") and data.endswith(b"\r\n\r\n") and data[9:10] != b"1"


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    _head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(OneWritePerResponse(transport))  # type: ignore[arg-type]

    def on_response_complete(self) -> None:
        self.transport.flush()  # type: ignore[attr-defined]
        super().on_response_complete()

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
