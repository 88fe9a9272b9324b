"""Asymmetric key generation and (de)serialisation as JWKs, for client keys (``private_key_jwt``) and the
reference server's signing keys. ES256 by default: cheaper to sign than RS256 and widely supported."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from xaa_cli.errors import UsageError

# "Ed25519" is the fully-specified name (RFC 9864) for what older tokens call "EdDSA".
KEY_ALGS: Final[tuple[str, ...]] = ("ES256", "ES384", "RS256", "PS256", "Ed25519")
_CURVE: Final[Mapping[str, str]] = {"ES256": "P-256", "ES384": "P-384", "Ed25519": "Ed25519"}


def generate_private_jwk(alg: str = "ES256", *, kid: str | None = None) -> dict[str, Any]:
    """A new private key as a JWK dict with ``alg``, ``use`` = sig and a ``kid`` (its RFC 7638 thumbprint)."""
    from joserfc.jwk import ECKey, OKPKey, RSAKey

    if alg not in KEY_ALGS:
        raise UsageError(f"unsupported key algorithm {alg!r}", hint=f"use one of {', '.join(KEY_ALGS)}")
    key: ECKey | RSAKey | OKPKey
    if alg.startswith("ES"):
        key = ECKey.generate_key(_CURVE[alg], private=True)
    elif alg == "Ed25519":
        key = OKPKey.generate_key("Ed25519", private=True)
    else:
        key = RSAKey.generate_key(2048, private=True)
    data = dict(key.as_dict(private=True))
    data["kid"] = kid or key.thumbprint()
    data["alg"] = alg
    data["use"] = "sig"
    return data


_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def public_jwk(private: Mapping[str, Any]) -> dict[str, Any]:
    """The public half of a JWK: every private member removed."""
    return {k: v for k, v in private.items() if k not in _PRIVATE_MEMBERS}


def jwks_document(*keys: Mapping[str, Any]) -> dict[str, Any]:
    return {"keys": [public_jwk(k) for k in keys]}


def dumps_jwk(jwk: Mapping[str, Any]) -> str:
    return json.dumps(dict(jwk), separators=(",", ":"), sort_keys=True)


def loads_jwk(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError("the stored key is not a JSON Web Key") from exc
    if not isinstance(value, dict) or "kty" not in value:
        raise UsageError("the stored key is not a JSON Web Key")
    return value


def sign_jwt(
    claims: Mapping[str, Any],
    private: Mapping[str, Any],
    *,
    typ: str | None = "JWT",
    extra_header: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``claims`` with ``private`` (a JWK dict with ``alg``), putting its ``kid`` in the header."""
    from joserfc.errors import UnsupportedAlgorithmError

    from xaa_cli.b64 import b64url_encode
    from xaa_cli.core.jose import alg_model, check_header

    alg = str(private.get("alg") or "ES256")
    header: dict[str, Any] = {"alg": alg}
    if typ:
        header["typ"] = typ
    if private.get("kid"):
        header["kid"] = private["kid"]
    if extra_header:
        header.update(extra_header)
        if header["alg"] != alg:  # the key decides the algorithm; a header may not claim another one
            raise UnsupportedAlgorithmError(f"Algorithm of '{header['alg']}' is not allowed")
        check_header(header)
    key = key_object(private)
    model = alg_model(alg)
    model.check_key(key)
    signing_input = f"{_segment(header)}.{_segment(claims)}".encode("ascii")
    return f"{signing_input.decode('ascii')}.{b64url_encode(model.sign(signing_input, key))}"


def _segment(value: Mapping[str, Any]) -> str:
    from xaa_cli.b64 import b64url_encode

    return b64url_encode(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


_READ_ONLY_KEYS: dict[int, tuple[Mapping[str, Any], Any]] = {}
_READ_ONLY_LIMIT: Final = 256


def key_object(jwk: Mapping[str, Any]) -> Any:
    """joserfc's key object for a JWK. A read-only mapping (``MappingProxyType``: the reference server's
    keys) is imported once per object, looked up by identity; any other through ``imported_key``, whose
    cache key is the JWK's canonical JSON (building that text for every signature and verification was
    ~5% of a jwt-bearer request's CPU on the server, py-spy)."""
    if not isinstance(jwk, MappingProxyType):
        return imported_key(dumps_jwk(jwk))
    hit = _READ_ONLY_KEYS.get(id(jwk))
    if hit is not None and hit[0] is jwk:  # the entry holds the mapping, so its id cannot be reused
        return hit[1]
    if len(_READ_ONLY_KEYS) >= _READ_ONLY_LIMIT:
        _READ_ONLY_KEYS.clear()
    key = imported_key(dumps_jwk(jwk))
    _READ_ONLY_KEYS[id(jwk)] = (jwk, key)
    return key


@functools.lru_cache(maxsize=128)
def imported_key(jwk_json: str) -> Any:
    """joserfc's key object for a JWK (as ``dumps_jwk`` text), cached: importing costs more than signing
    (measured by benchmarks/server_load.py), and servers sign and verify with the same few keys."""
    from joserfc.jwk import import_key

    return import_key(json.loads(jwk_json))
