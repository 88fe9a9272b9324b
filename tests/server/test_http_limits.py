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


def _connect(server: DevServer) -> socket.socket:
    parts = urlsplit(server.base_url)
    return socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10)


def _read_response(sock: socket.socket, *, head_only: bool = False) -> bytes:
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = 0 if head_only else int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


class _Recording:
    """Stands in for the event loop's socket transport: what reaches the socket, one entry per write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"extra:{name}"


def test_head_and_body_leave_in_one_write() -> None:
    from xaa_cli.server.http_limits import OneWritePerResponse

    sent = _Recording()
    transport = OneWritePerResponse(sent)  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")  # uvicorn: the head...
    assert sent.writes == []
    transport.write(b"{}")  # ...then the body: together
    assert sent.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # an interim answer goes at once
    transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 1\r\n\r\nx")  # so does a whole one
    assert sent.writes[1:] == [
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 1\r\n\r\nx",
    ]
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")  # a HEAD answer: no body follows
    transport.flush()  # (the protocol flushes when the response is complete)
    transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    transport.close()  # closing sends what is held first
    assert sent.writes[3:] == [
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    ]
    assert sent.closed
    assert transport.get_extra_info("peername") == "extra:peername"  # everything else: the real transport


@pytest.mark.loopback
def test_a_head_response_without_body_still_leaves(live_server: DevServer) -> None:
    with _connect(live_server) as sock:
        sock.sendall(b"HEAD /idp/jwks HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_response(sock, head_only=True).startswith(b"HTTP/1.1 200 OK")
        sock.sendall(b"GET /idp/jwks HTTP/1.1\r\nHost: x\r\n\r\n")  # and the connection goes on
        assert b'"keys"' in _read_response(sock)


@pytest.mark.loopback
def test_an_interim_100_continue_is_not_held_back(live_server: DevServer) -> None:
    body = b"grant_type=client_credentials"
    with _connect(live_server) as sock:
        sock.sendall(
            b"POST /idp/token HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        assert _read_response(sock, head_only=True).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        final = _read_response(sock)
    assert final.startswith(b"HTTP/1.1 4")  # no client authentication: refused, but answered
    assert b'"error"' in final


@pytest.mark.loopback
def test_forwarded_headers_do_not_change_who_the_client_is(live_server: DevServer) -> None:
    """The server answers on its configured URLs and judges callers by their socket address only: an
    X-Forwarded-For from a loopback caller does not make it remote (nor a remote caller loopback), and no
    `server` header names the HTTP stack."""
    response = live_server.client.get(
        f"{live_server.idp_issuer}/admin/clients",
        headers={"Authorization": f"Bearer {live_server.admin_token}", "X-Forwarded-For": "203.0.113.7"},
    )
    assert response.status_code == 200
    assert "server" not in response.headers
