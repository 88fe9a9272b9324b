"""Sender-constrained grants (draft §9.8.1, RFC 9449): checklist items 32-34 and 71-76."""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from typing import Any

import pytest

from tests.server.helpers import JB, app_auth, exchange
from tests.support.server import DevServer, sign_in
from xaa_cli.b64 import b64url_encode
from xaa_cli.core.jose import decode_unverified, jwk_thumbprint
from xaa_cli.core.keys import generate_private_jwk, public_jwk, sign_jwt
from xaa_cli.server.policy import DEFAULT_POLICY

KEY = generate_private_jwk("ES256")
OTHER = generate_private_jwk("ES256")


def proof(
    url: str, key: dict = KEY, method: str = "POST", access_token: str | None = None, **changes: Any
) -> str:
    claims: dict[str, Any] = {"jti": f"p{time.time_ns()}", "htm": method, "htu": url, "iat": int(time.time())}
    if access_token:
        claims["ath"] = b64url_encode(hashlib.sha256(access_token.encode()).digest())
    claims.update(changes)
    jwk = {k: v for k, v in public_jwk(key).items() if k in ("kty", "crv", "x", "y")}
    unnamed = {k: v for k, v in key.items() if k != "kid"}
    return sign_jwt(claims, unnamed, typ="dpop+jwt", extra_header={"jwk": jwk})


def _exchange_with_proof(server: DevServer, dpop: str | None, app: str = "trello"):
    id_token = sign_in(server)["id_token"]
    data = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "requested_token_type": "urn:ietf:params:oauth:token-type:id-jag",
        "audience": server.app_issuer(app),
        "subject_token": id_token,
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
    }
    headers = {"DPoP": dpop} if dpop else {}
    return server.client.post(
        f"{server.idp_issuer}/token",
        data=data,
        headers=headers,
        auth=(server.kit.client_id, server.kit.secret),
    )


def _bearer_with_proof(
    server: DevServer, grant: str, dpop: str | None, grant_type: str = JB, app: str = "trello"
):
    headers = {"DPoP": dpop} if dpop else {}
    return server.client.post(
        f"{server.app_issuer(app)}/token",
        data={"grant_type": grant_type, "assertion": grant},
        headers=headers,
        auth=app_auth(server, app),
    )


def test_32_bound_id_jag_carries_cnf_jkt(dev_server: DevServer) -> None:
    response = _exchange_with_proof(dev_server, proof(f"{dev_server.idp_issuer}/token"))
    claims = decode_unverified(response.json()["access_token"]).claims
    assert claims["cnf"] == {"jkt": jwk_thumbprint(public_jwk(KEY))}


@pytest.mark.parametrize("changes", [{"htm": "GET"}, {"htu": "http://127.0.0.1:8765/idp/other"}, {"iat": 1}])
def test_33_bad_proof_at_the_idp(dev_server: DevServer, changes: dict) -> None:
    response = _exchange_with_proof(dev_server, proof(f"{dev_server.idp_issuer}/token", **changes))
    assert (response.status_code, response.json()["error"]) == (400, "invalid_dpop_proof")


def test_34_no_proof_no_cnf(dev_server: DevServer) -> None:
    response = exchange(dev_server, sign_in(dev_server)["id_token"])
    assert "cnf" not in decode_unverified(response.json()["access_token"]).claims


def _bound_grant(server: DevServer) -> str:
    token: str = _exchange_with_proof(server, proof(f"{server.idp_issuer}/token")).json()["access_token"]
    return token


def test_71_bound_grant_with_matching_proof_and_dpop_api_call(dev_server: DevServer) -> None:
    token_url = f"{dev_server.app_issuer('trello')}/token"
    response = _bearer_with_proof(dev_server, _bound_grant(dev_server), proof(token_url))
    assert (response.status_code, response.json()["token_type"]) == (200, "DPoP")
    access = response.json()["access_token"]
    whoami = f"{dev_server.resource('trello')}/whoami"
    as_bearer = dev_server.client.get(whoami, headers={"Authorization": f"Bearer {access}"})
    assert as_bearer.status_code == 401
    ok = dev_server.client.get(
        whoami,
        headers={"Authorization": f"DPoP {access}", "DPoP": proof(whoami, method="GET", access_token=access)},
    )
    assert ok.status_code == 200
    stolen = dev_server.client.get(
        whoami,
        headers={"Authorization": f"DPoP {access}", "DPoP": proof(whoami, OTHER, "GET", access_token=access)},
    )
    assert stolen.status_code == 401


def test_72_bound_grant_without_proof(dev_server: DevServer) -> None:
    response = _bearer_with_proof(dev_server, _bound_grant(dev_server), None)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_73_bound_grant_with_another_key(dev_server: DevServer) -> None:
    token_url = f"{dev_server.app_issuer('trello')}/token"
    response = _bearer_with_proof(dev_server, _bound_grant(dev_server), proof(token_url, OTHER))
    assert response.json()["error"] == "invalid_grant"


def test_74_unbound_grant_with_proof_and_invalid_proof(dev_server: DevServer) -> None:
    token_url = f"{dev_server.app_issuer('trello')}/token"
    grant = exchange(dev_server, sign_in(dev_server)["id_token"]).json()["access_token"]
    assert _bearer_with_proof(dev_server, grant, proof(token_url)).json()["token_type"] == "DPoP"
    grant = exchange(dev_server, sign_in(dev_server)["id_token"]).json()["access_token"]
    bad = _bearer_with_proof(dev_server, grant, proof(token_url, htm="PUT"))
    assert bad.json()["error"] == "invalid_dpop_proof"


def test_75_app_requiring_sender_constraint(make_dev_server) -> None:
    apps = {**DEFAULT_POLICY.apps, "trello": replace(DEFAULT_POLICY.apps["trello"], require_dpop=True)}
    server = make_dev_server(policy=replace(DEFAULT_POLICY, apps=apps))
    grant = exchange(server, sign_in(server)["id_token"]).json()["access_token"]
    assert _bearer_with_proof(server, grant, None).json()["error"] == "invalid_grant"


def test_76_jwt_dpop_grant_type(dev_server: DevServer) -> None:
    token_url = f"{dev_server.app_issuer('trello')}/token"
    jwt_dpop = "urn:ietf:params:oauth:grant-type:jwt-dpop"
    response = _bearer_with_proof(dev_server, _bound_grant(dev_server), proof(token_url), jwt_dpop)
    assert (response.status_code, response.json()["token_type"]) == (200, "DPoP")


def test_replayed_proof_is_refused(dev_server: DevServer) -> None:
    same = proof(f"{dev_server.idp_issuer}/token")
    assert _exchange_with_proof(dev_server, same).status_code == 200
    assert _exchange_with_proof(dev_server, same).json()["error"] == "invalid_dpop_proof"
