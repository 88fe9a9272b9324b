"""Client authentication at every token, revocation and introspection endpoint (RFC 6749 §2.3.1, RFC 7523,
rfc7523bis): checklist items 24, 26, 57 and the interoperability rules of issue 3."""

from __future__ import annotations

import base64
from urllib.parse import quote_plus

import pytest

from tests.server.helpers import ASSERTION_TYPE, client_assertion, id_jag, idp_auth, jwt_bearer
from tests.support.server import DevServer, sign_in
from xaa_cli.core.keys import generate_private_jwk
from xaa_cli.server.credentials import ClientKit, new_client_kit
from xaa_cli.server.policy import DEFAULT_POLICY

ENDPOINTS = ["token", "revoke", "introspect"]


def _basic(client_id: str, secret: str, *, encode: bool = True) -> dict[str, str]:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}" if encode else f"{client_id}:{secret}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def test_basic_credentials_are_form_urlencoded(make_dev_server) -> None:
    kit = new_client_kit(DEFAULT_POLICY.clients["xaa-agent"])
    odd = "s3cr:et+with %/é" + "x"
    server = make_dev_server(kit=ClientKit(kit.client_id, odd, kit.private_jwk, kit.app_secrets))
    url = f"{server.idp_issuer}/introspect"
    ok = server.client.post(url, data={"token": "x"}, headers=_basic(kit.client_id, odd))
    assert (ok.status_code, ok.json()) == (200, {"active": False})
    raw = server.client.post(url, data={"token": "x"}, headers=_basic(kit.client_id, odd, encode=False))
    assert raw.status_code == 401


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_24_57_wrong_secret_is_401_with_basic_challenge(dev_server: DevServer, endpoint: str) -> None:
    response = dev_server.client.post(
        f"{dev_server.idp_issuer}/{endpoint}",
        data={"token": "t", "grant_type": "x"},
        auth=(dev_server.kit.client_id, "wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert response.headers["cache-control"] == "no-store"


def test_client_secret_post(dev_server: DevServer) -> None:
    data = {"token": "x", "client_id": dev_server.kit.client_id, "client_secret": dev_server.kit.secret}
    assert dev_server.client.post(f"{dev_server.idp_issuer}/introspect", data=data).status_code == 200
    data["client_secret"] = "wrong"
    response = dev_server.client.post(f"{dev_server.idp_issuer}/introspect", data=data)
    assert response.status_code == 401
    assert "www-authenticate" not in response.headers


def test_client_id_alongside_basic(dev_server: DevServer) -> None:
    url = f"{dev_server.idp_issuer}/introspect"
    same = dev_server.client.post(
        url, data={"token": "x", "client_id": "xaa-agent"}, auth=idp_auth(dev_server)
    )
    assert same.status_code == 200
    other = dev_server.client.post(url, data={"token": "x", "client_id": "other"}, auth=idp_auth(dev_server))
    assert (other.status_code, other.json()["error"]) == (400, "invalid_request")


def test_26_two_methods_at_once(dev_server: DevServer) -> None:
    data = {"token": "x", "client_secret": dev_server.kit.secret}
    response = dev_server.client.post(
        f"{dev_server.idp_issuer}/introspect", data=data, auth=idp_auth(dev_server)
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    assert "more than one" in response.json()["error_description"]


@pytest.mark.parametrize("aud_kind", ["issuer", "token_endpoint", "issuer_in_array"])
def test_private_key_jwt_audience_forms(dev_server: DevServer, aud_kind: str) -> None:
    aud = {
        "issuer": dev_server.idp_issuer,
        "token_endpoint": f"{dev_server.idp_issuer}/token",
        "issuer_in_array": [dev_server.idp_issuer],
    }[aud_kind]
    data = {
        "token": "x",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(dev_server, aud),
        "client_id": "xaa-agent",
    }
    response = dev_server.client.post(f"{dev_server.idp_issuer}/introspect", data=data)
    assert response.status_code == 200, response.text


def test_private_key_jwt_for_token_exchange_and_at_an_app(dev_server: DevServer) -> None:
    id_token = sign_in(dev_server)["id_token"]
    data = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "requested_token_type": "urn:ietf:params:oauth:token-type:id-jag",
        "audience": dev_server.app_issuer("slack"),
        "subject_token": id_token,
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(dev_server, dev_server.idp_issuer),
    }
    grant = dev_server.client.post(f"{dev_server.idp_issuer}/token", data=data).json()["access_token"]
    app_id = dev_server.app_client_id("slack")
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": grant,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(dev_server, dev_server.app_issuer("slack"), app_id),
    }
    response = dev_server.client.post(f"{dev_server.app_issuer('slack')}/token", data=form)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "problem",
    ["wrong_aud", "expired", "no_jti", "other_key", "replayed", "wrong_typ", "sub_mismatch"],
)
def test_bad_client_assertions(dev_server: DevServer, problem: str) -> None:
    aud = dev_server.app_issuer("trello") if problem == "wrong_aud" else dev_server.idp_issuer
    changes: dict = {
        "expired": {"exp": 1000, "iat": 900},
        "no_jti": {"jti": None},
        "sub_mismatch": {"sub": "somebody"},
    }.get(problem, {})
    assertion = client_assertion(dev_server, aud, **changes)
    if problem == "other_key":
        from xaa_cli.core.jose import decode_unverified
        from xaa_cli.core.keys import sign_jwt

        assertion = sign_jwt(decode_unverified(assertion).claims, generate_private_jwk("ES256"))
    if problem == "wrong_typ":
        from xaa_cli.core.jose import decode_unverified
        from xaa_cli.core.keys import sign_jwt

        assertion = sign_jwt(decode_unverified(assertion).claims, dev_server.kit.private_jwk, typ="at+jwt")
    data = {"token": "x", "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    url = f"{dev_server.idp_issuer}/introspect"
    if problem == "replayed":
        assert dev_server.client.post(url, data=data).status_code == 200
    response = dev_server.client.post(url, data=data)
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


def test_missing_client_authentication(dev_server: DevServer) -> None:
    response = dev_server.client.post(f"{dev_server.idp_issuer}/introspect", data={"token": "x"})
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


def test_unknown_client(dev_server: DevServer) -> None:
    response = dev_server.client.post(
        f"{dev_server.idp_issuer}/introspect", data={"token": "x"}, auth=("nobody", "x")
    )
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


def test_idp_credentials_do_not_work_at_an_app(dev_server: DevServer) -> None:
    grant = id_jag(dev_server)
    response = jwt_bearer(dev_server, grant, auth=idp_auth(dev_server))
    assert response.status_code == 401


def test_generated_secrets_are_url_safe(dev_server: DevServer) -> None:
    import re

    for secret in (dev_server.kit.secret, *dev_server.kit.app_secrets.values()):
        assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", secret)
