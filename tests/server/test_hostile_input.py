"""Malformed, oversized and hostile requests get a 4xx JSON error, never a 500 or a hang."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.helpers import JB, TE, app_auth, idp_auth, jwt_bearer
from tests.support.server import DevServer, start_in_process
from xaa_cli.b64 import b64url_encode

FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_oversized_body_is_413(dev_server: DevServer) -> None:
    response = dev_server.client.post(
        f"{dev_server.idp_issuer}/token", content=b"a=" + b"x" * 70_000, headers=FORM
    )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


def test_oversized_assertion_is_refused(dev_server: DevServer) -> None:
    response = jwt_bearer(dev_server, "e" * 20_000)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"grant_type=%ff%fe", FORM),
        (b'{"grant_type": "x"}', {"content-type": "application/json"}),
        (b"&".join(b"k%d=v" % i for i in range(200)), FORM),
        (b"grant_type=a&grant_type=b", FORM),
    ],
)
def test_malformed_forms(dev_server: DevServer, content: bytes, headers: dict) -> None:
    response = dev_server.client.post(
        f"{dev_server.idp_issuer}/token", content=content, headers=headers, auth=idp_auth(dev_server)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "header", ["Basic !!!", "Basic " + b64url_encode(b"no-colon"), "Basic " + "QQ==" * 3000]
)
def test_garbage_basic_credentials(dev_server: DevServer, header: str) -> None:
    response = dev_server.client.post(
        f"{dev_server.idp_issuer}/introspect", data={"token": "x"}, headers={"Authorization": header}
    )
    assert response.status_code == 401


def test_hostile_jwt_payloads(dev_server: DevServer) -> None:
    deep = b64url_encode(("[" * 5000 + "]" * 5000).encode())
    header = b64url_encode(json.dumps({"alg": "ES256", "typ": "oauth-id-jag+jwt"}).encode())
    for assertion in (f"{header}.{deep}.sig", f"{header}.@@@.sig", f"{'A' * 5000}.b.c", "...."):
        response = jwt_bearer(dev_server, assertion)
        assert response.status_code == 400, assertion[:20]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("POST", "/apps/nope/token", 404), ("GET", "/nowhere", 404), ("GET", "/idp/token", 405)],
)
def test_unknown_app_path_and_method_answer_json(
    dev_server: DevServer, method: str, path: str, status: int
) -> None:
    response = dev_server.client.request(method, dev_server.base_url + path)
    assert response.status_code == status
    assert response.json()["error"] in ("not_found", "method_not_allowed")
    assert response.headers["cache-control"] == "no-store"


def test_unknown_grant_type(dev_server: DevServer) -> None:
    for url, auth in (
        (f"{dev_server.idp_issuer}/token", idp_auth(dev_server)),
        (f"{dev_server.app_issuer('trello')}/token", app_auth(dev_server, "trello")),
    ):
        response = dev_server.client.post(url, data={"grant_type": "password"}, auth=auth)
        assert (response.status_code, response.json()["error"]) == (400, "unsupported_grant_type")


_SERVER: list[DevServer] = []


@pytest.fixture(scope="module", autouse=True)
def _close_shared_server():
    yield
    while _SERVER:
        _SERVER.pop().close()


def _server() -> DevServer:
    if not _SERVER:
        _SERVER.append(start_in_process())
    return _SERVER[0]


FIELDS = [
    "grant_type",
    "assertion",
    "subject_token",
    "subject_token_type",
    "requested_token_type",
    "audience",
    "scope",
    "resource",
    "code",
    "code_verifier",
    "redirect_uri",
    "refresh_token",
    "device_code",
    "client_assertion",
    "client_assertion_type",
    "client_id",
    "client_secret",
    "token",
    "actor_token",
]
VALUES = st.one_of(
    st.sampled_from([TE, JB, "authorization_code", "refresh_token", "", "eyJ.eyJ.x", "a" * 300]),
    st.text(max_size=40),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    form=st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=8),
    target=st.sampled_from(
        [
            "/idp/token",
            "/apps/trello/token",
            "/idp/revoke",
            "/apps/slack/introspect",
            "/idp/device_authorization",
        ]
    ),
    use_auth=st.booleans(),
)
def test_random_forms_never_crash(form: dict[str, str], target: str, use_auth: bool) -> None:
    server = _server()
    auth = idp_auth(server) if target.startswith("/idp") else app_auth(server, target.split("/")[2])
    response = server.client.post(server.base_url + target, data=form, auth=auth if use_auth else None)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert "error" in response.json()
