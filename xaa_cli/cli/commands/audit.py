"""``xaa audit``: read the local audit log (token requests, exchanges, revocations, failures)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from xaa_cli.cli import render
from xaa_cli.cli.context import get_ctx
from xaa_cli.cli.inputs import parse_duration
from xaa_cli.errors import UsageError

if TYPE_CHECKING:
    from xaa_cli.storage.audit import AuditEntry

COLUMNS = (
    "time",
    "event",
    "profile",
    "audience",
    "client_id",
    "scope",
    "token_fingerprint",
    "outcome",
    "error",
)


def _timestamp(entry: AuditEntry) -> float | None:
    value = entry.get("time")
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    return stamp.timestamp() if stamp.tzinfo is not None else None  # a naive time cannot be placed


def _matches(entry: AuditEntry, field: str, wanted: list[str] | None) -> bool:
    return not wanted or entry.get(field) in wanted


def _audience_matches(entry: AuditEntry, wanted: list[str] | None) -> bool:
    # An app can be named by its alias or by its issuer URL (the ID-JAG audience).
    return not wanted or entry.get("audience") in wanted or entry.get("alias") in wanted


def select(
    entries: Iterable[AuditEntry],
    *,
    since: float | None,
    events: list[str] | None,
    audiences: list[str] | None,
    clients: list[str] | None,
    outcomes: list[str] | None,
) -> Iterator[AuditEntry]:
    """The entries passing every filter; ``since`` is an epoch cut-off (entries without a time fail it)."""
    for entry in entries:
        if since is not None and (_timestamp(entry) or 0.0) < since:
            continue
        if (
            _matches(entry, "event", events)
            and _matches(entry, "client_id", clients)
            and _matches(entry, "outcome", outcomes)
            and _audience_matches(entry, audiences)
        ):
            yield entry


SinceOpt = Annotated[
    str | None, typer.Option("--since", help="Only entries newer than this: 30s, 10m, 2h, 7d, 1w.")
]
EventOpt = Annotated[list[str] | None, typer.Option("--event", help="Only this event (repeatable).")]
AudOpt = Annotated[
    list[str] | None,
    typer.Option("--aud", help="Only this audience: app alias or issuer (repeatable)."),
]
ClientOpt = Annotated[list[str] | None, typer.Option("--client", help="Only this client_id (repeatable).")]
OutcomeOpt = Annotated[
    list[str] | None,
    typer.Option("--outcome", help="Only this outcome: ok, error, ... (repeatable)."),
]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, help="Only the newest N entries.")]
IdpOpt = Annotated[
    bool, typer.Option("--idp", help="The IdP's central trail (through its admin API), not this log.")
]
ProfileOpt = Annotated[
    str | None, typer.Option("--profile", "-p", help="With --idp: the profile whose IdP to ask.")
]
AuditOutputOpt = Annotated[str | None, typer.Option("--output", "-o", help="Output format: table | json.")]


def register(app: typer.Typer) -> None:
    @app.command("audit")
    def audit(
        ctx: typer.Context,
        since: SinceOpt = None,
        event: EventOpt = None,
        aud: AudOpt = None,
        client: ClientOpt = None,
        outcome: OutcomeOpt = None,
        limit: LimitOpt = None,
        output: AuditOutputOpt = None,
        idp: IdpOpt = False,
        profile: ProfileOpt = None,
    ) -> None:
        """Show the audit log, oldest first (-o table | json). Tokens appear only as fingerprints.

        Examples: `xaa audit --since 1h`, `xaa audit --event token_exchange --outcome error -o json`,
        `xaa audit --idp --limit 50`.
        """
        actx = get_ctx(ctx)
        mode = actx.output_mode(output, ("table", "json"), "table")
        cutoff = actx.clock.now() - parse_duration(since) if since else None
        if idp or profile:
            if not idp:
                raise UsageError("--profile applies to --idp", hint="add --idp to read that IdP's trail")
            # Through xaa revoke's IdP admin driver (issue 7).
            from xaa_cli.cli.commands._revoke_admin import show_idp_audit

            show_idp_audit(
                actx, profile_name=profile, since=cutoff, events=event, audiences=aud, clients=client,
                outcomes=outcome, limit=limit, mode=mode,
            )  # fmt: skip
            return
        log = actx.audit()
        rows = list(
            select(log.entries(), since=cutoff, events=event, audiences=aud, clients=client, outcomes=outcome)
        )
        if limit is not None:
            rows = rows[-limit:]
        if mode == "json":
            render.emit_json([r.data for r in rows])
            return
        if not rows:
            actx.info(
                f"no audit entries{' match' if _filtered(since, event, aud, client, outcome) else ''} "
                f"(log: {log.path})"
            )
            return
        render.table(actx.out, [c.upper() for c in COLUMNS], (_cells(r.data) for r in rows))


def _filtered(*filters: Any) -> bool:
    return any(f for f in filters)


def _cells(data: dict[str, Any]) -> list[str]:
    return ["" if data.get(c) is None else str(data[c]) for c in COLUMNS]
