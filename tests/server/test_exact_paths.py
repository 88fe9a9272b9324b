"""Exact-path dispatch (``ExactPaths`` in server/app.py): the (method, path) table that bypasses Starlette's
router must answer exactly as the router does, and only ever hold routes without id parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import xaa_cli.server.app as app_module
from tests.server.helpers import JB, TE, app_auth, bearer, id_jag, idp_auth, jwt_bearer
from tests.support.server import DevServer, sign_in
from xaa_cli.server.app import Endpoint, ExactPaths, _exact_table, _routes
from xaa_cli.server.policy import DEFAULT_POLICY
from xaa_cli.server.settings import Runtime, ServerSettings

BASE = "http://127.0.0.1:8765"


@pytest.fixture
def table() -> Iterator[dict[tuple[str, str], Endpoint]]:
    rt = Runtime(ServerSettings(base_url=BASE))
    try:
        yield _exact_table(rt, _routes())
    finally:
        rt.store.close()


def test_the_table_holds_the_hot_routes_for_every_app(table: dict[tuple[str, str], Endpoint]) -> None:
    assert ("POST", "/idp/token") in table
    assert ("GET", "/idp/jwks") in table
    assert ("GET", "/idp/.well-known/openid-configuration") in table
    assert ("GET", "/idp/authorize") in table
    assert ("POST", "/idp/authorize") in table  # a route with two methods is in under both
    assert ("GET", "/idp/admin/clients") in table  # admin routes without ids are fine
    assert DEFAULT_POLICY.apps
    for name in DEFAULT_POLICY.apps:
        token = table[("POST", f"/apps/{name}/token")]
        assert token.path_params == {"name": name}  # the app's handler finds its app
        assert table[("GET", f"/apps/{name}/api/whoami")].path_params == {"name": name}
        assert ("GET", f"/.well-known/oauth-authorization-server/apps/{name}") in table
    app_paths = [path for _, path in table if path.startswith("/apps/")]
    assert {path.split("/")[2] for path in app_paths} == set(DEFAULT_POLICY.apps)  # the policy's apps only


def test_the_table_leaves_routes_with_ids_to_the_router(table: dict[tuple[str, str], Endpoint]) -> None:
    paths = {path for _, path in table}
    assert not [p for p in paths if "{" in p or "}" in p]
    assert not [p for p in paths if p.startswith(("/idp/admin/clients/", "/idp/admin/users/"))]
    assert not [p for p in paths if "/admin/clients/" in p]  # the apps' revoke-tokens route
    assert not [key for key in table if key[0] == "HEAD"]  # Starlette answers HEAD (and its Allow lists)
    with_ids = [spec.path for spec in _routes() if "{" in spec.path.replace("{name}", "")]
    assert len(with_ids) == 4  # client disable/enable, user refresh-token revocation, app revoke-tokens


# ------------------------------------------------------------------ both dispatch paths, same answers
class _Recording(Mapping[tuple[str, str], Endpoint]):
    """The ExactPaths table, noting every (method, path) it served: proof the fast path was taken."""

    def __init__(self, table: Mapping[tuple[str, str], Endpoint]) -> None:
        self._table = table
        self.served: list[tuple[str, str]] = []

    def __getitem__(self, key: tuple[str, str]) -> Endpoint:
        return self._table[key]

    def get(self, key: tuple[str, str], default: Any = None) -> Any:
        found = self._table.get(key, default)
        if found is not None:
            self.served.append(key)
        return found

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


def _exact_paths(server: DevServer) -> ExactPaths:
    node: Any = server.client.app.middleware_stack  # type: ignore[attr-defined]
    while node is not None and not isinstance(node, ExactPaths):
        node = getattr(node, "app", None)
    assert node is not None, "no ExactPaths in the middleware stack"
    return node


@dataclass
class Pair:
    exact: DevServer
    routed: DevServer
    recording: _Recording


@pytest.fixture
def pair(tmp_path: Path, make_dev_server: Callable[..., DevServer], monkeypatch: pytest.MonkeyPatch) -> Pair:
    """The same server twice on one data directory (same signing keys, same state): once with the table,
    once with the table emptied so Starlette's router serves every request."""
    exact = make_dev_server(data_dir=tmp_path)
    with monkeypatch.context() as patch:
        patch.setattr(app_module, "_exact_table", lambda _rt, _specs: {})
        routed = make_dev_server(data_dir=tmp_path, kit=exact.kit, admin_token=exact.admin_token)
    assert len(_exact_paths(routed).table) == 0
    fast = _exact_paths(exact)
    assert ("POST", "/idp/token") in fast.table
    recording = _Recording(fast.table)
    fast.table = recording
    return Pair(exact, routed, recording)


