"""Drive the real ``xaa`` CLI (in-process, CliRunner) against a real reference server.

In-process servers are reached through their Starlette transport wrapped so that each CLI invocation can
close its own ``httpx.Client`` without closing the server; every request is counted, so a test can prove
that a cache hit made no network call. The browser is a function that follows the sign-in URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from click.testing import Result
from typer.testing import CliRunner

from tests.support.server import DevServer
from xaa_cli.cli.app import app
from xaa_cli.cli.context import AppContext
from xaa_cli.clock import Clock
from xaa_cli.core.http import make_client


class SharedTransport(httpx.BaseTransport):
    """Delegates to the server's transport; closing it does not stop the server."""

    def __init__(self, inner: httpx.BaseTransport, seen: list[str]) -> None:
        self.inner, self.seen = inner, seen

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.copy_with(query=None)}")
        return self.inner.handle_request(request)

    def close(self) -> None:
        return None


@dataclass
class Xaa:
    server: DevServer
    clock: Clock
    home: Path
    in_process: bool = True
    requests: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    runner: CliRunner = field(default_factory=CliRunner)

    def follow(self, url: str) -> bool:
        """The 'browser': load the sign-in URL (auto-approved) and follow the redirect to the loopback."""
        self.opened.append(url)
        location = url
        for _ in range(10):  # the app's sign-in goes through the IdP and back (issue 9)
            if self.in_process:
                response = self.server.client.get(location)
            else:
                response = httpx.get(location, follow_redirects=False, timeout=10)
            location = response.headers["location"]
            if not location.startswith(self.server.base_url + "/"):
                break
        assert location.startswith("http://127.0.0.1:")
        httpx.get(location, timeout=10)  # the real loopback listener of xaa
        return True

    def __call__(self, *args: str, input: str | None = None) -> Result:
        actx = AppContext(clock=self.clock, open_browser=self.follow, sleep=lambda _s: None)
        if self.in_process:
            inner = self.server.client._transport  # the Starlette app, in-process
            actx._client = make_client(transport=SharedTransport(inner, self.requests))
        return self.runner.invoke(app, list(args), obj=actx, input=input)

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self(*args, input=input)
        assert result.exit_code == 0, (
            f"{args}: exit {result.exit_code}\n{result.stderr}\n{result.exception!r}"
        )
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "-o", "json").stdout)

    def whoami(self, app_name: str, token: str) -> httpx.Response:
        url = f"{self.server.resource(app_name)}/whoami"
        headers = {"Authorization": f"Bearer {token}"}
        if self.in_process:
            return self.server.client.get(url, headers=headers)
        return httpx.get(url, headers=headers, timeout=10)

    def files_text(self) -> str:
        """Everything xaa wrote under XAA_HOME except the token cache and the opt-in secret file."""
        parts = []
        for path in sorted(self.home.rglob("*")):
            if path.is_file() and path.name not in ("tokens.json", "secrets.json"):
                parts.append(path.read_text("utf-8", "replace"))
        return "\n".join(parts)
