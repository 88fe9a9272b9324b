"""The data ``xaa inspect`` produces: token kinds, check rows and the final report.

Everything here is plain data, so the CLI renders it and tests assert on it without a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class TokenKind(StrEnum):
    ID_JAG = "id-jag"
    ACCESS_TOKEN = "access-token"  # noqa: S105  # RFC 9068 at+jwt
    ID_TOKEN = "id-token"  # noqa: S105  # OIDC Core
    CLIENT_ASSERTION = "client-assertion"  # RFC 7523 §2.2 / private_key_jwt
    DPOP_PROOF = "dpop-proof"  # RFC 9449
    LOGOUT_TOKEN = "logout-token"  # noqa: S105  # OIDC Back-Channel Logout
    JWT = "jwt"  # a JWS we cannot place
    JWE = "jwe"  # encrypted: only the header is readable
    OPAQUE = "opaque"  # not a JWT: only its issuer can say what it means


KIND_LABELS: dict[TokenKind, str] = {
    TokenKind.ID_JAG: "ID-JAG (Identity Assertion JWT Authorization Grant)",
    TokenKind.ACCESS_TOKEN: "OAuth access token (RFC 9068 JWT)",
    TokenKind.ID_TOKEN: "OpenID Connect ID token",
    TokenKind.CLIENT_ASSERTION: "client assertion (private_key_jwt, RFC 7523)",
    TokenKind.DPOP_PROOF: "DPoP proof (RFC 9449)",
    TokenKind.LOGOUT_TOKEN: "OpenID Connect back-channel logout token",
    TokenKind.JWT: "JWT (kind not recognised)",
    TokenKind.JWE: "encrypted JWT (JWE)",
    TokenKind.OPAQUE: "opaque token",
}


@dataclass(frozen=True, slots=True)
class Check:
    """One ✓/✗ row. ``ok`` is None when the check could not run (e.g. no trusted key was given)."""

    name: str
    ok: bool | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class TimeInfo:
    """A time claim explained: absolute UTC and relative to the injected clock."""

    claim: str
    value: float
    utc: str
    relative: str


@dataclass(slots=True)
class Report:
    """Everything ``xaa inspect`` found out about one token."""

    kind: TokenKind
    kind_reason: str
    header: dict[str, Any]
    claims: dict[str, Any]
    verified: bool = False
    verification_note: str = ""
    enforced: bool = False  # True when the user asked for checks: failures then mean exit 1
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    times: list[TimeInfo] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    introspection: dict[str, Any] | None = None
    signature_bytes: int = 0

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.ok is False]

    @property
    def passed(self) -> bool:
        """Exit status 0? Decoding alone passes (the UNVERIFIED notice says the rest)."""
        return not (self.enforced and self.failed)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind.value,
            "header": self.header,
            "claims": self.claims,
            "verified": self.verified,
            "checks": [c.as_dict() for c in self.checks],
            "warnings": list(self.warnings),
        }
        if self.introspection is not None:
            data["introspection"] = self.introspection
        return data
