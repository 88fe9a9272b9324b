"""An INDEPENDENT JWS signer for tests, built on ``cryptography`` primitives only (never joserfc), so the
code under test is checked against a second implementation of RFC 7515/7518/8037."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(value: int, length: int | None = None) -> str:
    size = length or (value.bit_length() + 7) // 8
    return b64u(value.to_bytes(size, "big"))


@dataclass
class Signer:
    alg: str
    kid: str
    key: Any  # a cryptography private key

    def public_jwk(self) -> dict[str, Any]:
        pub = self.key.public_key()
        base: dict[str, Any] = {"kid": self.kid, "use": "sig", "alg": self.alg}
        if isinstance(pub, rsa.RSAPublicKey):
            nums = pub.public_numbers()
            return {"kty": "RSA", "n": _int_b64(nums.n), "e": _int_b64(nums.e), **base}
        if isinstance(pub, ec.EllipticCurvePublicKey):
            nums = pub.public_numbers()
            return {"kty": "EC", "crv": "P-256", "x": _int_b64(nums.x, 32), "y": _int_b64(nums.y, 32), **base}
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw), **base}

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}

    def sign_bytes(self, data: bytes) -> bytes:
        if self.alg == "RS256":
            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if self.alg == "PS256":
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            return self.key.sign(data, pss, hashes.SHA256())
        if self.alg == "ES256":
            r, s = decode_dss_signature(self.key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return self.key.sign(data)  # EdDSA / Ed25519 (RFC 8037)

    def token(self, claims: dict[str, Any], *, typ: str | None = "JWT", **header: Any) -> str:
        head: dict[str, Any] = {"alg": self.alg, "kid": self.kid}
        if typ is not None:
            head["typ"] = typ
        head.update(header)
        return sign_with(head, claims, self.sign_bytes)


def encode(obj: Any) -> str:
    return b64u(json.dumps(obj, separators=(",", ":")).encode())


def sign_with(header: dict[str, Any], claims: dict[str, Any], sign: Any) -> str:
    signing_input = f"{encode(header)}.{encode(claims)}"
    return f"{signing_input}.{b64u(sign(signing_input.encode('ascii')))}"


def make_signer(alg: str, kid: str | None = None, *, seed: int | None = None) -> Signer:
    """A fresh key; Ed25519 with ``seed`` is deterministic (for golden files)."""
    kid = kid or f"{alg.lower()}-key"
    if alg in ("RS256", "PS256"):
        return Signer(alg, kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    if alg == "ES256":
        return Signer(alg, kid, ec.generate_private_key(ec.SECP256R1()))
    if seed is not None:
        return Signer(alg, kid, ed25519.Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32))
    return Signer(alg, kid, ed25519.Ed25519PrivateKey.generate())


def hs256_token(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """The key-confusion attack: HMAC keyed with bytes the verifier holds as a PUBLIC key."""

    def mac(data: bytes) -> bytes:
        return hmac.new(secret, data, hashlib.sha256).digest()

    return sign_with({"alg": "HS256", **header}, claims, mac)


def unsigned_token(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{encode({'alg': 'none', **header})}.{encode(claims)}."
