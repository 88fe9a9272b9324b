"""Reading user input safely: secrets from stdin or a hidden prompt (never argv), durations, shared options.

Imported by command modules at start-up, so it must stay light: stdlib and typer only.
"""

from __future__ import annotations

import re
import sys
from typing import Annotated, Final

import typer

from xaa_cli.errors import UsageError

MAX_SECRET_BYTES: Final = 64 * 1024
SECRET_METHODS: Final[frozenset[str]] = frozenset({"client_secret_basic", "client_secret_post"})
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?\s*[smhdw]\s*)+")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

# Shared option types, so every command spells them the same way.
OutputOpt = Annotated[
    str | None,
    typer.Option("--output", "-o", help="Output format (see the command's help for what it supports)."),
]
ClientSecretStdinOpt = Annotated[
    bool,
    typer.Option(
        "--client-secret-stdin",
        help="Read the client secret from stdin (e.g. `pass show idp | xaa ... --client-secret-stdin`).",
    ),
]
# A trap for habits from other tools: the value has already leaked into shell history, so we refuse it
# loudly instead of letting click answer "no such option".
ClientSecretTrapOpt = Annotated[str | None, typer.Option("--client-secret", hidden=True)]


def refuse_secret_on_argv(value: str | None, option: str = "--client-secret") -> None:
    if value is not None:
        raise UsageError(
            f"{option} is not accepted: secrets on the command line leak into shell history and `ps`",
            hint=f"pipe it instead: `... | xaa ... {option}-stdin`, or omit it to be prompted",
        )


def stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):  # closed or replaced stdin
        return False


def read_secret_from_stdin(what: str) -> str:
    """One secret from stdin: surrounding whitespace (the newline of `echo`) stripped, one line only."""
    data = sys.stdin.read(MAX_SECRET_BYTES + 1)
    if len(data) > MAX_SECRET_BYTES:
        raise UsageError(f"the {what} on stdin is larger than {MAX_SECRET_BYTES // 1024} KiB")
    secret = data.strip()
    if not secret:
        raise UsageError(f"no {what} on stdin", hint='pipe it in, e.g. `printf %s "$SECRET" | xaa ...`')
    if "\n" in secret or "\r" in secret:
        raise UsageError(f"the {what} on stdin has more than one line")
    return secret


def prompt_secret(what: str) -> str:
    """Ask on the terminal without echo (getpass writes the prompt to the TTY, never to stdout)."""
    import getpass

    try:
        secret = getpass.getpass(f"{what[:1].upper()}{what[1:]} (input hidden): ", stream=sys.stderr)
    except EOFError:
        secret = ""
    secret = secret.strip()
    if not secret:
        raise UsageError(f"no {what} was entered")
    return secret


def obtain_secret(what: str, *, from_stdin: bool, needed: bool, have_stored: bool = False) -> str | None:
    """The secret a command needs: from stdin when asked, else a hidden prompt on a terminal.

    ``needed`` says whether the client-authentication method uses a secret at all; ``have_stored`` lets a
    re-run keep the secret already in the store instead of demanding it again.
    """
    if not needed:
        if from_stdin:
            raise UsageError(
                f"--client-secret-stdin was given, but this client authentication uses no {what}",
                hint="use --client-auth client_secret_basic or client_secret_post for a secret",
            )
        return None
    if from_stdin:
        # On a terminal, reading stdin would echo the secret into the scrollback: ask without echo instead.
        return prompt_secret(what) if stdin_is_tty() else read_secret_from_stdin(what)
    if have_stored:
        return None
    if stdin_is_tty():
        return prompt_secret(what)
    raise UsageError(
        f"this client authentication needs a {what}, and stdin is not a terminal to ask for it",
        hint="pipe it in with --client-secret-stdin (secrets are never accepted as arguments)",
    )


def check_issuer(url: str, *, what: str = "issuer") -> str:
    """An issuer identifier: https (http only to loopback), no query, no fragment (RFC 8414 §2).

    Kept byte for byte, trailing "/" included: metadata must echo it exactly (RFC 8414 §3.3).
    """
    from urllib.parse import urlsplit

    from xaa_cli.core.http import require_secure_url  # lazy: core.http imports ssl

    require_secure_url(url, what=what)
    parts = urlsplit(url)
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise UsageError(
            f"the {what} {url} has a query or fragment", hint="an issuer is scheme, host and path only"
        )
    return url


def check_resource(url: str) -> str:
    """A resource indicator: absolute https URL (http only to loopback), no fragment (RFC 8707 §2)."""
    from xaa_cli.core.http import require_secure_url

    require_secure_url(url, what="resource")
    if "#" in url:
        raise UsageError(f"the resource {url} has a fragment", hint="RFC 8707 resource indicators have none")
    return url


def check_client_id(client_id: str) -> str:
    if not client_id.strip():
        raise UsageError("--client-id must not be empty")
    if client_id != client_id.strip():
        raise UsageError(
            f"--client-id {client_id!r} has leading or trailing spaces", hint="check what was pasted"
        )
    return client_id


def parse_duration(text: str) -> float:
    """``90s``, ``10m``, ``2h``, ``7d``, ``1w`` or combinations such as ``1h30m`` → seconds."""
    compact = text.strip().lower()
    if not _DURATION.fullmatch(compact):
        raise UsageError(
            f"{text!r} is not a duration",
            hint="use a number and a unit: 30s, 10m, 2h, 7d, 1w (or combined, like 1h30m)",
        )
    return sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(compact))
