"""The loopback redirect listener for the browser sign-in (RFC 8252 §7.3, §8.3).

Binds ``127.0.0.1`` on an ephemeral port (never ``localhost``, which may resolve elsewhere), accepts the one
redirect to ``/callback``, and closes. Everything else gets a 404, so a stray request cannot end the login.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from xaa_cli.errors import LoginRequired

CALLBACK_PATH: Final = "/callback"
DONE_PAGE: Final = (
    b"<!doctype html><html><head><meta charset='utf-8'><title>xaa</title></head>"
    b"<body><p>Sign-in finished. You can close this window and return to the terminal.</p></body></html>"
)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH or self.server.result is not None:
            self.send_error(404)
            return
        self.server.result = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(DONE_PAGE)))
        self.end_headers()
        self.wfile.write(DONE_PAGE)
        self.server.done.set()

    def log_message(self, format: str, *args: object) -> None:  # noqa: ARG002
        return  # the query string holds the code: never log it


class _Server(HTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.result: dict[str, str] | None = None
        self.done = threading.Event()


class LoopbackRedirect:
    """``with LoopbackRedirect() as cb: ... cb.redirect_uri ... cb.wait(timeout)``."""

    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{CALLBACK_PATH}"

    def __enter__(self) -> LoopbackRedirect:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait(self, timeout: float) -> dict[str, str]:
        """The redirect's query parameters; ``LoginRequired`` if nobody came back within ``timeout``."""
        if not self._server.done.wait(timeout) or self._server.result is None:
            raise LoginRequired(
                f"no answer from the browser within {int(timeout)} s",
                hint="run `xaa login` again, or `xaa login --device` on a machine without a browser",
            )
        return self._server.result
