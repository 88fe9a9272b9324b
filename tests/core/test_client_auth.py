from __future__ import annotations

import base64
import json

import pytest

from xaa_cli.b64 import b64url_decode
from xaa_cli.clock import FixedClock
from xaa_cli.core.client_auth import ClientCredentials, authenticate, basic_header
from xaa_cli.core.constants import CLIENT_ASSERTION_TYPE_JWT, ClientAuthMethod
from xaa_cli.core.jose import decode_unverified, verify_signature
from xaa_cli.core.keys import generate_private_jwk, public_jwk
from xaa_cli.errors import ConfigError

ISSUER = "https://as.example/tenant"
SECRET = "p+w%d/é:x " + "y"  # characters that change meaning unless form-encoded


def test_basic_form_urlencodes_each_part_before_base64() -> None:
    header = basic_header("client id:1", SECRET)
    decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
    assert decoded == "client+id%3A1:p%2Bw%25d%2F%C3%A9%3Ax+y"


@pytest.mark.parametrize("method", list(ClientAuthMethod))
def test_exactly_one_method_per_request(method: ClientAuthMethod) -> None:
    creds = ClientCredentials(
        "xaa-agent",
        method,
        secret=SECRET if "secret" in method else None,
        private_jwk=generate_private_jwk() if method == ClientAuthMethod.PRIVATE_KEY_JWT else None,
    )
    form, headers = authenticate(creds, {"grant_type": "x"}, issuer=ISSUER, clock=FixedClock())
    used = [
        "Authorization" in headers,
        "client_secret" in form,
        "client_assertion" in form,
    ]
    assert sum(used) == (0 if method == ClientAuthMethod.NONE else 1)
    assert form["client_id"] == "xaa-agent"
    assert form["grant_type"] == "x"


def test_post_puts_secret_in_body_only() -> None:
    creds = ClientCredentials("c", ClientAuthMethod.CLIENT_SECRET_POST, secret=SECRET)
    form, headers = authenticate(creds, {}, issuer=ISSUER, clock=FixedClock())
    assert form == {"client_id": "c", "client_secret": SECRET}
    assert headers == {}


@pytest.mark.parametrize("alg", ["ES256", "ES384", "RS256", "Ed25519"])
def test_private_key_jwt_assertion_claims_and_signature(alg: str) -> None:
    key = generate_private_jwk(alg)
    creds = ClientCredentials("xaa-agent", ClientAuthMethod.PRIVATE_KEY_JWT, private_jwk=key)
    ids = iter(["jti-1", "jti-2"])
    clock = FixedClock(1_800_000_000)
    form1, _ = authenticate(creds, {}, issuer=ISSUER, clock=clock, new_id=lambda: next(ids))
    form2, _ = authenticate(creds, {}, issuer=ISSUER, clock=clock, new_id=lambda: next(ids))
    assert form1["client_assertion_type"] == CLIENT_ASSERTION_TYPE_JWT
    decoded = decode_unverified(form1["client_assertion"])
    verify_signature(decoded, [public_jwk(key)])
    assert decoded.header["typ"] == "client-authentication+jwt"
    assert decoded.header["kid"] == key["kid"]
    assert decoded.claims == {
        "iss": "xaa-agent",
        "sub": "xaa-agent",
        "aud": ISSUER,
        "jti": "jti-1",
        "iat": 1_800_000_000,
        "exp": 1_800_000_060,
    }
    assert json.loads(b64url_decode(form2["client_assertion"].split(".")[1]))["jti"] == "jti-2"


def test_missing_credentials_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="no client secret"):
        ClientCredentials("c", ClientAuthMethod.CLIENT_SECRET_BASIC)
    with pytest.raises(ConfigError, match="no private key"):
        ClientCredentials("c", ClientAuthMethod.PRIVATE_KEY_JWT)


def test_secrets_do_not_appear_in_repr() -> None:
    creds = ClientCredentials("c", ClientAuthMethod.CLIENT_SECRET_POST, secret=SECRET)
    assert SECRET not in repr(creds)
