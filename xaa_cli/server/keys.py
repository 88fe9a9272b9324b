"""Signing keys of the IdP and of each app, created on first start and kept in the store, so tokens signed
before a restart still verify after it (and every worker process signs with the same key)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xaa_cli.core.keys import dumps_jwk, generate_private_jwk, jwks_document, loads_jwk
from xaa_cli.server.store import Store


class SigningKeys:
    def __init__(self, store: Store, alg: str) -> None:
        self._store = store
        self._alg = alg
        self._cache: dict[str, dict[str, Any]] = {}
        self._jwks: dict[str, dict[str, Any]] = {}

    def private(self, realm: str) -> Mapping[str, Any]:
        if realm not in self._cache:
            key = f"signing_key:{realm}"
            stored = self._store.get_kv(key)
            if stored is None:
                stored = self._store.setdefault_kv(key, dumps_jwk(generate_private_jwk(self._alg)))
            self._cache[realm] = loads_jwk(stored)
        return self._cache[realm]

    def jwks(self, realm: str) -> dict[str, Any]:
        if realm not in self._jwks:
            self._jwks[realm] = jwks_document(self.private(realm))
        return self._jwks[realm]
