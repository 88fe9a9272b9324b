"""Policy evaluation at the IdP: may this client act for this user at this app, with which scopes?"""

from __future__ import annotations

from dataclasses import dataclass

from xaa_cli.server.errors import OAuthServerError
from xaa_cli.server.policy import AppSpec, Policy, Rule


@dataclass(frozen=True, slots=True)
class Decision:
    rule: str
    scopes: tuple[str, ...]  # granted, in the app's order


class PolicyDenied(OAuthServerError):
    """A denial that names the rule (for the audit trail)."""

    def __init__(self, error: str, description: str, rule: str | None) -> None:
        super().__init__(error, description)
        self.rule = rule


def _matches(rule: Rule, user: str) -> bool:
    return "*" in rule.users or user in rule.users


def decide(policy: Policy, client: str, app: AppSpec, user: str, requested: str | None) -> Decision:
    """First matching rule wins; a client with no rule at all for the app gets ``invalid_target``."""
    rules = [r for r in policy.rules if r.client == client and r.app == app.name]
    if not rules:
        raise PolicyDenied("invalid_target", f"this client may not obtain grants for {app.name}", None)
    rule = next((r for r in rules if _matches(r, user)), None)
    if rule is None:
        raise PolicyDenied(
            "access_denied", f"no rule lets this user reach {app.name} through this client", None
        )
    if rule.effect == "deny":
        raise PolicyDenied(
            "access_denied", f"policy rule {rule.name} denies this user at {app.name}", rule.name
        )
    allowed = [s for s in app.scopes if s in rule.scopes]
    if requested is None:
        return Decision(rule.name, tuple(allowed))
    asked = requested.split()
    granted = tuple(s for s in allowed if s in asked)
    if not granted:
        raise PolicyDenied(
            "invalid_scope", f"none of the requested scopes may be granted at {app.name}", rule.name
        )
    return Decision(rule.name, granted)
