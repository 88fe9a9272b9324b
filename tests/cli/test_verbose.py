"""The global --verbose flag, end to end: the AppContext's real client against a real server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import typer
from typer.testing import CliRunner

from xaa_cli.cli.app import XaaGroup, root
from xaa_cli.cli.context import get_ctx
from xaa_cli.core.redact import fingerprint

ACCESS = "at-" + "verbose-canary-91x"
CLIENT_SECRET = "cs-" + "verbose-canary-27q"


class TokenHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        body = json.dumps({"access_token": ACCESS, "token_type": "Bearer", "expires_in": 60}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def probe() -> typer.Typer:
    cli = typer.Typer(cls=XaaGroup, add_completion=False, pretty_exceptions_enable=False)
    cli.callback()(root)

    @cli.command("post")
    def post(ctx: typer.Context, url: str) -> None:
        response = (
            get_ctx(ctx)
            .http()
            .post(url, data={"grant_type": "client_credentials", "client_secret": CLIENT_SECRET})
        )
        typer.echo(response.json()["token_type"])

    return cli


@pytest.mark.loopback
def test_verbose_traces_on_stderr_with_secrets_redacted(runner: CliRunner, server_url: str) -> None:
    result = runner.invoke(probe(), ["--verbose", "post", f"{server_url}/token"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Bearer\n"  # the trace never reaches stdout
    assert f"> POST {server_url}/token" in result.stderr
    assert "< 200 OK" in result.stderr
    assert "grant_type=client_credentials" in result.stderr
    assert ACCESS not in result.stderr
    assert CLIENT_SECRET not in result.stderr
    assert fingerprint(ACCESS, 8) in result.stderr
    assert fingerprint(CLIENT_SECRET, 8) in result.stderr


@pytest.mark.loopback
def test_no_trace_without_verbose(runner: CliRunner, server_url: str) -> None:
    result = runner.invoke(probe(), ["post", f"{server_url}/token"])
    assert result.exit_code == 0
    assert result.stderr == ""
