"""Signing keys of the IdP and of each app, created on first start and kept in the store, so tokens signed
before a restart still verify after it (and every worker process signs with the same key)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from xaa_cli.core.keys import dumps_jwk, generate_private_jwk, jwks_document, loads_jwk
from xaa_cli.server.store import Store


class SigningKeys:
    """One key per name (a realm, or a purpose such as the IdP's ID tokens), made with ``algs[name]`` or
    ``alg``; ``published[realm]`` names the other keys that realm's JWKS lists with its own."""

    def __init__(
        self,
        store: Store,
        alg: str,
        *,
        algs: Mapping[str, str] | None = None,
        published: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self._store = store
        self._alg = alg
        self._algs = dict(algs or {})
        self._published = dict(published or {})
        self._cache: dict[str, Mapping[str, Any]] = {}
        self._jwks: dict[str, dict[str, Any]] = {}
        self._trusted: dict[str, tuple[Mapping[str, Any], ...]] = {}

    def private(self, name: str) -> Mapping[str, Any]:
        if name not in self._cache:
            key = f"signing_key:{name}"
            stored = self._store.get_kv(key)
            if stored is None:
                new = generate_private_jwk(self._algs.get(name, self._alg))
                stored = self._store.setdefault_kv(key, dumps_jwk(new))
            # Read-only: core.keys imports a read-only key once per object (see key_object).
            self._cache[name] = MappingProxyType(loads_jwk(stored))
        return self._cache[name]

    def jwks(self, realm: str) -> dict[str, Any]:
        if realm not in self._jwks:
            names = (realm, *self._published.get(realm, ()))
            self._jwks[realm] = jwks_document(*(self.private(n) for n in names))
        return self._jwks[realm]

    def trusted(self, realm: str) -> tuple[Mapping[str, Any], ...]:
        """The public keys of ``realm``'s JWKS, read-only, for verifying what it signed."""
        if realm not in self._trusted:
            self._trusted[realm] = tuple(MappingProxyType(k) for k in self.jwks(realm)["keys"])
        return self._trusted[realm]
