"""All terminal rendering: consoles, JSON, tables, errors. stdout carries only the product."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def color_enabled(no_color_flag: bool) -> bool:
    return not (no_color_flag or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb")


def make_console(*, stderr: bool, color: bool) -> Console:
    from rich.console import Console

    return Console(
        file=sys.stderr if stderr else sys.stdout,
        no_color=not color,
        highlight=False,
        soft_wrap=False,
        emoji=False,
    )


def write_stdout(text: str) -> None:
    """Write raw product text (a token, JSON) to stdout without any rich processing."""
    sys.stdout.write(text)
    sys.stdout.flush()


def dumps_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def emit_json(data: Any) -> None:
    write_stdout(dumps_json(data))


def table(
    console: Console,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
) -> None:
    from rich.table import Table
    from rich.text import Text

    t = Table(title=title, show_lines=False, header_style="bold")
    for name in columns:
        t.add_column(name, overflow="fold")
    for row in rows:
        # Cells are data, never markup: a client id like "[bold]x" must print as typed.
        t.add_row(*(v if isinstance(v, Text) else Text("" if v is None else str(v)) for v in row))
    if console.is_terminal:
        console.print(t)
    else:
        # Piped or redirected: rich would fold cells at 80 columns; `grep`/`awk` want one row per line.
        from rich.console import Console

        natural = console.measure(t, options=console.options.update_width(100_000)).maximum
        wide = Console(file=console.file, width=max(console.width, natural), no_color=console.no_color)
        wide.print(t)


def print_error(message: str, hint: str | None, *, as_json: bool, code: str, exit_code: int) -> None:
    """One clear sentence and a hint on stderr (a JSON envelope on stderr under ``-o json``)."""
    if as_json:
        envelope = {"error": code, "message": message, "hint": hint, "exit_code": exit_code}
        sys.stderr.write(json.dumps(envelope) + "\n")
        return
    sys.stderr.write(f"error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
    sys.stderr.flush()
