"""Test support for the reference servers (``xaa dev serve``).

Fixtures (import them in a conftest or test module: ``from tests.support.server import *`` is not needed;
list the ones you use, e.g. ``from tests.support.server import dev_server, idp_client, provision``):

- ``dev_server`` -> ``DevServer``: a fresh in-process server per test (in-memory SQLite, auto-approve
  ``alice``). ``dev_server.client`` is a Starlette ``TestClient`` — a **sync ``httpx.Client``** whose base URL
  is ``dev_server.base_url`` (``http://127.0.0.1:8765``), so core protocol code can take it directly.
  Every absolute URL under that base reaches the app. Do not pass ``timeout=`` per request to a TestClient
  (Starlette warns, and warnings are errors here).
- ``make_dev_server(**options)`` (a fixture returning a factory): same, with ``policy=``, ``auto_approve=``,
  ``data_dir=``, ``clock=``, ``base_url=``.
- ``live_server`` -> ``DevServer`` (session-scoped, ``@pytest.mark.loopback`` tests): real uvicorn on
  127.0.0.1, port 0, background thread, its own in-memory state; never reads the test's XAA_HOME.
  ``live_server.client`` is a plain ``httpx.Client`` (no base URL magic: use absolute URLs).
- ``provision(server)`` (plain function, also the ``provision_dev`` fixture): writes the ``dev`` profile and
  the client's credentials into the *current* XAA_HOME config and secret store, as ``xaa dev serve`` does
  (``xaa_cli.cli.commands.dev.provision_dev_profile``). Returns the ``Profile``.
- ``DevServer`` fields: ``base_url``, ``idp_issuer``, ``app_issuer(name)``, ``resource(name)``, ``kit``
  (``ClientKit``: ``client_id``, ``secret``, ``private_jwk``, ``app_secrets``), ``admin_token``, ``policy``,
  ``runtime`` (in-process only), ``app_client_id(name)``.
- ``sign_in(server, user="alice", client=...)``: runs authorization code + PKCE against the IdP with the
  client's secret and returns the token response (``id_token``, ``refresh_token``...).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from xaa_cli.clock import Clock, SystemClock
from xaa_cli.server.credentials import ClientKit, new_client_kit
from xaa_cli.server.policy import DEFAULT_POLICY, Policy
from xaa_cli.server.runner import BackgroundServer, loopback_socket, settings_for
from xaa_cli.server.settings import Runtime, ServerSettings
from xaa_cli.storage.config import Profile

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient; plain httpx is what our core code uses.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

DEFAULT_BASE = "http://127.0.0.1:8765"


@dataclass
class DevServer:
    base_url: str
    policy: Policy
    kit: ClientKit
    admin_token: str
    client: httpx.Client
    settings: ServerSettings
    runtime: Runtime | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def idp_issuer(self) -> str:
        return f"{self.base_url}/idp"

    def app_issuer(self, name: str) -> str:
        return f"{self.base_url}/apps/{name}"

    def resource(self, name: str) -> str:
        return f"{self.base_url}/apps/{name}/api"

    def app_client_id(self, name: str) -> str:
        return self.policy.clients[self.kit.client_id].app_client_ids[name]

    def close(self) -> None:
        for close in reversed(self._closers):
            close()


def _kit(policy: Policy) -> ClientKit:
    return new_client_kit(next(c for c in policy.clients.values() if c.confidential))


def start_in_process(
    *,
    policy: Policy = DEFAULT_POLICY,
    auto_approve: str | None = "alice",
    data_dir: Path | None = None,
    clock: Clock | None = None,
    base_url: str = DEFAULT_BASE,
    kit: ClientKit | None = None,
    admin_token: str | None = None,
) -> DevServer:
    from dataclasses import replace

    from xaa_cli.server.app import create_app

    kit = kit or _kit(policy)
    admin_token = admin_token or secrets.token_urlsafe(24)
    settings = settings_for(
        base_url, policy, {kit.client_id: kit}, admin_token, data_dir=data_dir, auto_approve=auto_approve
    )
    settings = replace(settings, clock=clock or SystemClock())
    app = create_app(settings)
    client = TestClient(app, base_url=base_url, client=("127.0.0.1", 50000), follow_redirects=False)
    client.__enter__()  # runs the lifespan
    server = DevServer(base_url, policy, kit, admin_token, client, settings, app.state.runtime)
    server._closers.append(lambda: client.__exit__(None, None, None))
    return server


@pytest.fixture
def make_dev_server() -> Iterator[Callable[..., DevServer]]:
    started: list[DevServer] = []

    def make(**options: Any) -> DevServer:
        server = start_in_process(**options)
        started.append(server)
        return server

    yield make
    for server in started:
        server.close()


@pytest.fixture
def dev_server(make_dev_server: Callable[..., DevServer]) -> DevServer:
    return make_dev_server()


def start_live(
    *, policy: Policy = DEFAULT_POLICY, auto_approve: str | None = "alice", data_dir: Path | None = None
) -> DevServer:
    kit = _kit(policy)
    admin_token = secrets.token_urlsafe(24)
    sock = loopback_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = settings_for(
        base_url, policy, {kit.client_id: kit}, admin_token, data_dir=data_dir, auto_approve=auto_approve
    )
    background = BackgroundServer(settings, sock)
    background.start()
    client = httpx.Client(timeout=10.0, follow_redirects=False)
    server = DevServer(base_url, policy, kit, admin_token, client, settings)
    server._closers += [background.stop, client.close]
    return server


@pytest.fixture(scope="session")
def live_server() -> Iterator[DevServer]:
    server = start_live()
    yield server
    server.close()


def provision(server: DevServer) -> Profile:
    """Write the ``dev`` profile + credentials into the current XAA_HOME, as ``xaa dev serve`` does."""
    from xaa_cli.cli.commands.dev import provision_dev_profile
    from xaa_cli.cli.context import AppContext

    return provision_dev_profile(
        AppContext(), server.base_url, server.policy, {server.kit.client_id: server.kit}
    )


@pytest.fixture
def provision_dev(dev_server: DevServer) -> Profile:
    return provision(dev_server)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_code(
    server: DevServer,
    *,
    client_id: str,
    redirect_uri: str = "http://127.0.0.1:9/callback",
    scope: str = "openid email profile offline_access",
    user: str | None = None,
    authorize_url: str | None = None,
) -> tuple[str, str]:
    """Run the authorization request (auto-approve, or by posting the sign-in page as ``user``);
    returns ``(code, verifier)``."""
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": "st",
        "nonce": "n0",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    url = authorize_url or f"{server.idp_issuer}/authorize"
    if user is None:
        response = server.client.get(url, params=params)
    else:
        response = server.client.post(url, data={**params, "user": user})
    location = response.headers["location"]
    query = parse_qs(urlsplit(location).query)
    return query["code"][0], verifier


def sign_in(
    server: DevServer,
    user: str | None = None,
    *,
    scope: str = "openid email profile offline_access",
    redirect_uri: str = "http://127.0.0.1:9/callback",
) -> dict[str, Any]:
    """Authorization code + PKCE at the IdP for the policy's client (client_secret_basic)."""
    code, verifier = authorize_code(
        server, client_id=server.kit.client_id, scope=scope, user=user, redirect_uri=redirect_uri
    )
    response = server.client.post(
        f"{server.idp_issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(server.kit.client_id, server.kit.secret),
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body
