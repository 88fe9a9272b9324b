"""Regression: a ``crit`` header that is present but null or empty is refused cleanly (it reached joserfc,
which raised TypeError: an internal error in `xaa inspect` and a 500 in the reference server)."""

from __future__ import annotations

import json

import pytest

from xaa_cli.b64 import b64url_encode
from xaa_cli.core.jose import decode_unverified, verify_signature
from xaa_cli.core.keys import generate_private_jwk, public_jwk, sign_jwt
from xaa_cli.errors import TokenVerificationError


@pytest.mark.parametrize("crit", [None, [], ["exp"], "b64"])
def test_any_crit_header_is_refused(crit: object) -> None:
    key = generate_private_jwk("ES256")
    valid = sign_jwt({"sub": "x"}, key)
    header = b64url_encode(json.dumps({"alg": "ES256", "kid": key["kid"], "crit": crit}).encode())
    token = ".".join([header, *valid.split(".")[1:]])
    with pytest.raises(TokenVerificationError, match="'crit'"):
        verify_signature(decode_unverified(token), [public_jwk(key)])
