"""Verification in ``xaa_cli.core.inspect`` against tokens from an independent signer (cryptography)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.indep_jws import b64u, encode, hs256_token, make_signer, unsigned_token
from xaa_cli.core.inspect import Options, TokenKind, TrustedKeys, inspect_report, parse_token
from xaa_cli.core.inspect.trust import keys_from_file, parse_jwks
from xaa_cli.errors import UsageError

NOW = 1_800_000_000.0
IDP = "https://idp.example"
RAS = "https://as.example"


def id_jag_claims(**over: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": IDP,
        "sub": "alice",
        "aud": RAS,
        "client_id": "agent-at-as",
        "jti": "jti-1",
        "iat": int(NOW) - 60,
        "exp": int(NOW) + 240,
        "scope": "board:read board:write",
        "resource": "https://api.example/",
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def trusted(*signers: Any, issuer: str | None = IDP) -> TrustedKeys:
    return TrustedKeys(tuple(s.public_jwk() for s in signers), "test keys", issuer)


def run(token: str, trust: TrustedKeys | None, **opts: Any) -> Any:
    options = Options(enforced=trust is not None or bool(opts), **opts)
    return inspect_report(parse_token(token), now=NOW, trust=trust, options=options)


def row(report: Any, name: str) -> Any:
    return next(c for c in report.checks if c.name == name)


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA", "Ed25519"])
def test_valid_id_jag_verifies_for_each_algorithm(alg: str) -> None:
    signer = make_signer(alg)
    report = run(signer.token(id_jag_claims(), typ="oauth-id-jag+jwt"), trusted(signer), expected_aud=RAS)
    assert report.kind is TokenKind.ID_JAG
    assert report.verified is True
    assert report.failed == []
    assert report.passed
    assert f"{alg} signature verified with trusted key {signer.kid}" in row(report, "signature").detail
    assert row(report, "iss").ok
    assert row(report, "aud").ok


def test_tampered_payload_is_rejected() -> None:
    signer = make_signer("ES256")
    head, _, sig = signer.token(id_jag_claims(), typ="oauth-id-jag+jwt").split(".")
    forged = f"{head}.{encode(id_jag_claims(scope='admin'))}.{sig}"
    report = run(forged, trusted(signer))
    assert not report.verified
    assert row(report, "signature").ok is False
    assert "the signature does not verify" in row(report, "signature").detail
    assert not report.passed


def test_wrong_key_with_the_same_kid_is_rejected() -> None:
    real, attacker = make_signer("RS256", "k1"), make_signer("RS256", "k1")
    report = run(attacker.token(id_jag_claims()), trusted(real))
    assert row(report, "signature").ok is False
    assert "does not verify" in row(report, "signature").detail
    assert report.verification_note.startswith("the signature check failed")


def test_unknown_kid_is_rejected_and_names_the_known_kids() -> None:
    real, other = make_signer("ES256", "real-kid"), make_signer("ES256", "rotated-kid")
    report = run(other.token(id_jag_claims()), trusted(real))
    detail = row(report, "signature").detail
    assert row(report, "signature").ok is False
    assert "no trusted key has kid 'rotated-kid'" in detail
    assert "real-kid" in detail


def test_expired_token_says_how_long_ago() -> None:
    signer = make_signer("EdDSA")
    claims = id_jag_claims(iat=int(NOW) - 3 * 3600 - 300, exp=int(NOW) - 3 * 3600)
    report = run(signer.token(claims, typ="oauth-id-jag+jwt"), trusted(signer), leeway=0)
    exp = row(report, "exp")
    assert exp.ok is False
    assert "expired 3h ago" in exp.detail
    assert report.verified  # the signature is fine; the token is just old
    assert not report.passed


def test_not_yet_valid_token_explains_clock_skew() -> None:
    signer = make_signer("ES256")
    report = run(signer.token(id_jag_claims(nbf=int(NOW) + 600)), trusted(signer))
    nbf = row(report, "nbf")
    assert nbf.ok is False
    assert "not valid yet: becomes valid in 10m" in nbf.detail
    assert "clock" in nbf.detail


def test_wrong_audience_is_rejected_with_both_values() -> None:
    signer = make_signer("PS256")
    report = run(signer.token(id_jag_claims(aud="https://other.example")), trusted(signer), expected_aud=RAS)
    aud = row(report, "aud")
    assert aud.ok is False
    assert "https://other.example" in aud.detail
    assert RAS in aud.detail


def test_trailing_slash_audience_is_a_near_miss_that_still_fails() -> None:
    signer = make_signer("ES256")
    report = run(signer.token(id_jag_claims(aud=RAS + "/")), trusted(signer), expected_aud=RAS)
    assert row(report, "aud").ok is False
    assert "trailing slash" in row(report, "aud").detail


def test_alg_none_is_refused_even_with_trusted_keys() -> None:
    signer = make_signer("ES256", "k1")
    token = unsigned_token({"typ": "oauth-id-jag+jwt", "kid": "k1"}, id_jag_claims())
    report = run(token, trusted(signer))
    assert not report.verified
    assert "alg 'none'" in row(report, "signature").detail
    assert row(report, "alg").ok is False
    assert any("unsigned" in w for w in report.warnings)


@pytest.mark.parametrize("secret_form", ["pem", "jwk"])
def test_hmac_key_confusion_attack_is_refused(secret_form: str) -> None:
    signer = make_signer("RS256", "k1")
    secret = signer.public_pem() if secret_form == "pem" else json.dumps(signer.public_jwk()).encode()
    token = hs256_token({"typ": "oauth-id-jag+jwt", "kid": "k1"}, id_jag_claims(), secret)
    report = run(token, trusted(signer))
    detail = row(report, "signature").detail
    assert not report.verified
    assert "HS256 is a shared-secret MAC" in detail
    assert "key-confusion" in detail


def test_embedded_jwk_header_is_never_trusted() -> None:
    real, attacker = make_signer("ES256", "k1"), make_signer("ES256", "k1")
    token = attacker.token(id_jag_claims(), jwk=attacker.public_jwk(), jku="https://evil.example/jwks")
    report = run(token, trusted(real))
    detail = row(report, "signature").detail
    assert row(report, "signature").ok is False
    assert "never used as a trusted key" in detail
    assert any("'jwk'" in w for w in report.warnings)
    assert any("'jku'" in w for w in report.warnings)


def test_embedded_jwk_alone_gives_no_verification() -> None:
    attacker = make_signer("EdDSA")
    report = run(attacker.token(id_jag_claims(), jwk=attacker.public_jwk()), None)
    assert not report.verified
    assert row(report, "signature").ok is None
    assert report.passed  # decoding alone passes; the first line says NOT VERIFIED


def test_alg_must_match_key_type() -> None:
    rsa_key = make_signer("RS256", "k1")
    ec_signer = make_signer("ES256", "k1")
    report = run(ec_signer.token(id_jag_claims()), trusted(rsa_key))
    assert row(report, "signature").ok is False
    assert "for alg ES256" in row(report, "signature").detail


def test_good_signature_from_other_issuer_is_not_verified() -> None:
    signer = make_signer("ES256")
    report = run(signer.token(id_jag_claims(iss="https://evil.example")), trusted(signer))
    assert row(report, "signature").ok is True
    assert row(report, "iss").ok is False
    assert report.verified is False
    assert "issuer is not the trusted one" in report.verification_note


def test_no_trust_never_verifies() -> None:
    signer = make_signer("ES256")
    report = run(signer.token(id_jag_claims()), None)
    assert report.verified is False
    assert report.passed
    assert row(report, "signature").ok is None
    assert "no trust source" in report.verification_note


def test_opaque_and_jwe_cannot_be_verified_with_keys() -> None:
    signer = make_signer("ES256")
    opaque = run("2YotnFZFEjr1zCsicMWpAA", trusted(signer))
    assert opaque.kind is TokenKind.OPAQUE
    assert row(opaque, "signature").ok is False
    assert "opaque" in row(opaque, "signature").detail
    jwe = ".".join([encode({"alg": "RSA-OAEP-256", "enc": "A256GCM"}), "a", "b", "c", "d"])
    report = run(jwe, trusted(signer))
    assert report.kind is TokenKind.JWE
    assert report.header["enc"] == "A256GCM"
    assert "encrypted" in row(report, "signature").detail


@pytest.mark.parametrize("crit", [["exp"], None, [], "exp"])
def test_crit_header_is_not_verified(crit: Any) -> None:
    signer = make_signer("ES256")
    report = run(signer.token(id_jag_claims(), crit=crit), trusted(signer))
    assert row(report, "signature").ok is False
    assert "crit" in row(report, "signature").detail


def test_jwks_file_loads_public_keys_and_refuses_symmetric(tmp_path: Path) -> None:
    signer = make_signer("EdDSA")
    doc = {"keys": [{"kty": "oct", "k": b64u(b"shared"), "kid": "hmac"}, signer.public_jwk(), {"kty": "EC"}]}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(doc))
    keys = keys_from_file(path, IDP)
    assert [k["kid"] for k in keys.keys] == [signer.kid]
    assert any("symmetric" in note for note in keys.ignored)
    report = run(signer.token(id_jag_claims()), keys)
    assert report.verified
    assert any("ignored key hmac" in w for w in report.warnings)


def test_jwks_private_members_are_dropped() -> None:
    from xaa_cli.core.keys import generate_private_jwk

    private = generate_private_jwk("ES256", kid="p")
    keys, _ = parse_jwks(json.dumps({"keys": [private]}).encode(), "doc")
    assert "d" not in keys[0]


@pytest.mark.parametrize(
    "doc", [b"not json", b"[]", b'{"keys": "x"}', b'{"keys": [{"kty": "oct", "k": "AA"}]}']
)
def test_bad_jwks_documents_are_usage_errors(doc: bytes) -> None:
    with pytest.raises(UsageError):
        parse_jwks(doc, "the test JWKS")
