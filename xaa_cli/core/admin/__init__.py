"""The IdP as control plane: a small driver interface for IdP admin APIs.

``xaa revoke --client … --at-idp``, ``xaa revoke --user …`` and ``xaa audit --idp`` talk to an
``IdpAdminDriver`` only, so supporting another IdP's admin API means writing one class and adding it to
``DRIVERS`` — the commands do not change. ``reference`` drives the admin API of ``xaa dev serve``
(docs/reference-server.md); its credential is the ``admin_token`` in the secret store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from xaa_cli.errors import UsageError

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True, slots=True)
class AdminResult:
    """What one admin call did, for the report: where it went and, when the IdP says, how many tokens."""

    endpoint: str
    count: int | None = None
    detail: str = ""


class IdpAdminDriver(Protocol):
    """What incident response needs from an IdP's admin API. Every method raises an ``XaaError`` on
    failure (``NetworkError``: unreachable; ``RemoteError``: refused or nonsense) and is idempotent."""

    kind: str

    def disable_client(self, client_id: str) -> AdminResult:
        """Stop the IdP issuing anything (ID-JAGs above all) to ``client_id``."""
        ...

    def enable_client(self, client_id: str) -> AdminResult: ...

    def client_apps(self, client_id: str) -> Mapping[str, str]:
        """App name -> the client's own client_id at that app's authorization server."""
        ...

    def revoke_client_tokens_at_app(self, app: str, app_client_id: str) -> AdminResult:
        """Ask ``app``'s authorization server to revoke every live token it issued to ``app_client_id``."""
        ...

    def revoke_user_refresh_tokens(self, user: str) -> AdminResult:
        """Revoke every IdP refresh token of ``user`` (their sessions can mint no more ID-JAGs)."""
        ...

    def read_audit(self, *, limit: int) -> list[dict[str, Any]]:
        """The IdP's central audit trail, oldest first, at most ``limit`` recent entries."""
        ...


DriverFactory = Callable[["httpx.Client", str, str], IdpAdminDriver]


def _reference(http: httpx.Client, issuer: str, admin_token: str) -> IdpAdminDriver:
    from xaa_cli.core.admin.reference import ReferenceAdminDriver

    return ReferenceAdminDriver(http, issuer, admin_token)


# kind -> factory(http, IdP issuer, admin credential). Imported lazily so `--help` stays fast.
DRIVERS: Final[Mapping[str, DriverFactory]] = {"reference": _reference}


def driver_for(kind: str, http: httpx.Client, issuer: str, admin_token: str) -> IdpAdminDriver:
    try:
        factory = DRIVERS[kind]
    except KeyError:
        raise UsageError(
            f"no admin driver {kind!r}", hint=f"known drivers: {', '.join(sorted(DRIVERS))}"
        ) from None
    return factory(http, issuer, admin_token)
