"""``sign_jwt`` and ``verify_signature`` call joserfc's algorithm objects directly (no compact
serialisation round trip): their tokens must still be ordinary RFC 7515/7518/8037 JWS, readable by joserfc's
own ``jws.deserialize_compact`` and by ``cryptography`` used by hand, and forgeries must still be refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc import jws
from joserfc.jwk import import_key

from tests.support.indep_jws import make_signer
from xaa_cli.b64 import b64url_decode, b64url_encode
from xaa_cli.core.jose import decode_unverified, verify_signature
from xaa_cli.core.keys import KEY_ALGS, generate_private_jwk, public_jwk, sign_jwt
from xaa_cli.errors import TokenVerificationError

CLAIMS: dict[str, Any] = {
    "iss": "https://idp.example",
    "sub": "alice",
    "aud": ["https://app.example", "urn:xaa:app:trello"],
    "iat": 1_700_000_000,
    "exp": 1_700_000_300,
    "jti": "jti-1",
    "scope": "board:read board:write",
    "cnf": {"jkt": "abc"},
    "n": 3.5,
    "ok": True,
    "nothing": None,
}
NON_ASCII: dict[str, Any] = {
    "name": "Zoë Ångström",
    "cjk": "山田太郎",
    "rtl": "שלום",
    "emoji": "🔑👩‍💻",
    "separators": "a\u2028b\u2029c",
    "escapes": 'quote " backslash \\ tab \t nul \u0000',
    "nested": {"ключ": ["значение", "✓"]},
}
_EC_SIZES = {"ES256": (ec.SECP256R1(), hashes.SHA256(), 32), "ES384": (ec.SECP384R1(), hashes.SHA384(), 48)}


@pytest.fixture(scope="module", params=KEY_ALGS)
def private(request: pytest.FixtureRequest) -> dict[str, Any]:
    jwk: dict[str, Any] = generate_private_jwk(request.param)
    return jwk


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    header, payload, signature = token.split(".")
    return (
        json.loads(b64url_decode(header)),
        json.loads(b64url_decode(payload)),
        f"{header}.{payload}".encode("ascii"),
        b64url_decode(signature),
    )


def _int(value: str) -> int:
    return int.from_bytes(b64url_decode(value), "big")


def _verify_with_cryptography(jwk: dict[str, Any], signing_input: bytes, signature: bytes) -> None:
    """RFC 7518 §3.3-3.5 and RFC 8037 §3.1 by hand; raises ``InvalidSignature`` on a bad signature."""
    alg = jwk["alg"]
    if alg in _EC_SIZES:
        curve, digest, size = _EC_SIZES[alg]
        assert len(signature) == 2 * size  # JOSE's fixed-size R || S, never DER
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        key = ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]), curve).public_key()
        key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(digest))
    elif alg in ("RS256", "PS256"):
        rsa_key = rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
        assert len(signature) == rsa_key.key_size // 8
        pad: padding.AsymmetricPadding = (
            padding.PKCS1v15()
            if alg == "RS256"
            else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)  # salt = hash size
        )
        rsa_key.verify(signature, signing_input, pad, hashes.SHA256())
    else:
        assert alg == "Ed25519"
        assert len(signature) == 64
        ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"])).verify(signature, signing_input)


def test_joserfc_deserialize_compact_accepts_the_token(private: dict[str, Any]) -> None:
    token = sign_jwt(CLAIMS, private)
    alg = private["alg"]
    verified = jws.deserialize_compact(token, import_key(public_jwk(private)), algorithms=[alg])
    assert verified.headers() == {"alg": alg, "typ": "JWT", "kid": private["kid"]}
    assert json.loads(verified.payload) == CLAIMS


def test_cryptography_by_hand_accepts_the_token(private: dict[str, Any]) -> None:
    token = sign_jwt(CLAIMS, private)
    _, claims, signing_input, signature = _parts(token)
    _verify_with_cryptography(public_jwk(private), signing_input, signature)
    assert claims == CLAIMS


def test_es256_signature_is_raw_r_and_s() -> None:
    private = generate_private_jwk("ES256")
    _, _, signing_input, signature = _parts(sign_jwt(CLAIMS, private))
    assert len(signature) == 64
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    public = public_jwk(private)
    key = ec.EllipticCurvePublicNumbers(_int(public["x"]), _int(public["y"]), ec.SECP256R1()).public_key()
    key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))


def test_header_is_exactly_alg_typ_kid(private: dict[str, Any]) -> None:
    header, _, _, _ = _parts(sign_jwt(CLAIMS, private))
    assert header == {"alg": private["alg"], "typ": "JWT", "kid": private["kid"]}
    explicit, _, _, _ = _parts(sign_jwt(CLAIMS, private, typ="oauth-id-jag+jwt"))
    assert explicit == {"alg": private["alg"], "typ": "oauth-id-jag+jwt", "kid": private["kid"]}


def test_typ_none_omits_typ(private: dict[str, Any]) -> None:
    token = sign_jwt(CLAIMS, private, typ=None)
    header, _, _, _ = _parts(token)
    assert header == {"alg": private["alg"], "kid": private["kid"]}
    assert verify_signature(decode_unverified(token), [public_jwk(private)])["kid"] == private["kid"]


def test_a_key_without_kid_signs_without_kid() -> None:
    private = generate_private_jwk("ES256")
    del private["kid"]
    token = sign_jwt(CLAIMS, private)
    assert _parts(token)[0] == {"alg": "ES256", "typ": "JWT"}
    assert verify_signature(decode_unverified(token), [public_jwk(private)]) == public_jwk(private)


def test_non_ascii_claims_round_trip(private: dict[str, Any]) -> None:
    token = sign_jwt(NON_ASCII, private)
    alg = private["alg"]
    verified = jws.deserialize_compact(token, import_key(public_jwk(private)), algorithms=[alg])
    assert json.loads(verified.payload.decode("utf-8")) == NON_ASCII
    decoded = decode_unverified(token)
    assert decoded.claims == NON_ASCII
    verify_signature(decoded, [public_jwk(private)])
    _verify_with_cryptography(public_jwk(private), decoded.signing_input, decoded.signature)


def test_verify_signature_accepts_the_genuine_token(private: dict[str, Any]) -> None:
    decoded = decode_unverified(sign_jwt(CLAIMS, private))
    assert verify_signature(decoded, [public_jwk(private)]) == public_jwk(private)


def _with_signature(token: str, signature: bytes) -> str:
    head, payload, _ = token.split(".")
    return f"{head}.{payload}.{b64url_encode(signature)}"


@pytest.mark.parametrize("position", [0, 17, -1])
def test_a_flipped_signature_byte_is_refused(private: dict[str, Any], position: int) -> None:
    token = sign_jwt(CLAIMS, private)
    signature = bytearray(decode_unverified(token).signature)
    signature[position] ^= 0x01
    forged = decode_unverified(_with_signature(token, bytes(signature)))
    with pytest.raises(TokenVerificationError, match="does not verify"):
        verify_signature(forged, [public_jwk(private)])


@pytest.mark.parametrize("cut", ["empty", "short", "long"])
def test_a_signature_of_the_wrong_length_is_refused(private: dict[str, Any], cut: str) -> None:
    token = sign_jwt(CLAIMS, private)
    genuine = decode_unverified(token).signature
    signature = {"empty": b"", "short": genuine[:-1], "long": genuine + b"\x00"}[cut]
    forged = decode_unverified(_with_signature(token, signature))
    with pytest.raises(TokenVerificationError):
        verify_signature(forged, [public_jwk(private)])


def test_a_claim_changed_after_signing_is_refused(private: dict[str, Any]) -> None:
    token = sign_jwt(CLAIMS, private)
    head, _, signature = token.split(".")
    payload = b64url_encode(json.dumps({**CLAIMS, "sub": "mallory"}, separators=(",", ":")).encode())
    with pytest.raises(TokenVerificationError, match="does not verify"):
        verify_signature(decode_unverified(f"{head}.{payload}.{signature}"), [public_jwk(private)])


def test_another_key_with_the_same_kid_is_refused(private: dict[str, Any]) -> None:
    impostor = generate_private_jwk(private["alg"], kid=private["kid"])
    assert impostor["kid"] == private["kid"]
    assert public_jwk(impostor) != public_jwk(private)
    forged = decode_unverified(sign_jwt(CLAIMS, impostor))
    assert forged.header["kid"] == private["kid"]
    with pytest.raises(TokenVerificationError, match="does not verify"):
        verify_signature(forged, [public_jwk(private)])
    # and the trusted key set picks by kid: the impostor's own key is the one that verifies it
    assert verify_signature(forged, [public_jwk(impostor)]) == public_jwk(impostor)


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256", "Ed25519"])
def test_tokens_from_an_independent_signer_verify(alg: str) -> None:
    """The other direction: ``cryptography``-made signatures pass ``verify_signature``."""
    signer = make_signer(alg, kid=f"indep-{alg}")
    token = signer.token(NON_ASCII)
    key = verify_signature(decode_unverified(token), [signer.public_jwk()])
    assert key["kid"] == f"indep-{alg}"
    other = make_signer(alg, kid=f"indep-{alg}")
    with pytest.raises(TokenVerificationError):
        verify_signature(decode_unverified(other.token(NON_ASCII)), [signer.public_jwk()])


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"alg": "RS256"}, "unsupported_algorithm"),  # an ES256 key cannot sign a token that says RS256
        ({"kid": 5}, "invalid_header_value"),
        ({"crit": ["x"]}, "missing_crit_header"),
    ],
)
def test_extra_header_cannot_contradict_the_key_or_break_it(extra: dict[str, Any], error: str) -> None:
    from joserfc.errors import JoseError

    with pytest.raises(JoseError) as caught:
        sign_jwt({"sub": "x"}, generate_private_jwk("ES256"), extra_header=extra)
    assert caught.value.error == error


def test_read_only_keys_are_imported_once_and_plain_dicts_by_content() -> None:
    from types import MappingProxyType

    from xaa_cli.core.keys import key_object

    frozen = MappingProxyType(generate_private_jwk("ES256"))
    assert key_object(frozen) is key_object(frozen)  # by identity: the server's keys
    plain = generate_private_jwk("ES256")
    first = key_object(plain)
    plain.update(generate_private_jwk("ES256"))  # a plain dict may change: it is looked up by content
    second = key_object(plain)
    assert first.thumbprint() != second.thumbprint()
    token = sign_jwt({"sub": "x"}, frozen)
    verify_signature(decode_unverified(token), [MappingProxyType(public_jwk(frozen))])
