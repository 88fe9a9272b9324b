from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.support.oauth_fakes import APP, IDP, RESOURCE, FakeServer, client, form_of, json_response
from xaa_cli.clock import FixedClock
from xaa_cli.core.client_auth import ClientCredentials, basic_header
from xaa_cli.core.constants import ClientAuthMethod
from xaa_cli.core.idjag import exchange_for_id_jag, get_access_token, redeem_id_jag
from xaa_cli.core.token_endpoint import AccessDenied, Endpoint, InvalidGrant
from xaa_cli.errors import ProtocolError

IDP_SECRET = "idp-" + "secret"
APP_SECRET = "app-" + "secret"
SUBJECT = "subject." + "token.value"


def idp_endpoint(server: FakeServer) -> Endpoint:
    creds = ClientCredentials("xaa-agent", ClientAuthMethod.CLIENT_SECRET_POST, secret=IDP_SECRET)
    return Endpoint(IDP, server.token_endpoint, creds, "the IdP")


def app_endpoint(server: FakeServer) -> Endpoint:
    creds = ClientCredentials("xaa-at-trello", ClientAuthMethod.CLIENT_SECRET_BASIC, secret=APP_SECRET)
    return Endpoint(APP, server.token_endpoint, creds, "trello")


def id_jag_reply(server: FakeServer, scope: str | None = None, **over: Any) -> Any:
    counter = {"n": 0}

    def reply(_request: httpx.Request) -> httpx.Response:
        counter["n"] += 1
        token = server.sign({"jti": f"jag-{counter['n']}", "aud": APP}, typ="oauth-id-jag+jwt")
        body: dict[str, Any] = {
            "issued_token_type": "urn:ietf:params:oauth:token-type:id-jag",
            "access_token": token,
            "token_type": "N_A",
            "expires_in": 300,
        }
        if scope is not None:
            body["scope"] = scope
        body.update(over)
        return json_response(200, {k: v for k, v in body.items() if v is not None})

    return reply


def access_reply(scope: str | None = None) -> Any:
    def reply(_request: httpx.Request) -> httpx.Response:
        body = {"access_token": "at-" + "123", "token_type": "Bearer", "expires_in": 600}
        if scope is not None:
            body["scope"] = scope
        return json_response(200, body)

    return reply


def test_token_exchange_wire_body_is_exact() -> None:
    idp = FakeServer(IDP)
    idp.token_replies.append(id_jag_reply(idp))
    jag = exchange_for_id_jag(
        client(idp), idp_endpoint(idp), subject_token=SUBJECT, audience=APP, resource=RESOURCE,
        scope="board:read board:write", clock=FixedClock(),
    )  # fmt: skip
    (request,) = idp.requests
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in request.headers
    form = form_of(request)
    assert form.pop("grant_type") == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert form.pop("requested_token_type") == "urn:ietf:params:oauth:token-type:id-jag"
    assert form.pop("audience") == APP
    assert form.pop("resource") == RESOURCE
    assert form.pop("scope") == "board:read board:write"
    assert form.pop("subject_token") == SUBJECT
    assert form.pop("subject_token_type") == "urn:ietf:params:oauth:token-type:id_token"
    assert form.pop("client_id") == "xaa-agent"
    assert form.pop("client_secret") == IDP_SECRET
    assert not form
    assert jag.jti == "jag-1"
    assert jag.scope == "board:read board:write"  # omitted scope = as requested (RFC 6749 §5.1)
    assert jag.expires_in == 300


def test_jwt_bearer_wire_body_is_exact() -> None:
    app = FakeServer(APP)
    app.token_replies.append(access_reply())
    access = redeem_id_jag(
        client(app),
        app_endpoint(app),
        "the.id.jag",
        scope="board:read",
        resource=RESOURCE,
        clock=FixedClock(),
    )
    (request,) = app.requests
    assert request.headers["authorization"] == basic_header("xaa-at-trello", APP_SECRET)
    form = form_of(request)
    assert form.pop("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert form.pop("assertion") == "the.id.jag"
    assert form.pop("scope") == "board:read"
    assert form.pop("resource") == RESOURCE
    assert form.pop("client_id") == "xaa-at-trello"
    assert not form
    assert access.token_type == "Bearer"
    assert access.expires_in == 600


@pytest.mark.parametrize("token_type", ["N_A", "n_a", None])
def test_token_type_n_a_is_case_insensitive_and_optional(token_type: str | None) -> None:
    idp = FakeServer(IDP)
    idp.token_replies.append(id_jag_reply(idp, token_type=token_type, expires_in=None))
    jag = exchange_for_id_jag(
        client(idp), idp_endpoint(idp), subject_token=SUBJECT, audience=APP, clock=FixedClock()
    )
    assert jag.expires_in is None


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"issued_token_type": "urn:ietf:params:oauth:token-type:access_token"}, "not an ID-JAG"),
        ({"issued_token_type": None}, "not an ID-JAG"),
        ({"token_type": "Bearer"}, "N_A"),
    ],
)
def test_wrong_token_exchange_answers_are_refused(over: dict[str, Any], message: str) -> None:
    idp = FakeServer(IDP)
    idp.token_replies.append(id_jag_reply(idp, **over))
    with pytest.raises(ProtocolError, match=message):
        exchange_for_id_jag(
            client(idp), idp_endpoint(idp), subject_token=SUBJECT, audience=APP, clock=FixedClock()
        )


