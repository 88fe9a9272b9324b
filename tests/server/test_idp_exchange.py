"""Checklist §10 (a): the IdP issuing ID-JAGs (items 1-39; SAML, tenants and pairwise subjects are not
implemented, see docs/reference-server.md)."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from tests.server.helpers import ID_JAG, ID_TOKEN, RT_TYPE, TE, exchange, idp_auth, jwt_bearer
from tests.support.server import DevServer, sign_in
from xaa_cli.core.jose import decode_unverified, verify_signature
from xaa_cli.core.keys import generate_private_jwk, sign_jwt
from xaa_cli.server.policy import DEFAULT_POLICY, ClientSpec, Options


def _claims(token: str) -> dict:
    return decode_unverified(token).claims


def _ok(server: DevServer, **extra) -> dict:
    response = exchange(server, sign_in(server)["id_token"], **extra)
    assert response.status_code == 200, response.text
    return response.json()


def test_1_metadata_advertises_token_exchange_and_id_jag(dev_server: DevServer) -> None:
    for path in ("/idp/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/idp"):
        doc = dev_server.client.get(dev_server.base_url + path).json()
        assert doc["issuer"] == dev_server.idp_issuer
        assert doc["token_endpoint"] == f"{dev_server.idp_issuer}/token"
        assert doc["jwks_uri"] == f"{dev_server.idp_issuer}/jwks"
        assert TE in doc["grant_types_supported"]
        assert doc["identity_chaining_requested_token_types_supported"] == [ID_JAG]


def test_2_to_6_response_and_id_jag_shape(dev_server: DevServer) -> None:
    response = exchange(dev_server, sign_in(dev_server)["id_token"])
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["issued_token_type"] == ID_JAG
    assert body["token_type"] == "N_A"
    assert "refresh_token" not in body  # item 4
    decoded = decode_unverified(body["access_token"])
    assert decoded.header["typ"] == "oauth-id-jag+jwt"
    assert decoded.header["alg"] == "ES256"
    jwks = dev_server.client.get(f"{dev_server.idp_issuer}/jwks").json()["keys"]
    assert verify_signature(decoded, jwks)["kid"] == decoded.header["kid"]
    claims = decoded.claims
    assert body["expires_in"] == claims["exp"] - claims["iat"] == 300  # item 3
    assert claims["iss"] == dev_server.idp_issuer
    assert claims["aud"] == dev_server.app_issuer("trello")
    assert claims["sub"] == "alice"
    assert isinstance(claims["jti"], str)
    assert claims["exp"] > claims["iat"]


def test_7_client_id_is_mapped_to_the_app_registration(dev_server: DevServer) -> None:
    claims = _claims(_ok(dev_server)["access_token"])
    assert claims["client_id"] == "xaa-agent-at-trello" != dev_server.kit.client_id


def test_8_two_exchanges_two_jtis(dev_server: DevServer) -> None:
    id_token = sign_in(dev_server)["id_token"]
    first, second = (exchange(dev_server, id_token).json()["access_token"] for _ in range(2))
    assert _claims(first)["jti"] != _claims(second)["jti"]


def test_9_resource_is_carried(dev_server: DevServer) -> None:
    claims = _claims(_ok(dev_server, resource=dev_server.resource("trello"))["access_token"])
    assert claims["resource"] == dev_server.resource("trello")


def test_10_scope_is_narrowed_and_reported(make_dev_server) -> None:
    server = make_dev_server(auto_approve="bob")
    body = _ok(server, scope="board:read board:write")
    assert body["scope"] == "board:read"
    assert _claims(body["access_token"])["scope"] == "board:read"


def test_11_allowed_scope_is_granted_as_asked(dev_server: DevServer) -> None:
    body = _ok(dev_server, scope="board:write board:read")
    assert set(_claims(body["access_token"])["scope"].split()) == {"board:read", "board:write"}


def test_12_authorization_details_are_carried(dev_server: DevServer) -> None:
    details = [{"type": "board_access", "boards": ["roadmap"]}]
    body = _ok(dev_server, authorization_details=json.dumps(details))
    assert _claims(body["access_token"])["authorization_details"] == details
    assert body["authorization_details"] == details


@pytest.mark.parametrize("raw", ["{}", "not json", "[1, 2]", '[{"no_type": 1}]'])
def test_13_malformed_authorization_details(dev_server: DevServer, raw: str) -> None:
    response = exchange(dev_server, sign_in(dev_server)["id_token"], authorization_details=raw)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_authorization_details"


def test_14_urn_alias_resolves_to_the_issuer(dev_server: DevServer) -> None:
    id_token = sign_in(dev_server)["id_token"]
    response = exchange(dev_server, id_token, audience="urn:xaa:app:trello")
    assert _claims(response.json()["access_token"])["aud"] == dev_server.app_issuer("trello")


@pytest.mark.parametrize(
    "missing", ["audience", "requested_token_type", "subject_token", "subject_token_type"]
)  # items 15, 16, 18
def test_missing_required_parameter_is_invalid_request(dev_server: DevServer, missing: str) -> None:
    response = exchange(dev_server, sign_in(dev_server)["id_token"], **{missing: None})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert missing in response.json()["error_description"]


def test_17_unknown_requested_token_type(dev_server: DevServer) -> None:
    response = exchange(
        dev_server, sign_in(dev_server)["id_token"], requested_token_type="urn:example:unknown"
    )
    assert response.json()["error"] == "invalid_request"


def test_19_actor_token_without_type(dev_server: DevServer) -> None:
    response = exchange(dev_server, sign_in(dev_server)["id_token"], actor_token="abc")
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def _forged_id_token(server: DevServer, **changes) -> str:
    now = int(time.time())
    claims = {
        "iss": server.idp_issuer,
        "sub": "alice",
        "aud": server.kit.client_id,
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes)
    key = changes.pop("_key", None) or server.runtime.keys.private("idp")
    return sign_jwt({k: v for k, v in claims.items() if not k.startswith("_")}, key)


def test_20_id_token_for_another_client(dev_server: DevServer) -> None:
    response = exchange(dev_server, _forged_id_token(dev_server, aud="someone-else"))
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")
    assert "audience" in response.json()["error_description"]


@pytest.mark.parametrize("change", [{"iss": "http://127.0.0.1:8765/idp/"}, {"exp": 1000}, {"_key": "other"}])
def test_21_bad_id_token(dev_server: DevServer, change: dict) -> None:
    if change.get("_key"):
        change = {"_key": generate_private_jwk("ES256", kid=dev_server.runtime.keys.private("idp")["kid"])}
    response = exchange(dev_server, _forged_id_token(dev_server, **change))
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_21_subject_error_code_is_a_policy_option(make_dev_server) -> None:
    policy = replace(DEFAULT_POLICY, options=Options(subject_token_error="invalid_request"))
    server = make_dev_server(policy=policy)
    response = exchange(server, _forged_id_token(server, exp=1000))
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("audience", ["http://127.0.0.1:8765/apps/trello/", "https://unknown.example/"])
def test_22_unknown_audience_is_invalid_target(dev_server: DevServer, audience: str) -> None:
    response = exchange(dev_server, sign_in(dev_server)["id_token"], audience=audience)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_target")


def test_22_audience_not_allowed_for_this_client(make_dev_server) -> None:
    rules = tuple(r for r in DEFAULT_POLICY.rules if r.app != "github")
    server = make_dev_server(policy=replace(DEFAULT_POLICY, rules=rules))
    response = exchange(server, sign_in(server)["id_token"], app="github")
    assert response.json()["error"] == "invalid_target"


def test_23_resource_of_another_app_is_invalid_target(dev_server: DevServer) -> None:
    response = exchange(dev_server, sign_in(dev_server)["id_token"], resource=dev_server.resource("slack"))
    assert (response.status_code, response.json()["error"]) == (400, "invalid_target")


def test_policy_denial_and_invalid_scope_are_audited(make_dev_server) -> None:
    server = make_dev_server(auto_approve="bob")
    id_token = sign_in(server)["id_token"]
    denied = exchange(server, id_token, app="salesforce")
    assert denied.json()["error"] == "access_denied"
    no_scope = exchange(server, id_token, scope="board:admin")
    assert no_scope.json()["error"] == "invalid_scope"
    from xaa_cli.server.audit import read_audit

    entries = [e for e in read_audit(server.runtime.store) if e["event"] == "id_jag.denied"]
    assert [(e["outcome"], e["policy"]) for e in entries] == [
        ("access_denied", "deny-bob-salesforce"),
        ("invalid_scope", "bob-trello-read"),
    ]
    assert entries[0]["subject"] == "bob"
    assert entries[0]["audience"] == server.app_issuer("salesforce")


def test_25_public_client_may_not_exchange(dev_server: DevServer) -> None:
    id_token = sign_in(dev_server)["id_token"]
    data = {
        "grant_type": TE,
        "requested_token_type": ID_JAG,
        "audience": dev_server.app_issuer("trello"),
        "subject_token": id_token,
        "subject_token_type": ID_TOKEN,
        "client_id": "xaa-public",
    }
    response = dev_server.client.post(f"{dev_server.idp_issuer}/token", data=data)
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")


def test_27_refresh_token_as_subject(dev_server: DevServer) -> None:
    refresh = sign_in(dev_server)["refresh_token"]
    response = exchange(dev_server, refresh, subject_token_type=RT_TYPE)
    assert response.status_code == 200
    assert _claims(response.json()["access_token"])["sub"] == "alice"


def test_28_revoked_refresh_token_as_subject(dev_server: DevServer) -> None:
    refresh = sign_in(dev_server)["refresh_token"]
    dev_server.client.post(
        f"{dev_server.idp_issuer}/revoke", data={"token": refresh}, auth=idp_auth(dev_server)
    )
    response = exchange(dev_server, refresh, subject_token_type=RT_TYPE)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_29_refresh_subject_can_be_switched_off(make_dev_server) -> None:
    server = make_dev_server(policy=replace(DEFAULT_POLICY, options=Options(refresh_token_subject=False)))
    response = exchange(server, sign_in(server)["refresh_token"], subject_token_type=RT_TYPE)
    assert response.json()["error"] == "invalid_request"


def test_saml_subject_is_refused_clearly(dev_server: DevServer) -> None:
    response = exchange(dev_server, "PHNhbWw+", subject_token_type="urn:ietf:params:oauth:token-type:saml2")
    assert response.json()["error"] == "invalid_request"
    assert "SAML" in response.json()["error_description"]


def test_35_step_up_required(make_dev_server) -> None:
    apps = {**DEFAULT_POLICY.apps, "trello": replace(DEFAULT_POLICY.apps["trello"], max_auth_age=60)}
    from xaa_cli.clock import FixedClock

    clock = FixedClock(time.time())
    server = make_dev_server(policy=replace(DEFAULT_POLICY, apps=apps), clock=clock)
    id_token = sign_in(server)["id_token"]
    assert exchange(server, id_token).status_code == 200
    clock.advance(120)
    response = exchange(server, id_token)
    assert response.json()["error"] == "insufficient_user_authentication"
    assert response.json()["max_age"] == 60


def test_38_idp_refuses_its_own_id_jag_as_a_grant(dev_server: DevServer) -> None:
    grant = _ok(dev_server)["access_token"]
    data = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": grant}
    response = dev_server.client.post(f"{dev_server.idp_issuer}/token", data=data, auth=idp_auth(dev_server))
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_39_grant_type_not_enabled_for_client(make_dev_server) -> None:
    agent = DEFAULT_POLICY.clients["xaa-agent"]
    limited = ClientSpec(agent.client_id, agent.app_client_ids, agent.auth_methods, ("authorization_code",))
    server = make_dev_server(policy=replace(DEFAULT_POLICY, clients={"xaa-agent": limited}))
    response = exchange(server, sign_in(server)["id_token"])
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")


def test_optional_claims_of_section_3_1(dev_server: DevServer) -> None:
    claims = _claims(_ok(dev_server)["access_token"])
    assert claims["email"] == "alice@example.com"
    assert claims["email_verified"] is True
    assert claims["amr"] == ["pwd", "otp"]
    assert claims["acr"] == "urn:xaa:acr:mfa"
    assert isinstance(claims["auth_time"], int)


def test_disabled_client_gets_no_id_jag(dev_server: DevServer) -> None:
    dev_server.runtime.store.set_client_disabled("xaa-agent", True, 0)
    response = exchange(dev_server, sign_in(dev_server)["id_token"])
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")


def test_36_tenant_claims_for_multi_tenant_issuer_and_app(make_dev_server) -> None:
    apps = {**DEFAULT_POLICY.apps, "trello": replace(DEFAULT_POLICY.apps["trello"], tenant="acme-boards")}
    server = make_dev_server(policy=replace(DEFAULT_POLICY, apps=apps, options=Options(tenant="acme")))
    grant = _ok(server)["access_token"]
    claims = _claims(grant)
    assert (claims["tenant"], claims["aud_tenant"], claims["aud_sub"]) == ("acme", "acme-boards", "alice")
    assert jwt_bearer(server, grant).status_code == 200
    plain = _claims(_ok(server, app="slack")["access_token"])
    assert "aud_tenant" not in plain
    assert plain["tenant"] == "acme"


def test_36_app_tenant_mismatch_is_refused(make_dev_server) -> None:
    apps = {**DEFAULT_POLICY.apps, "trello": replace(DEFAULT_POLICY.apps["trello"], tenant="acme-boards")}
    server = make_dev_server(policy=replace(DEFAULT_POLICY, apps=apps))
    now = int(time.time())
    forged = sign_jwt(
        {
            "iss": server.idp_issuer,
            "sub": "alice",
            "aud": server.app_issuer("trello"),
            "client_id": "xaa-agent-at-trello",
            "jti": "t1",
            "iat": now,
            "exp": now + 60,
            "aud_tenant": "other",
        },
        server.runtime.keys.private("idp"),
        typ="oauth-id-jag+jwt",
    )
    assert jwt_bearer(server, forged).json()["error"] == "invalid_grant"


def test_37_pairwise_subjects(make_dev_server) -> None:
    server = make_dev_server(policy=replace(DEFAULT_POLICY, options=Options(pairwise_subjects=True)))
    tokens = sign_in(server)
    client_sub = _claims(tokens["id_token"])["sub"]
    grant = _ok(server)["access_token"]
    app_sub = _claims(grant)["sub"]
    assert "alice" not in (client_sub, app_sub)
    assert client_sub != app_sub  # the app sees its own pairwise id, not the client's
    access = jwt_bearer(server, grant).json()["access_token"]
    who = server.client.get(
        f"{server.resource('trello')}/whoami", headers={"Authorization": f"Bearer {access}"}
    )
    assert who.json()["sub"] == app_sub
    again = _claims(_ok(server)["access_token"])["sub"]
    assert again == app_sub  # stable
