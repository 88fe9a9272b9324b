"""The demo's panels: one per hop — who talks to whom, the grant, the key parameters, the answer.

Narration is the product of ``xaa demo``, so it goes to stdout (the ``out`` console); nothing here ever
prints a whole token: tokens are shown as ``eyJhbGciOi…`` plus their length and a SHA-256 prefix, and the
request parameters come from the protocol code's observer, which has already redacted them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from xaa_cli.core.redact import fingerprint

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from xaa_cli.core.token_endpoint import StepEvent

Row = tuple[str, str]
STYLES: Final = {True: "green", False: "red", None: "cyan"}
SHOWN_PREFIX: Final = 10
# Answer members worth a line in a hop's panel, in this order.
ANSWER_FIELDS: Final = (
    "issued_token_type",
    "token_type",
    "scope",
    "expires_in",
    "error",
    "error_description",
)


def short(token: str) -> str:
    """A token as a handle: never the whole thing."""
    return f"{token[:SHOWN_PREFIX]}… ({len(token)} chars, sha256 {fingerprint(token, 8)})"


def params_rows(params: str, skip: Iterable[str] = ("grant_type",)) -> list[str]:
    """``key = value`` lines from an already-redacted form body."""
    skipped = set(skip)
    return [f"{k} = {v}" for k, v in parse_qsl(params, keep_blank_values=True) if k not in skipped]


@dataclass
class Narrator:
    console: Console
    count: int = 0

    def panel(
        self,
        title: str,
        rows: Sequence[Row],
        *,
        ok: bool | None = None,
        footer: str | None = None,
        extra: RenderableType | None = None,
    ) -> None:
        """A numbered panel of ``label  value`` rows; green when the hop succeeded, red when refused."""
        self.count += 1
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for label, value in rows:
            grid.add_row(Text(label), Text(value))
        parts: list[RenderableType] = [grid]
        if extra is not None:
            parts.append(extra)
        if footer:
            parts.append(Text(footer, style="italic"))
        self.console.print(
            Panel(
                Group(*parts),
                title=Text(f"{self.count}. {title}", style="bold"),
                title_align="left",
                border_style=STYLES[ok],
            )
        )

    def note(self, text: str) -> None:
        self.console.print(Text(text), soft_wrap=True)


def step_rows(event: StepEvent, who: str) -> list[Row]:
    """The rows of one token-endpoint exchange, from the protocol code's (redacted) step event."""
    rows: list[Row] = [
        ("who", who),
        ("request", f"POST {event.url}"),
        ("grant", event.grant_type),
        ("parameters", "\n".join(params_rows(event.params))),
        ("answer", f"HTTP {event.status}"),
    ]
    rows += [(f"  {name}", str(event.body[name])) for name in ANSWER_FIELDS if name in event.body]
    return rows


def checks_table(checks: Iterable[Any]) -> Table:
    """✓/✗ rows of an inspect report."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")
    marks = {True: "✓", False: "✗", None: "–"}
    for check in checks:
        table.add_row(Text(marks[check.ok], style=STYLES[check.ok]), Text(check.name), Text(check.detail))
    return table
