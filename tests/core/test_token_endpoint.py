from __future__ import annotations

import httpx
import pytest

from tests.support.oauth_fakes import json_response
from xaa_cli.clock import FixedClock
from xaa_cli.core.client_auth import ClientCredentials
from xaa_cli.core.constants import ClientAuthMethod
from xaa_cli.core.http import make_client
from xaa_cli.core.token_endpoint import (
    ERROR_CLASSES,
    AccessDenied,
    Endpoint,
    Hop,
    InvalidClient,
    InvalidGrant,
    InvalidTarget,
    StepEvent,
    error_for,
    token_request,
)
from xaa_cli.errors import NetworkError, OAuthError, ProtocolError

SECRET = "s3cr" + "et-value"
HOP = Hop("token exchange at the IdP", "xaa-agent", "trello", "board:write")
ENDPOINT = Endpoint(
    "https://idp.example", "https://idp.example/token",
    ClientCredentials("xaa-agent", ClientAuthMethod.CLIENT_SECRET_POST, secret=SECRET), "the IdP",
)  # fmt: skip


def call(reply: httpx.Response | Exception, observer: object = None) -> dict[str, object]:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(reply, Exception):
            raise reply
        return reply

    http = make_client(transport=httpx.MockTransport(handler))
    return token_request(http, ENDPOINT, {"grant_type": "g"}, HOP, clock=FixedClock(), observer=observer)  # type: ignore[arg-type]


def test_invalid_target_says_which_hop_and_why() -> None:
    with pytest.raises(InvalidTarget) as caught:
        call(json_response(400, {"error": "invalid_target", "error_description": "no rule"}))
    err = caught.value
    assert err.hop == "token exchange at the IdP"
    assert err.status == 400
    assert str(err) == "token exchange at the IdP: the server answered invalid_target (no rule)"
    assert err.hint == "the IdP's policy does not let client xaa-agent reach trello"


@pytest.mark.parametrize(("code", "klass"), list(ERROR_CLASSES.items()))
def test_every_known_code_maps_to_its_class(code: str, klass: type[OAuthError]) -> None:
    err = error_for(400, {"error": code}, HOP)
    assert type(err) is klass
    assert err.error == code


def test_unknown_code_is_plain_oauth_error_and_description_is_capped() -> None:
    err = error_for(400, {"error": "weird", "error_description": "x" * 1000}, HOP)
    assert type(err) is OAuthError
    assert len(err.description or "") == 300


def test_invalid_client_401() -> None:
    with pytest.raises(InvalidClient, match="invalid_client") as caught:
        call(json_response(401, {"error": "invalid_client"}, {"WWW-Authenticate": "Basic"}))
    assert "xaa-agent" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (httpx.Response(502, text="<!DOCTYPE html><html>Bad gateway</html>"), "HTML page"),
        (httpx.Response(500, content=b""), "empty body"),
        (httpx.Response(200, text="{not json"), "not a JSON object"),
        (json_response(200, ["a"]), "not a JSON object"),
        (json_response(200, {"token_type": "Bearer"}), "no access_token"),
        (json_response(200, {"access_token": "a", "expires_in": "soon"}), "expires_in"),
        (httpx.Response(200, content=b"{" + b" " * (1024 * 1024 + 10) + b"}"), "larger than"),
    ],
)
def test_hostile_answers_are_protocol_errors(reply: httpx.Response, message: str) -> None:
    with pytest.raises(ProtocolError, match=message) as caught:
        call(reply)
    assert str(caught.value).startswith("token exchange at the IdP:")


def test_network_failure_names_the_hop() -> None:
    with pytest.raises(NetworkError, match="token exchange at the IdP: cannot reach"):
        call(httpx.ConnectError("refused"))


def test_error_body_with_200_is_not_a_success() -> None:
    with pytest.raises(ProtocolError):
        call(json_response(200, {"error": "invalid_grant"}))


def test_observer_sees_redacted_parameters_only() -> None:
    seen: list[StepEvent] = []
    body = call(json_response(200, {"access_token": "tok-" + "abcdef", "token_type": "Bearer"}), seen.append)
    assert body["access_token"] == "tok-abcdef"
    (event,) = seen
    assert event.url == "https://idp.example/token"
    assert event.grant_type == "g"
    assert event.status == 200
    assert SECRET not in event.params
    assert "redacted" in event.params
    assert "tok-abcdef" not in str(event.body)


def test_invalid_grant_class_is_retryable_marker() -> None:
    assert issubclass(InvalidGrant, OAuthError)
    assert not issubclass(AccessDenied, InvalidGrant)


def test_numeric_string_expires_in_is_accepted() -> None:
    body = call(json_response(200, {"access_token": "a", "token_type": "Bearer", "expires_in": "3599"}))
    assert body["expires_in"] == 3599


def test_server_text_cannot_inject_terminal_escapes() -> None:
    err = error_for(400, {"error": "bad\x1b[31m", "error_description": "x\x1b]0;pwned\x07y"}, HOP)
    assert "\x1b" not in str(err)
    assert "\x07" not in str(err)
    assert err.error == "bad?[31m"