def flow(idp: FakeServer, app: FakeServer, scope: str | None, records: list[Any] | None = None) -> Any:
    def record(event: str, **fields: Any) -> None:
        if records is not None:
            records.append((event, fields))

    return get_access_token(
        client(idp, app), idp_endpoint(idp), app_endpoint(app), subject_token=SUBJECT, resource=RESOURCE,
        scope=scope, clock=FixedClock(), record=record,
    )  # fmt: skip


def test_narrowing_is_reported_per_hop() -> None:
    idp, app = FakeServer(IDP), FakeServer(APP)
    idp.token_replies.append(id_jag_reply(idp, scope="board:read board:admin"))
    app.token_replies.append(access_reply(scope="board:read"))
    result = flow(idp, app, "board:read board:write board:admin")
    assert result.narrowed == ("board:write (dropped by the IdP)", "board:admin (dropped by trello)")
    assert form_of(app.requests[0])["scope"] == "board:read board:admin"  # what the ID-JAG granted
    assert result.access.scope == "board:read"


def test_invalid_grant_at_hop_two_fetches_one_fresh_id_jag() -> None:
    idp, app = FakeServer(IDP), FakeServer(APP)
    reply = id_jag_reply(idp)
    idp.token_replies += [reply, reply]
    app.token_replies += [lambda _r: json_response(400, {"error": "invalid_grant"}), access_reply()]
    result = flow(idp, app, None)
    assert result.retried
    assert len(idp.requests) == 2
    assert len(app.requests) == 2
    first, second = (form_of(r)["assertion"] for r in app.requests)
    assert first != second
    assert result.id_jag.jti == "jag-2"


def test_second_invalid_grant_is_raised_not_retried_again() -> None:
    idp, app = FakeServer(IDP), FakeServer(APP)
    reply = id_jag_reply(idp)
    idp.token_replies += [reply, reply, reply]
    refuse = lambda _r: json_response(400, {"error": "invalid_grant"})  # noqa: E731
    app.token_replies += [refuse, refuse, refuse]
    with pytest.raises(InvalidGrant, match="jwt-bearer grant at trello"):
        flow(idp, app, None)
    assert len(app.requests) == 2


def test_access_denied_is_not_retried() -> None:
    idp, app = FakeServer(IDP), FakeServer(APP)
    idp.token_replies += [id_jag_reply(idp)]
    app.token_replies += [lambda _r: json_response(400, {"error": "access_denied"})]
    with pytest.raises(AccessDenied):
        flow(idp, app, None)
    assert len(idp.requests) == 1


def test_audit_records_fingerprints_never_tokens() -> None:
    idp, app = FakeServer(IDP), FakeServer(APP)
    idp.token_replies.append(id_jag_reply(idp))
    app.token_replies.append(access_reply())
    records: list[Any] = []
    result = flow(idp, app, "board:read", records)
    assert [event for event, _ in records] == ["token_exchange", "jwt_bearer"]
    dump = json.dumps(records)
    assert result.id_jag.token not in dump
    assert result.access.access_token not in dump
    assert SUBJECT not in dump
    assert records[0][1]["jti"] == "jag-1"
    assert len(records[1][1]["token_fingerprint"]) == 16


def test_refusal_at_hop_one_is_recorded() -> None:
    idp, app = FakeServer(IDP), FakeServer(APP)
    idp.token_replies.append(lambda _r: json_response(400, {"error": "invalid_target"}))
    records: list[Any] = []
    with pytest.raises(Exception, match="invalid_target") as caught:
        flow(idp, app, "board:write", records)
    assert caught.value.hint == "the IdP's policy does not let client xaa-agent reach trello"  # type: ignore[attr-defined]
    assert records == [("token_exchange", records[0][1])]
    assert records[0][1]["outcome"] == "error"
    assert app.requests == []
