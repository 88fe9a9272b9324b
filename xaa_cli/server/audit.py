"""The IdP's (and apps') audit trail: every issuance and denial, with the policy rule that decided.

Never a token: only its ``jti``. ``xaa dev audit`` reads it back with ``read_audit``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from xaa_cli.clock import Clock
from xaa_cli.server.store import Store

FIELDS: Final = (
    "time",
    "server",
    "event",
    "issued_to",
    "subject",
    "audience",
    "resource",
    "scope",
    "jti",
    "policy",
    "outcome",
    "detail",
)


@dataclass(frozen=True, slots=True)
class Auditor:
    store: Store
    clock: Clock

    def record(self, server: str, event: str, outcome: str, **fields: Any) -> None:
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown audit fields {sorted(unknown)}")
        row = {"time": int(self.clock.now()), "server": server, "event": event, "outcome": outcome, **fields}
        columns = [c for c in FIELDS if row.get(c) is not None]
        self.store.execute(
            f"INSERT INTO audit ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",  # noqa: S608
            [str(row[c]) if c != "time" else row[c] for c in columns],
        )


def read_audit(store: Store, *, limit: int = 1000) -> list[dict[str, Any]]:
    """The most recent ``limit`` entries, oldest first."""
    rows = store.all("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
    return [{c: row[c] for c in FIELDS} for row in reversed(rows)]
