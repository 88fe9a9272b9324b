"""The live server's HTTP layer (uvicorn + httptools, a dependency since issue 3's load goal) still caps the
request head at 64 KiB, as h11 did: httptools itself accepts headers of any size."""

from __future__ import annotations

import contextlib
import socket
from urllib.parse import urlsplit

import pytest

from tests.support.server import DevServer


def _status_for_header(server: DevServer, size: int) -> bytes:
    parts = urlsplit(server.base_url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10) as sock:
        head = b"GET /idp/jwks HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * size + b"\r\n\r\n"
        with contextlib.suppress(OSError):  # the server may close early; its answer is still readable
            sock.sendall(head)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


@pytest.mark.loopback
def test_a_normal_head_is_served(live_server: DevServer) -> None:
    assert _status_for_header(live_server, 8 * 1024) == b"HTTP/1.1 200 OK"


@pytest.mark.loopback
def test_an_oversized_head_is_refused(live_server: DevServer) -> None:
    assert _status_for_header(live_server, 200 * 1024) == b"HTTP/1.1 400 Bad Request"


def test_the_server_uses_the_bounded_httptools_protocol() -> None:
    from xaa_cli.server.http_limits import BoundedHttpToolsProtocol
    from xaa_cli.server.runner import _http_protocol

    assert _http_protocol() is BoundedHttpToolsProtocol
