"""Small request builders shared by the server tests (on top of tests/support/server.py)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.support.server import DevServer, sign_in
from xaa_cli.core.keys import sign_jwt

TE = "urn:ietf:params:oauth:grant-type:token-exchange"
JB = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
RT_TYPE = "urn:ietf:params:oauth:token-type:refresh_token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def idp_auth(server: DevServer) -> tuple[str, str]:
    return (server.kit.client_id, server.kit.secret)


def app_auth(server: DevServer, app: str) -> tuple[str, str]:
    return (server.app_client_id(app), server.kit.app_secrets[app])


def exchange(server: DevServer, id_token: str, app: str = "trello", **extra: Any) -> httpx.Response:
    data = {
        "grant_type": TE,
        "requested_token_type": ID_JAG,
        "audience": server.app_issuer(app),
        "subject_token": id_token,
        "subject_token_type": ID_TOKEN,
        **extra,
    }
    data = {k: v for k, v in data.items() if v is not None}
    return server.client.post(f"{server.idp_issuer}/token", data=data, auth=idp_auth(server))


def id_jag(server: DevServer, app: str = "trello", user: str | None = None, **extra: Any) -> str:
    tokens = sign_in(server, user)
    response = exchange(server, tokens["id_token"], app, **extra)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def jwt_bearer(
    server: DevServer, assertion: str | None, app: str = "trello", auth: Any = None, **extra: Any
) -> httpx.Response:
    data = {"grant_type": JB, "assertion": assertion, **extra}
    data = {k: v for k, v in data.items() if v is not None}
    return server.client.post(
        f"{server.app_issuer(app)}/token", data=data, auth=auth or app_auth(server, app)
    )


def client_assertion(server: DevServer, aud: str, client_id: str | None = None, **claims: Any) -> str:
    now = int(time.time())
    cid = client_id or server.kit.client_id
    body = {
        "iss": cid,
        "sub": cid,
        "aud": aud,
        "iat": now,
        "exp": now + 60,
        "jti": f"j{time.time_ns()}",
        **claims,
    }
    return sign_jwt(
        {k: v for k, v in body.items() if v is not None},
        server.kit.private_jwk,
        typ="client-authentication+jwt",
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
