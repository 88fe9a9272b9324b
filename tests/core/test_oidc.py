from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.oauth_fakes import IDP, FakeServer, client
from xaa_cli.clock import FixedClock
from xaa_cli.core.discovery import ServerMetadata, fetch_server_metadata
from xaa_cli.core.keys import generate_private_jwk, sign_jwt
from xaa_cli.core.oidc import (
    Pkce,
    authorization_url,
    check_authorization_response,
    make_pkce,
    pkce_challenge,
    validate_id_token,
)
from xaa_cli.errors import ProtocolError, RemoteError, TokenVerificationError

NOW = 1_800_000_000


def test_pkce_rfc7636_appendix_b_vector() -> None:
    assert (
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_make_pkce_verifier_is_long_enough_and_unreserved() -> None:
    pkce = make_pkce()
    assert 43 <= len(pkce.verifier) <= 128
    assert set(pkce.verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def meta(**extra: Any) -> ServerMetadata:
    server = FakeServer(IDP, extra_metadata=extra)
    return fetch_server_metadata(client(server), IDP)


def test_authorization_url_parameters() -> None:
    url = authorization_url(
        meta(), client_id="xaa-agent", redirect_uri="http://127.0.0.1:5555/callback",
        scopes=["openid", "offline_access"], state="st", nonce="no", pkce=Pkce("v" * 43, "chal"),
    )  # fmt: skip
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == IDP + "/authorize"
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": ["xaa-agent"],
        "redirect_uri": ["http://127.0.0.1:5555/callback"],
        "scope": ["openid offline_access"],
        "state": ["st"],
        "nonce": ["no"],
        "code_challenge": ["chal"],
        "code_challenge_method": ["S256"],
    }


def test_authorization_response_checks() -> None:
    m = meta(authorization_response_iss_parameter_supported=True)
    assert check_authorization_response({"code": "c", "state": "s", "iss": IDP}, state="s", metadata=m) == "c"
    with pytest.raises(ProtocolError, match="wrong state"):
        check_authorization_response({"code": "c", "state": "x", "iss": IDP}, state="s", metadata=m)
    with pytest.raises(ProtocolError, match="RFC 9207"):
        check_authorization_response({"code": "c", "state": "s", "iss": IDP + "/"}, state="s", metadata=m)
    with pytest.raises(ProtocolError, match="has none"):
        check_authorization_response({"code": "c", "state": "s"}, state="s", metadata=m)
    with pytest.raises(RemoteError, match="access_denied"):
        check_authorization_response(
            {"error": "access_denied", "state": "s", "iss": IDP}, state="s", metadata=m
        )
    # an IdP that does not promise iss may omit it
    assert check_authorization_response({"code": "c", "state": "s"}, state="s", metadata=meta()) == "c"


def id_claims(**over: Any) -> dict[str, Any]:
    claims = {"iss": IDP, "sub": "alice", "aud": "xaa-agent", "exp": NOW + 600, "iat": NOW, "nonce": "n1"}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def validate(server: FakeServer, token: str, nonce: str | None = "n1") -> dict[str, Any]:
    http = client(server)
    return validate_id_token(
        http,
        token,
        fetch_server_metadata(http, IDP),
        client_id="xaa-agent",
        clock=FixedClock(NOW),
        nonce=nonce,
    )


def test_valid_id_token() -> None:
    server = FakeServer(IDP)
    assert validate(server, server.sign(id_claims()))["sub"] == "alice"


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"iss": IDP + "/"}, "issued by"),
        ({"aud": "someone-else"}, "not for client"),
        ({"aud": ["xaa-agent", "other"]}, "azp"),
        ({"exp": NOW - 120}, "expired"),
        ({"nonce": "n2"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"exp": None}, "no exp"),
    ],
)
def test_id_token_claim_failures(over: dict[str, Any], message: str) -> None:
    server = FakeServer(IDP)
    with pytest.raises(TokenVerificationError, match=message):
        validate(server, server.sign(id_claims(**over)))


def test_jwks_missing_the_kid_is_refused() -> None:
    server = FakeServer(IDP)
    stranger = generate_private_jwk("ES256")
    token = sign_jwt(id_claims(), stranger)
    with pytest.raises(TokenVerificationError, match="kid"):
        validate(server, token)


def test_key_rotation_refetches_jwks_once() -> None:
    server = FakeServer(IDP)
    old_key = server.key
    http = client(server)
    m = fetch_server_metadata(http, IDP)
    server.key = generate_private_jwk("ES256")  # rotated after the caller fetched keys
    token = server.sign(id_claims())
    stale = [{k: v for k, v in old_key.items() if k != "d"}]
    with pytest.raises(TokenVerificationError):
        validate_id_token(
            http, token, m, client_id="xaa-agent", clock=FixedClock(NOW), nonce="n1", jwks=stale
        )
    assert validate_id_token(http, token, m, client_id="xaa-agent", clock=FixedClock(NOW), nonce="n1")


def test_tampered_signature_is_refused() -> None:
    server = FakeServer(IDP)
    header, payload, sig = server.sign(id_claims()).split(".")
    forged = sign_jwt(id_claims(sub="mallory"), server.key).split(".")[1]
    with pytest.raises(TokenVerificationError, match="signature"):
        validate(server, f"{header}.{forged}.{sig}")
    assert payload != forged


def test_an_id_jag_is_not_an_id_token() -> None:
    server = FakeServer(IDP)
    with pytest.raises(TokenVerificationError, match="ID-JAG"):
        validate(server, server.sign(id_claims(), typ="oauth-id-jag+jwt"))