def _snapshot(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    return response.status_code, response.content, sorted(response.headers.multi_items())


Call = Callable[[DevServer], httpx.Response]


def _requests() -> dict[str, tuple[Call, int, bool]]:
    """name -> (request, expected status, served by the table?)."""

    def admin(server: DevServer) -> dict[str, str]:
        return bearer(server.admin_token)

    def exchange_with_wrong_secret(s: DevServer) -> httpx.Response:
        data = {"grant_type": TE, "subject_token": "x", "subject_token_type": "y"}
        return s.client.post(f"{s.idp_issuer}/token", data=data, auth=(s.kit.client_id, "wrong"))

    return {
        "metadata": (lambda s: s.client.get(f"{s.idp_issuer}/.well-known/openid-configuration"), 200, True),
        "app metadata": (
            lambda s: s.client.get(f"{s.base_url}/.well-known/oauth-authorization-server/apps/trello"),
            200,
            True,
        ),
        "jwks": (lambda s: s.client.get(f"{s.idp_issuer}/jwks"), 200, True),
        "app jwks": (lambda s: s.client.get(f"{s.app_issuer('slack')}/jwks"), 200, True),
        "invalid_client": (exchange_with_wrong_secret, 401, True),
        "jwt-bearer error": (lambda s: jwt_bearer(s, "not-a-jwt"), 400, True),
        "json body": (
            lambda s: s.client.post(
                f"{s.idp_issuer}/token",
                content=b'{"grant_type": "x"}',
                headers={"content-type": "application/json"},
            ),
            400,
            True,
        ),
        "query string": (
            lambda s: s.client.get(f"{s.idp_issuer}/admin/clients", params={"x": "é"}, headers=admin(s)),
            200,
            True,
        ),
        "whoami without token": (lambda s: s.client.get(f"{s.resource('trello')}/whoami"), 401, True),
        "html page": (
            lambda s: s.client.get(f"{s.idp_issuer}/device", params={"user_code": "AB"}),
            200,
            True,
        ),
        "unknown app": (
            lambda s: s.client.post(f"{s.base_url}/apps/nope/token", data={"a": "b"}),
            404,
            False,
        ),
        "unknown path": (lambda s: s.client.get(f"{s.base_url}/nowhere"), 404, False),
        "wrong method": (lambda s: s.client.get(f"{s.idp_issuer}/token"), 405, False),
        "wrong method at an app": (lambda s: s.client.delete(f"{s.app_issuer('trello')}/jwks"), 405, False),
        "admin route with an id": (
            lambda s: s.client.post(f"{s.idp_issuer}/admin/clients/nobody/disable", headers=admin(s)),
            404,
            False,
        ),
        "admin route with an id, no credential": (
            lambda s: s.client.post(f"{s.idp_issuer}/admin/clients/xaa-agent/disable"),
            401,
            False,
        ),
        "app admin route with an id": (
            lambda s: s.client.post(f"{s.app_issuer('trello')}/admin/clients/x/revoke-tokens"),
            401,
            False,
        ),
        "trailing slash": (lambda s: s.client.post(f"{s.idp_issuer}/token/", data={"a": "b"}), 307, False),
    }


@pytest.mark.parametrize("name", list(_requests()))
def test_table_and_router_answer_alike(pair: Pair, name: str) -> None:
    call, status, fast = _requests()[name]
    through_table = call(pair.exact)
    served = list(pair.recording.served)
    through_router = call(pair.routed)

    assert through_table.status_code == status, through_table.text
    assert _snapshot(through_table) == _snapshot(through_router)
    assert bool(served) is fast  # the table did (or did not) take this request
    if status >= 400 and status != 307:
        assert through_table.headers["content-type"] == "application/json"
        assert "error" in through_table.json()


def test_challenges_and_allow_survive_both_paths(pair: Pair) -> None:
    for server in (pair.exact, pair.routed):
        whoami = server.client.get(f"{server.resource('trello')}/whoami")
        challenge = whoami.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="trello"')
        assert (
            f'resource_metadata="{server.base_url}/.well-known/oauth-protected-resource/apps/trello/api"'
            in (challenge)
        )
        wrong = server.client.get(f"{server.idp_issuer}/token")
        assert wrong.headers["allow"] == "POST"
        assert wrong.json()["error"] == "method_not_allowed"


def _assert_token_headers(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    names = [name for name, _ in response.headers.multi_items()]
    assert len(names) == len(set(names))  # each header once


def test_token_responses_through_the_table_carry_their_headers(pair: Pair) -> None:
    server = pair.exact
    tokens = sign_in(server)
    assert ("POST", "/idp/token") in pair.recording.served
    exchange = server.client.post(
        f"{server.idp_issuer}/token",
        data={
            "grant_type": TE,
            "requested_token_type": "urn:ietf:params:oauth:token-type:id-jag",
            "audience": server.app_issuer("trello"),
            "subject_token": tokens["id_token"],
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        },
        auth=idp_auth(server),
    )
    _assert_token_headers(exchange)
    issued = server.client.post(
        f"{server.app_issuer('trello')}/token",
        data={"grant_type": JB, "assertion": exchange.json()["access_token"]},
        auth=app_auth(server, "trello"),
    )
    _assert_token_headers(issued)
    assert ("POST", "/apps/trello/token") in pair.recording.served
    whoami = server.client.get(
        f"{server.resource('trello')}/whoami", headers=bearer(issued.json()["access_token"])
    )
    assert whoami.json()["sub"] == "alice"
    # and a token issued through the table works through the router (one shared store)
    routed = pair.routed.client.get(
        f"{pair.routed.resource('trello')}/whoami", headers=bearer(issued.json()["access_token"])
    )
    assert routed.json() == whoami.json()


def test_the_router_path_issues_the_same_shape_of_token_response(pair: Pair) -> None:
    issued = jwt_bearer(pair.routed, id_jag(pair.routed))
    _assert_token_headers(issued)
    assert pair.recording.served == []  # nothing went through the other server's table
