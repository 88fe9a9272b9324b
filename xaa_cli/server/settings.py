"""Server settings (what the CLI layer passes in) and the runtime shared by every handler."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from xaa_cli.clock import Clock, IdFactory, SystemClock, random_id
from xaa_cli.server.audit import Auditor
from xaa_cli.server.batch import WriteBatch
from xaa_cli.server.client_auth import ClientAuthenticator, ClientCredential, Registration, secret_sha256
from xaa_cli.server.keys import SigningKeys
from xaa_cli.server.policy import DEFAULT_POLICY, Policy
from xaa_cli.server.store import Store

IDP = "idp"
ID_TOKEN_KEY = "idp-id-token"  # noqa: S105 - the name of the IdP's ID-token signing key (not a secret)


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Everything the server needs; credentials arrive as hashes and public keys only.

    ``credentials`` is keyed by ``(realm, client_id)`` where realm is ``"idp"`` or an app name.
    """

    base_url: str
    policy: Policy = DEFAULT_POLICY
    data_dir: Path | None = None  # None: in-memory SQLite
    auto_approve: str | None = None
    credentials: Mapping[tuple[str, str], ClientCredential] = field(default_factory=dict)
    admin_token_sha256: str | None = None
    clock: Clock = field(default_factory=SystemClock)
    new_id: IdFactory = random_id
    background_checkpoints: bool = False  # a WalCheckpointer runs beside the server (runner.py)


@dataclass(frozen=True, slots=True)
class Urls:
    base: str

    @property
    def idp(self) -> str:
        return f"{self.base}/idp"

    def app(self, name: str) -> str:
        return f"{self.base}/apps/{name}"

    def resource(self, name: str) -> str:
        return f"{self.base}/apps/{name}/api"

    def issuer(self, realm: str) -> str:
        return self.idp if realm == IDP else self.app(realm)

    def endpoint(self, realm: str, name: str) -> str:
        return f"{self.issuer(realm)}/{name}"

    def as_metadata(self, realm: str) -> str:
        path = "idp" if realm == IDP else f"apps/{realm}"
        return f"{self.base}/.well-known/oauth-authorization-server/{path}"

    def prm(self, name: str) -> str:
        return f"{self.base}/.well-known/oauth-protected-resource/apps/{name}/api"


class Runtime:
    """Settings plus the live state: store, keys, audit, per-realm client authenticators."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.policy = settings.policy
        self.options = settings.policy.options
        self.urls = Urls(settings.base_url.rstrip("/"))
        self.store = Store(settings.data_dir, background_checkpoints=settings.background_checkpoints)
        self.batch = WriteBatch(self.store)
        separate = self.options.id_token_signing_alg != self.options.signing_alg
        self.id_token_key = ID_TOKEN_KEY if separate else IDP
        self.keys = SigningKeys(
            self.store,
            self.options.signing_alg,
            algs={ID_TOKEN_KEY: self.options.id_token_signing_alg},
            published={IDP: (ID_TOKEN_KEY,)} if separate else {},
        )
        self.audit = Auditor(self.store, settings.clock)
        self.new_id = settings.new_id
        # The apps' own registrations at the IdP (each app is an OIDC relying party, issue 9).
        self.rp_secrets = {name: random_id() for name in self.policy.apps}

    def now(self) -> float:
        return self.settings.clock.now()

    @staticmethod
    def secret(nbytes: int = 32) -> str:
        """Codes and tokens: always from ``secrets`` (never an injected, predictable factory)."""
        return random_id(nbytes)

    def now_int(self) -> int:
        return int(self.settings.clock.now())

    @cached_property
    def pairwise_salt(self) -> bytes:
        """Kept in the store so pairwise subjects survive restarts."""
        return self.store.setdefault_kv("pairwise_salt", random_id(32)).encode()

    @cached_property
    def _authenticators(self) -> dict[str, ClientAuthenticator]:
        out = {}
        for realm in (IDP, *self.policy.apps):
            audiences = frozenset(
                {
                    self.urls.issuer(realm),
                    *(self.urls.endpoint(realm, e) for e in ("token", "revoke", "introspect")),
                }
            )
            out[realm] = ClientAuthenticator(realm, self._lookup(realm), audiences, self.store, self.now)
        return out

    def authenticator(self, realm: str) -> ClientAuthenticator:
        return self._authenticators[realm]

    def _lookup(self, realm: str) -> Callable[[str], Registration | None]:
        def lookup(client_id: str) -> Registration | None:
            return self.registration(realm, client_id)

        return lookup

    def registration(self, realm: str, client_id: str) -> Registration | None:
        if realm == IDP:
            if client_id.startswith("app-") and client_id[4:] in self.policy.apps:
                secret = self.rp_secrets[client_id[4:]]
                return Registration(
                    client_id, ("client_secret_post",), ClientCredential(secret_sha256(secret))
                )
            spec = self.policy.clients.get(client_id)
        else:
            spec = self.policy.client_at_app(realm, client_id)
        if spec is None:
            return None
        credential = self.settings.credentials.get((realm, client_id), ClientCredential())
        return Registration(client_id, spec.auth_methods, credential)
