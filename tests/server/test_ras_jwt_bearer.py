"""Checklist §10 (b): an app's authorization server accepting ID-JAGs (items 40-70, 77, 80)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import replace
from typing import Any

import pytest

from tests.server.helpers import JB, app_auth, bearer, id_jag, jwt_bearer
from tests.support.server import DevServer
from xaa_cli.b64 import b64url_encode
from xaa_cli.core.keys import generate_private_jwk, public_jwk, sign_jwt
from xaa_cli.server.policy import DEFAULT_POLICY, Options


def _grant(
    server: DevServer,
    *,
    key: Any = None,
    typ: str | None = "oauth-id-jag+jwt",
    drop: tuple = (),
    **changes: Any,
) -> str:
    now = int(time.time())
    claims = {
        "iss": server.idp_issuer,
        "sub": "alice",
        "aud": server.app_issuer("trello"),
        "client_id": server.app_client_id("trello"),
        "jti": f"j{time.time_ns()}",
        "iat": now,
        "exp": now + 300,
        "scope": "board:read board:write",
    }
    claims.update(changes)
    for name in drop:
        claims.pop(name)
    return sign_jwt(claims, key or server.runtime.keys.private("idp"), typ=typ)


def _error(response) -> str:
    assert response.headers["cache-control"] == "no-store"
    return str(response.json()["error"])


def test_40_41_metadata(dev_server: DevServer) -> None:
    url = f"{dev_server.base_url}/.well-known/oauth-authorization-server/apps/trello"
    doc = dev_server.client.get(url).json()
    assert doc["issuer"] == dev_server.app_issuer("trello")
    assert JB in doc["grant_types_supported"]
    assert doc["authorization_grant_profiles_supported"] == ["urn:ietf:params:oauth:grant-profile:id-jag"]
    assert dev_server.idp_issuer not in json.dumps(doc)  # item 41: no trusted-issuer list


def test_42_43_44_success_and_introspection(dev_server: DevServer) -> None:
    response = jwt_bearer(dev_server, id_jag(dev_server, resource=dev_server.resource("trello")))
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert body["scope"] == "board:read board:write"
    assert "refresh_token" not in body
    info = dev_server.client.post(
        f"{dev_server.app_issuer('trello')}/introspect",
        data={"token": body["access_token"]},
        auth=app_auth(dev_server, "trello"),
    ).json()
    assert info["active"] is True
    assert (info["sub"], info["client_id"], info["scope"]) == ("alice", "xaa-agent-at-trello", body["scope"])
    assert info["aud"] == dev_server.resource("trello")


@pytest.mark.parametrize("typ", [None, "JWT", "at+jwt", "OAUTH-ID-JAG+JWT-X"])
def test_45_wrong_typ(dev_server: DevServer, typ: str | None) -> None:
    assert _error(jwt_bearer(dev_server, _grant(dev_server, typ=typ))) == "invalid_grant"


def test_5_application_typ_form_is_a_policy_option(make_dev_server) -> None:
    strict = make_dev_server(policy=replace(DEFAULT_POLICY, options=Options(accept_application_typ=False)))
    assert _error(jwt_bearer(strict, _grant(strict, typ="application/oauth-id-jag+jwt"))) == "invalid_grant"
    lenient = make_dev_server()
    assert jwt_bearer(lenient, _grant(lenient, typ="application/oauth-id-jag+jwt")).status_code == 200


def test_46_id_token_is_not_a_grant(dev_server: DevServer) -> None:
    from tests.support.server import sign_in

    id_token = sign_in(dev_server)["id_token"]
    assert _error(jwt_bearer(dev_server, id_token)) == "invalid_grant"


def test_45_access_token_is_not_a_grant(dev_server: DevServer) -> None:
    access = jwt_bearer(dev_server, id_jag(dev_server)).json()["access_token"]
    assert _error(jwt_bearer(dev_server, access)) == "invalid_grant"


def _unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    enc = [b64url_encode(json.dumps(p).encode()) for p in (header, claims)]
    return ".".join([*enc, b64url_encode(signature)])


def _valid_claims(server: DevServer) -> dict:
    now = int(time.time())
    return {
        "iss": server.idp_issuer,
        "sub": "alice",
        "aud": server.app_issuer("trello"),
        "client_id": server.app_client_id("trello"),
        "jti": "x",
        "iat": now,
        "exp": now + 60,
    }


def test_47_alg_none(dev_server: DevServer) -> None:
    token = _unsigned({"alg": "none", "typ": "oauth-id-jag+jwt"}, _valid_claims(dev_server))
    assert _error(jwt_bearer(dev_server, token)) == "invalid_grant"


def test_48_hmac_with_public_key_bytes(dev_server: DevServer) -> None:
    public = json.dumps(public_jwk(dev_server.runtime.keys.private("idp"))).encode()
    header = {"alg": "HS256", "typ": "oauth-id-jag+jwt", "kid": dev_server.runtime.keys.private("idp")["kid"]}
    head = ".".join(b64url_encode(json.dumps(p).encode()) for p in (header, _valid_claims(dev_server)))
    signature = hmac.new(public, head.encode(), hashlib.sha256).digest()
    response = jwt_bearer(dev_server, f"{head}.{b64url_encode(signature)}")
    assert _error(response) == "invalid_grant"
    assert "HS256" in response.json()["error_description"]


def test_49_tampered_payload_and_unknown_kid(dev_server: DevServer) -> None:
    head, _, sig = _grant(dev_server).split(".")
    tampered = _valid_claims(dev_server) | {"sub": "bob"}
    forged = f"{head}.{b64url_encode(json.dumps(tampered).encode())}.{sig}"
    assert _error(jwt_bearer(dev_server, forged)) == "invalid_grant"
    stranger = generate_private_jwk("ES256", kid="unknown-kid")
    assert _error(jwt_bearer(dev_server, _grant(dev_server, key=stranger))) == "invalid_grant"


def test_50_untrusted_issuer(dev_server: DevServer) -> None:
    evil = generate_private_jwk("ES256")
    response = jwt_bearer(dev_server, _grant(dev_server, key=evil, iss="http://127.0.0.1:9999/idp"))
    assert _error(response) == "invalid_grant"
    assert "not trusted" in response.json()["error_description"]


@pytest.mark.parametrize(
    "aud",
    [
        "{app}/token",  # 51
        "{app}/",  # 52
        ["{app}", "https://other.example"],  # 54
        "http://127.0.0.1:8765/apps/slack",  # 55
    ],
)
def test_51_52_54_55_wrong_audience(dev_server: DevServer, aud: Any) -> None:
    app = dev_server.app_issuer("trello")
    value = [a.format(app=app) for a in aud] if isinstance(aud, list) else aud.format(app=app)
    assert _error(jwt_bearer(dev_server, _grant(dev_server, aud=value))) == "invalid_grant"


def test_53_single_element_audience_array(dev_server: DevServer) -> None:
    response = jwt_bearer(dev_server, _grant(dev_server, aud=[dev_server.app_issuer("trello")]))
    assert response.status_code == 200


def test_56_client_binding(dev_server: DevServer) -> None:
    response = jwt_bearer(dev_server, _grant(dev_server, client_id="someone-else-at-trello"))
    assert _error(response) == "invalid_grant"
    assert "client_id" in response.json()["error_description"]


def test_57_wrong_client_secret(dev_server: DevServer) -> None:
    response = jwt_bearer(dev_server, _grant(dev_server), auth=(dev_server.app_client_id("trello"), "wrong"))
    assert (response.status_code, _error(response)) == (401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")


def test_58_public_client_in_confidential_mode(dev_server: DevServer) -> None:
    data = {
        "grant_type": JB,
        "assertion": _grant(dev_server, client_id="xaa-public"),
        "client_id": "xaa-public",
    }
    response = dev_server.client.post(f"{dev_server.app_issuer('trello')}/token", data=data)
    assert (response.status_code, _error(response)) == (400, "unauthorized_client")


def test_59_expired_with_leeway(dev_server: DevServer) -> None:
    now = int(time.time())
    assert _error(jwt_bearer(dev_server, _grant(dev_server, iat=now - 200, exp=now - 31))) == "invalid_grant"
    assert jwt_bearer(dev_server, _grant(dev_server, iat=now - 200, exp=now - 20)).status_code == 200


@pytest.mark.parametrize("claim", ["jti", "iat", "exp", "sub", "client_id", "iss", "aud"])
def test_60_required_claims(dev_server: DevServer, claim: str) -> None:
    assert _error(jwt_bearer(dev_server, _grant(dev_server, drop=(claim,)))) == "invalid_grant"


def test_61_nbf_in_the_future(dev_server: DevServer) -> None:
    assert _error(jwt_bearer(dev_server, _grant(dev_server, nbf=int(time.time()) + 120))) == "invalid_grant"


def test_62_lifetime_limits(dev_server: DevServer) -> None:
    now = int(time.time())
    assert _error(jwt_bearer(dev_server, _grant(dev_server, exp=now + 86400))) == "invalid_grant"
    assert _error(jwt_bearer(dev_server, _grant(dev_server, iat=now - 7200, exp=now + 60))) == "invalid_grant"


def test_63_single_use_and_reuse_modes(make_dev_server) -> None:
    single = make_dev_server()
    grant = id_jag(single)
    assert jwt_bearer(single, grant).status_code == 200
    assert _error(jwt_bearer(single, grant)) == "invalid_grant"
    reuse = make_dev_server(policy=replace(DEFAULT_POLICY, options=Options(jti_single_use=False)))
    grant = id_jag(reuse)
    assert [jwt_bearer(reuse, grant).status_code for _ in range(2)] == [200, 200]


def test_64_missing_assertion(dev_server: DevServer) -> None:
    assert _error(jwt_bearer(dev_server, None)) == "invalid_request"


@pytest.mark.parametrize("assertion", ["not-a-jwt", "a.b", "a.b.c.d.e"])
def test_65_not_a_single_jwt(dev_server: DevServer, assertion: str) -> None:
    assert _error(jwt_bearer(dev_server, assertion)) == "invalid_grant"


def test_65_two_assertions(dev_server: DevServer) -> None:
    grant = _grant(dev_server)
    content = f"grant_type={JB}&assertion={grant}&assertion={grant}"
    response = dev_server.client.post(
        f"{dev_server.app_issuer('trello')}/token",
        content=content,
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=app_auth(dev_server, "trello"),
    )
    assert _error(response) == "invalid_request"


def test_66_profile_disabled_app(make_dev_server) -> None:
    apps = {**DEFAULT_POLICY.apps, "github": replace(DEFAULT_POLICY.apps["github"], id_jag=False)}
    server = make_dev_server(policy=replace(DEFAULT_POLICY, apps=apps))
    response = jwt_bearer(server, _grant(server, aud=server.app_issuer("github")), app="github")
    assert _error(response) == "unsupported_grant_type"
    doc = server.client.get(f"{server.base_url}/.well-known/oauth-authorization-server/apps/github").json()
    assert "authorization_grant_profiles_supported" not in doc
    assert JB not in doc["grant_types_supported"]


def test_67_scope_limited_to_the_apps_scopes(dev_server: DevServer) -> None:
    response = jwt_bearer(dev_server, _grant(dev_server, scope="board:read admin:all"))
    assert response.json()["scope"] == "board:read"


def test_68_scope_intersection_and_invalid_scope(dev_server: DevServer) -> None:
    assert jwt_bearer(dev_server, _grant(dev_server), scope="board:read").json()["scope"] == "board:read"
    response = jwt_bearer(dev_server, _grant(dev_server, scope="board:read"), scope="board:write")
    assert _error(response) == "invalid_scope"


def test_69_unserved_resource(make_dev_server) -> None:
    server = make_dev_server()
    other = server.resource("slack")
    assert _error(jwt_bearer(server, _grant(server, resource=other))) == "invalid_target"
    lenient = make_dev_server(
        policy=replace(DEFAULT_POLICY, options=Options(unserved_resource_error="invalid_grant"))
    )
    assert _error(jwt_bearer(lenient, _grant(lenient, resource=other))) == "invalid_grant"


def test_70_request_resource_must_match(dev_server: DevServer) -> None:
    grant = _grant(dev_server, resource=dev_server.resource("trello"))
    assert _error(jwt_bearer(dev_server, grant, resource="http://127.0.0.1:8765/other")) == "invalid_target"
    ok = jwt_bearer(dev_server, _grant(dev_server), resource=dev_server.resource("trello"))
    assert ok.status_code == 200


def test_77_unknown_subject(dev_server: DevServer) -> None:
    assert _error(jwt_bearer(dev_server, _grant(dev_server, sub="mallory"))) == "invalid_grant"


def test_80_errors_never_echo_the_assertion(dev_server: DevServer) -> None:
    grants = [
        _grant(dev_server, typ="JWT"),
        _grant(dev_server, aud="x"),
        _grant(dev_server, exp=1),
        "e30.e30.x",
    ]
    for grant in grants:
        response = jwt_bearer(dev_server, grant)
        assert response.status_code == 400
        assert response.headers["cache-control"] == "no-store"
        assert grant not in response.text
        for segment in grant.split("."):
            assert len(segment) < 8 or segment not in response.text


def test_revoked_and_expired_tokens_are_refused_by_the_api(make_dev_server) -> None:
    from xaa_cli.clock import FixedClock

    clock = FixedClock(time.time())
    server = make_dev_server(clock=clock)
    first = jwt_bearer(server, id_jag(server)).json()["access_token"]
    second = jwt_bearer(server, id_jag(server)).json()["access_token"]
    whoami = f"{server.resource('trello')}/whoami"
    revoked = server.client.post(
        f"{server.app_issuer('trello')}/revoke", data={"token": first}, auth=app_auth(server, "trello")
    )
    assert (revoked.status_code, revoked.json()) == (200, {})
    assert server.client.get(whoami, headers=bearer(first)).status_code == 401
    assert server.client.get(whoami, headers=bearer(second)).status_code == 200
    clock.advance(601)
    response = server.client.get(whoami, headers=bearer(second))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def _nameid_server(make_dev_server) -> DevServer:
    apps = {**DEFAULT_POLICY.apps, "trello": replace(DEFAULT_POLICY.apps["trello"], sub_id=True)}
    server: DevServer = make_dev_server(policy=replace(DEFAULT_POLICY, apps=apps))
    return server


def test_sub_id_is_issued_and_resolved(make_dev_server) -> None:
    server = _nameid_server(make_dev_server)
    grant = id_jag(server)
    from xaa_cli.core.jose import decode_unverified

    sub_id = decode_unverified(grant).claims["sub_id"]
    assert sub_id == {
        "format": "saml-nameid",
        "issuer": f"{server.idp_issuer}/saml",
        "nameid": "alice@example.com",
        "nameid_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    }
    assert jwt_bearer(server, grant).status_code == 200


@pytest.mark.parametrize(
    "sub_id",
    [
        None,
        "alice@example.com",
        {"format": "email", "email": "alice@example.com"},
        {"format": "saml-nameid", "issuer": "{idp}/saml"},
        {"format": "saml-nameid", "issuer": "{idp}/saml", "nameid": "bob@example.com"},
    ],
)
def test_78_sub_id_required_and_well_formed(make_dev_server, sub_id: Any) -> None:
    server = _nameid_server(make_dev_server)
    if isinstance(sub_id, dict):
        sub_id = {k: v.format(idp=server.idp_issuer) for k, v in sub_id.items()}
    extra = {} if sub_id is None else {"sub_id": sub_id}
    assert _error(jwt_bearer(server, _grant(server, **extra))) == "invalid_grant"


def test_79_sub_id_issuer_not_associated(make_dev_server) -> None:
    server = _nameid_server(make_dev_server)
    sub_id = {"format": "saml-nameid", "issuer": "https://other-saml.example/", "nameid": "alice@example.com"}
    assert _error(jwt_bearer(server, _grant(server, sub_id=sub_id))) == "invalid_grant"
    good = {**sub_id, "issuer": f"{server.idp_issuer}/saml"}
    assert jwt_bearer(server, _grant(server, sub_id=good)).status_code == 200
