"""One test per exit code, through real commands where one reaches the code, and docs/exit-codes.md in sync.

Codes no command of the foundation reaches yet (1, 5, 6, 7, 70, 130) go through the real root group
(``XaaGroup``, the real global options and ``report``) with a small test-only command that raises the error.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import keyring
import pytest
import typer
from keyring.backends import fail
from typer.testing import CliRunner

from xaa_cli import errors
from xaa_cli.cli.app import XaaGroup, app, root
from xaa_cli.cli.context import get_ctx
from xaa_cli.cli.exit_codes import EXIT_FOR, ExitCode, exit_code_for

DOC = Path(__file__).resolve().parents[2] / "docs" / "exit-codes.md"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_probe_app(exc: BaseException | None = None) -> typer.Typer:
    """The real root callback and error boundary, with commands that fail in chosen ways."""
    probe = typer.Typer(cls=XaaGroup, add_completion=False, pretty_exceptions_enable=False)
    probe.callback()(root)

    @probe.command("fail")
    def fail_cmd() -> None:
        assert exc is not None
        raise exc

    @probe.command("fetch")
    def fetch(ctx: typer.Context, url: str) -> None:
        get_ctx(ctx).http().get(url)  # the AppContext's real client, no wrapping: the boundary maps it

    return probe


def write_config(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(text)
    return path


# ------------------------------------------------------------------ through real commands


def test_0_ok(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "path"])
    assert result.exit_code == ExitCode.OK
    assert result.stdout.strip().endswith("config.toml")


def test_2_usage_from_click(runner: CliRunner) -> None:
    result = runner.invoke(app, ["profile", "add", "dev", "--client-id", "c"])
    assert result.exit_code == ExitCode.USAGE
    assert "--issuer" in result.stderr
    assert result.stdout == ""


def test_2_usage_from_xaa(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["profile", "add", "dev", "--issuer", "http://idp.example.com", "--client-id", "c"]
    )
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith(
        "error: refusing plain http:// for the issuer http://idp.example.com\nhint: "
    )
    assert result.stdout == ""


def test_3_malformed_config_names_file_and_line(runner: CliRunner, isolated_home: Path) -> None:
    path = write_config(isolated_home, 'default_profile = "dev"\n[profiles.dev\n')
    result = runner.invoke(app, ["profile", "list"])
    assert result.exit_code == ExitCode.CONFIG
    assert f"cannot parse {path}, line 2" in result.stderr
    assert "Traceback" not in result.stderr


def test_3_unknown_profile(runner: CliRunner) -> None:
    result = runner.invoke(app, ["-p", "nope", "app", "list"])
    assert result.exit_code == ExitCode.CONFIG
    assert "no profile named 'nope'" in result.stderr


def test_3_no_keyring(runner: CliRunner) -> None:
    runner.invoke(app, ["profile", "add", "dev", "--issuer", "https://idp.example", "--client-id", "c"])
    keyring.set_keyring(fail.Keyring())
    result = runner.invoke(app, ["key", "generate"])
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr.startswith("error: no usable OS keyring was found on this machine\nhint: ")
    assert "XAA_SECRET_STORE=file" in result.stderr
    assert result.stdout == ""


@pytest.mark.loopback
def test_4_network_refused_through_login(runner: CliRunner) -> None:
    issuer = f"http://127.0.0.1:{_closed_port()}/idp"
    added = runner.invoke(app, ["profile", "add", "dev", "--issuer", issuer, "--client-id", "c"])
    assert added.exit_code == 0
    result = runner.invoke(app, ["login", "--no-browser"])
    assert result.exit_code == ExitCode.NETWORK
    assert "cannot reach" in result.stderr
    assert result.stdout == ""


@pytest.mark.loopback
def test_4_unwrapped_httpx_error_is_still_a_network_error(runner: CliRunner) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/.well-known/openid-configuration"
    result = runner.invoke(make_probe_app(), ["fetch", url])
    assert result.exit_code == ExitCode.NETWORK
    assert "cannot reach http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr


def test_json_error_envelope_on_stderr_and_empty_stdout(runner: CliRunner, isolated_home: Path) -> None:
    write_config(isolated_home, "[profiles.dev\n")
    for args in (["-o", "json", "profile", "list"], ["profile", "list", "-o", "json"]):
        result = runner.invoke(app, args)
        assert result.exit_code == ExitCode.CONFIG
        assert result.stdout == ""
        envelope = json.loads(result.stderr)
        assert envelope["error"] == "config"
        assert envelope["exit_code"] == 3
        assert "line 1" in envelope["message"]
        assert envelope["hint"]


# ------------------------------------------------------------------ through the real boundary


@pytest.mark.parametrize(
    ("exc", "code", "name"),
    [
        (errors.CheckFailed("2 findings"), ExitCode.CHECK_FAILED, "check_failed"),
        (
            errors.OAuthError("invalid_grant", "expired", hop="token exchange at the IdP"),
            ExitCode.REFUSED,
            "oauth_error",
        ),
        (errors.ProtocolError("the metadata is not JSON"), ExitCode.REFUSED, "protocol"),
        (errors.TokenFormatError("the token is not a JWT"), ExitCode.BAD_TOKEN, "token_format"),
        (errors.TokenVerificationError("bad signature"), ExitCode.BAD_TOKEN, "token_verification"),
        (
            errors.LoginRequired("no ID token", hint="run `xaa login`"),
            ExitCode.LOGIN_REQUIRED,
            "login_required",
        ),
        (errors.NetworkError("timeout"), ExitCode.NETWORK, "network"),
    ],
)
def test_codes_1_5_6_7_via_boundary(
    runner: CliRunner, exc: errors.XaaError, code: ExitCode, name: str
) -> None:
    result = runner.invoke(make_probe_app(exc), ["-o", "json", "fail"])
    assert result.exit_code == code
    assert result.stdout == ""
    envelope = json.loads(result.stderr)
    assert envelope == {"error": name, "message": exc.message, "hint": exc.hint, "exit_code": int(code)}


def test_70_internal_without_traceback(runner: CliRunner) -> None:
    result = runner.invoke(make_probe_app(RuntimeError("boom")), ["fail"])
    assert result.exit_code == ExitCode.INTERNAL
    assert result.stderr == (
        "error: [RuntimeError] boom\nhint: this is a bug in xaa; rerun with --debug and report it\n"
    )
    assert result.stdout == ""


def test_70_internal_with_debug_shows_traceback(runner: CliRunner) -> None:
    result = runner.invoke(make_probe_app(RuntimeError("boom")), ["--debug", "fail"])
    assert result.exit_code == ExitCode.INTERNAL
    assert "Traceback (most recent call last)" in result.stderr
    assert "error: [RuntimeError] boom" in result.stderr


def test_130_interrupted(runner: CliRunner) -> None:
    result = runner.invoke(make_probe_app(KeyboardInterrupt()), ["fail"])
    assert result.exit_code == ExitCode.INTERRUPTED
    assert "interrupted" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_exit_code_has_a_test_above() -> None:
    tested = {0, 1, 2, 3, 4, 5, 6, 7, 70, 130}
    assert {int(c) for c in ExitCode} == tested


@pytest.mark.parametrize(("klass", "code"), EXIT_FOR)
def test_mapping_follows_the_mro(klass: type[BaseException], code: ExitCode) -> None:
    subclass = type("Sub", (klass,), {})
    instance = subclass("x") if issubclass(klass, errors.XaaError) else subclass()
    assert exit_code_for(instance) == code
    assert exit_code_for(errors.InsecureURLError("x")) == ExitCode.USAGE
    assert exit_code_for(errors.SecretStoreUnavailable("x")) == ExitCode.CONFIG
    assert exit_code_for(ValueError()) == ExitCode.INTERNAL


# ------------------------------------------------------------------ docs/exit-codes.md


def test_doc_table_matches_exit_codes_exactly() -> None:
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*([A-Z_]+)\s*\|", DOC.read_text(), flags=re.M)
    documented = [(int(number), name) for number, name in rows]
    assert documented == [(int(c), c.name) for c in ExitCode]
