"""``xaa demo``: watch the whole Cross-App Access flow run, narrated hop by hop, in a few seconds.

It starts the reference IdP and app servers (what ``xaa dev serve`` runs) on a free loopback port, with a
throw-away xaa home, and walks through sign-in, both hops, the API call, inspect, the IdP's audit trail,
revocation and a refused request, each through the code the real commands run. The narration is the
product, so it goes to stdout; nothing touches the network beyond 127.0.0.1 and nothing is left behind
unless ``--keep``.
"""

from __future__ import annotations

import shlex
import time
from typing import TYPE_CHECKING, Annotated

import typer

from xaa_cli.cli.context import get_ctx

if TYPE_CHECKING:
    from xaa_cli.cli.demo.narrate import Narrator

EPILOG = """[bold]Examples[/bold]

  [cyan]xaa demo[/cyan]                 run the demo, leave nothing behind
  [cyan]xaa demo --keep[/cyan]          keep the throw-away home and continue by hand
  [cyan]xaa demo | less[/cyan]          read it at your own pace
"""


def demo(
    ctx: typer.Context,
    keep: Annotated[
        bool,
        typer.Option("--keep", help="Keep the throw-away xaa home and print how to continue by hand."),
    ] = False,
) -> None:
    """Watch the whole Cross-App Access flow run, each hop explained, in a few seconds.

    Starts the reference IdP and apps on a free 127.0.0.1 port with a throw-away xaa home (no OS keyring
    needed), then: sign-in, ID-JAG, access token, API call, inspect, the IdP's audit trail, revocation and a
    refused request. The narration goes to stdout; nothing is left behind unless --keep.
    """
    from xaa_cli.cli.demo.narrate import Narrator
    from xaa_cli.cli.demo.sandbox import Sandbox
    from xaa_cli.cli.demo.scenario import Demo

    actx = get_ctx(ctx)
    actx.output_mode(None, ("table",), "table")  # the narration has no JSON form: refuse -o json early
    say = Narrator(actx.out)
    started = time.monotonic()
    with Sandbox(clock=actx.clock, color=actx.color, keep=keep) as box:
        Demo(box, say).run()
        home, port = box.home, box.base_url.rsplit(":", 1)[1]
    elapsed = time.monotonic() - started
    if keep:
        _continue_by_hand(say, str(home), port, elapsed)
    else:
        say.note(f"Done in {elapsed:.1f} s. The servers are stopped and {home} is deleted: nothing is left.")
        say.note("Next: `xaa demo --keep` to continue by hand, or `xaa dev serve` + `xaa login` for real.")


def _continue_by_hand(say: Narrator, home: str, port: str, elapsed: float) -> None:
    """Plain lines, not a panel: they are meant to be copied into a shell."""
    quoted = shlex.quote(home)
    say.note(f"Done in {elapsed:.1f} s. The throw-away home is kept; continue by hand:\n")
    say.note(
        f"  export XAA_HOME={quoted}\n"
        f"  xaa dev serve --port {port} --auto-approve alice &   # the same servers, state and credentials\n"
        "  xaa login --device\n"
        "  xaa token get --aud trello --scope board:write\n"
        "  xaa token list; xaa audit; xaa dev audit\n"
    )
    say.note(f"When done: kill %1; rm -rf {quoted}; unset XAA_HOME")
    say.note('(Secrets live in a 0600 file store inside that home: secret_store = "file" in its config.)')


def register(app: typer.Typer) -> None:
    app.command("demo", epilog=EPILOG)(demo)
