"""Rich rendering of an inspect ``Report``: a plain first line about verification, then header and claims
panels, the ✓/✗ check rows and the warnings.

Every piece of token content goes through ``Text`` (never markup), so a claim such as ``[bold]`` or ``[/]``
is shown as written and cannot break or restyle the output.
"""

from __future__ import annotations

import json
from typing import Any, Final

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from xaa_cli.core.inspect import KIND_LABELS, Report, TokenKind
from xaa_cli.core.redact import fingerprint

MAX_VALUE_CHARS: Final = 2000
MARKS: Final = {True: "✓", False: "✗", None: "–"}
STYLES: Final = {True: "green", False: "red", None: "yellow"}


def first_line(report: Report) -> str:
    """Said plainly, first: was the signature verified, and (if so) did everything else pass?"""
    if not report.verified:
        return f"NOT VERIFIED: {report.verification_note}"
    failed = list(dict.fromkeys(c.name for c in report.failed))
    if failed:
        # A genuine signature on an expired or misdirected token must not read as a green light.
        return f"INVALID: the signature is genuine, but {len(failed)} check(s) failed: {', '.join(failed)}"
    return f"VERIFIED: {_signature_detail(report)}"


def _signature_detail(report: Report) -> str:
    return next((c.detail for c in report.checks if c.name == "signature"), "")


def print_report(console: Console, report: Report, token: str) -> None:
    # soft_wrap: the verdict stays ONE line, whatever the terminal width, so `head -1` always gets it.
    style = "bold green" if report.verified and not report.failed else "bold red"
    console.print(Text(first_line(report), style=style), soft_wrap=True)
    console.print(Text(f"Kind: {KIND_LABELS[report.kind]} — {report.kind_reason}"))
    if report.kind is TokenKind.OPAQUE:
        console.print(_opaque_panel(token))
    else:
        console.print(Panel(_pairs(report.header, {}), title="Header", title_align="left"))
    if report.kind is TokenKind.JWE:
        console.print(Text("The claims are encrypted: only the intended recipient can read them."))
    elif report.kind is not TokenKind.OPAQUE:
        console.print(Panel(_claims_body(report), title="Claims", title_align="left"))
    console.print(_checks_table(report))
    if report.warnings:
        console.print(_warnings_table(report.warnings))
    console.print(Text(_summary(report)))


def _opaque_panel(token: str) -> Panel:
    body = Text(
        f"{len(token)} characters, sha256 {fingerprint(token)}…\n"
        "Not a JWT: it carries no readable claims. Only the server that issued it can say what it grants "
        "(use --introspect with --profile P --aud ALIAS)."
    )
    return Panel(body, title="Opaque token", title_align="left")


def _claims_body(report: Report) -> Group | Table:
    notes = {t.claim: f"{t.utc} · {t.relative}" for t in report.times}
    table = _pairs(report.claims, notes)
    extras: list[Text] = []
    if report.scopes:
        extras.append(Text(f"scopes ({len(report.scopes)}): " + ", ".join(report.scopes)))
    return Group(table, *extras) if extras else table


def _pairs(data: dict[str, Any], notes: dict[str, str]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    if not data:
        table.add_row(Text("(empty)"), Text(""))
    for key, value in data.items():
        shown = _value_text(value)
        if key in notes:
            shown = f"{shown}  ({notes[key]})"
        table.add_row(Text(str(key)[:200]), Text(shown))
    return table


def _value_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + f"… ({len(text)} characters)"


def _checks_table(report: Report) -> Table:
    title = "Checks" if report.enforced else "Checks (informational: nothing was requested)"
    table = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")
    for check in report.checks:
        table.add_row(Text(MARKS[check.ok], style=STYLES[check.ok]), Text(check.name), Text(check.detail))
    return table


def _warnings_table(warnings: list[str]) -> Table:
    table = Table(title="Warnings", title_justify="left", show_header=False, box=None, padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for warning in warnings:
        table.add_row(Text("!", style="yellow"), Text(warning))
    return table


def _summary(report: Report) -> str:
    failed = report.failed
    if not report.enforced:
        return (
            "Decoded only: the rows above are informational and the token is NOT verified "
            "(give --jwks, --issuer or --profile to verify it)."
        )
    if failed:
        return f"✗ {len(failed)} of {len(report.checks)} checks failed."
    if not report.verified:
        return "✓ the requested checks passed, but the signature was NOT verified."
    return f"✓ all {len(report.checks)} checks passed."
