"""`xaa profile`, `xaa app` and `xaa config` through the CLI, with the real keyring API (in-memory
backend)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from typer.testing import CliRunner

from tests.support.memkeyring import MemoryKeyring
from xaa_cli.cli.app import app
from xaa_cli.clock import SystemClock
from xaa_cli.storage.secrets import SERVICE, secret_key
from xaa_cli.storage.token_cache import CachedToken, TokenCache

IDP = "https://idp.example/tenant/"
SECRET = "cs-" + "Zx81Yw72Vu63"
APP_SECRET = "as-" + "Qp09Or18Ns27"


def add_profile(runner: CliRunner, name: str = "dev", *extra: str, secret: str | None = None) -> None:
    args = ["profile", "add", name, "--issuer", IDP, "--client-id", f"{name}-client", *extra]
    if secret is not None:
        args += ["--client-auth", "client_secret_basic", "--client-secret-stdin"]
    result = runner.invoke(app, args, input=secret)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""


def add_app(runner: CliRunner, alias: str = "trello", *extra: str, secret: str | None = APP_SECRET) -> None:
    args = [
        "app",
        "add",
        alias,
        "--issuer",
        f"https://{alias}.example/as",
        "--client-id",
        f"{alias}-c",
        *extra,
    ]
    if secret is not None:
        args.append("--client-secret-stdin")
    result = runner.invoke(app, args, input=secret)
    assert result.exit_code == 0, result.stderr


def config_toml(home: Path) -> dict[str, object]:
    return tomllib.loads((home / "config.toml").read_text())


# ------------------------------------------------------------------ profile add


def test_first_profile_becomes_default_and_keeps_issuer_exactly(
    runner: CliRunner, isolated_home: Path
) -> None:
    result = runner.invoke(app, ["profile", "add", "dev", "--issuer", IDP, "--client-id", "agent"])
    assert result.exit_code == 0
    assert "xaa key generate --profile dev" in result.stderr  # private_key_jwt: what to do next
    data = config_toml(isolated_home)
    assert data["default_profile"] == "dev"
    assert data["profiles"] == {
        "dev": {"issuer": IDP, "client_id": "agent", "client_auth": "private_key_jwt"}
    }
    add_profile(runner, "second")
    assert config_toml(isolated_home)["default_profile"] == "dev"
    add_profile(runner, "third", "--default")
    assert config_toml(isolated_home)["default_profile"] == "third"


def test_client_secret_from_stdin_goes_to_keyring_only(
    runner: CliRunner, isolated_home: Path, memory_keyring: MemoryKeyring
) -> None:
    add_profile(runner, "acme", secret=SECRET + "\n")
    assert memory_keyring.data[(SERVICE, secret_key("acme", "client_secret"))] == SECRET
    assert SECRET.encode() not in (isolated_home / "config.toml").read_bytes()
    for path in isolated_home.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_client_secret_file_store_when_opted_in(
    runner: CliRunner, isolated_home: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XAA_SECRET_STORE", "file")
    add_profile(runner, "acme", secret=SECRET)
    secrets_file = isolated_home / "state" / "secrets.json"
    assert json.loads(secrets_file.read_text()) == {secret_key("acme", "client_secret"): SECRET}
    assert oct(secrets_file.stat().st_mode & 0o777) == "0o600"
    assert memory_keyring.data == {}


def test_secret_on_argv_is_refused(runner: CliRunner, isolated_home: Path) -> None:
    result = runner.invoke(
        app, ["profile", "add", "acme", "--issuer", IDP, "--client-id", "c", "--client-secret", SECRET]
    )
    assert result.exit_code == 2
    assert "leak into shell history" in result.stderr
    assert "--client-secret-stdin" in result.stderr
    assert not (isolated_home / "config.toml").exists()


def test_secret_method_without_secret_and_no_tty(runner: CliRunner, isolated_home: Path) -> None:
    result = runner.invoke(
        app,
        [
            "profile",
            "add",
            "acme",
            "--issuer",
            IDP,
            "--client-id",
            "c",
            "--client-auth",
            "client_secret_post",
        ],
    )
    assert result.exit_code == 2
    assert "--client-secret-stdin" in result.stderr
    assert not (isolated_home / "config.toml").exists()


@pytest.mark.parametrize(
    ("stdin", "message"), [("", "no client secret on stdin"), ("a\nb\n", "more than one line")]
)
def test_bad_secret_input(runner: CliRunner, isolated_home: Path, stdin: str, message: str) -> None:
    result = runner.invoke(
        app,
        [
            "profile",
            "add",
            "a",
            "--issuer",
            IDP,
            "--client-id",
            "c",
            "--client-auth",
            "client_secret_basic",
            "--client-secret-stdin",
        ],
        input=stdin,
    )
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (isolated_home / "config.toml").exists()


def test_secret_stdin_for_a_keyless_method_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(
        app,
        ["profile", "add", "a", "--issuer", IDP, "--client-id", "c", "--client-secret-stdin"],
        input=SECRET,
    )
    assert result.exit_code == 2
    assert "uses no client secret" in result.stderr


def test_store_failure_leaves_config_untouched(runner: CliRunner, isolated_home: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    result = runner.invoke(
        app,
        [
            "profile",
            "add",
            "a",
            "--issuer",
            IDP,
            "--client-id",
            "c",
            "--client-auth",
            "client_secret_basic",
            "--client-secret-stdin",
        ],
        input=SECRET,
    )
    assert result.exit_code == 3
    assert not (isolated_home / "config.toml").exists()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--issuer", "http://idp.example", "--client-id", "c"], 2, "refusing plain http://"),
        (["--issuer", "idp.example", "--client-id", "c"], 2, "not an absolute http(s) URL"),
        (["--issuer", IDP, "--client-id", " "], 2, "--client-id must not be empty"),
        (["--issuer", IDP, "--client-id", "c "], 2, "leading or trailing spaces"),
        (["--issuer", "https://idp.example/?tenant=1", "--client-id", "c"], 2, "has a query or fragment"),
        (["--issuer", "https://idp.example/#x", "--client-id", "c"], 2, "has a query or fragment"),
        (["--issuer", IDP, "--client-id", "c", "--client-auth", "mtls"], 2, "unknown client authentication"),
    ],
)
def test_profile_add_validation(runner: CliRunner, args: list[str], code: int, message: str) -> None:
    result = runner.invoke(app, ["profile", "add", "p", *args])
    assert result.exit_code == code
    assert message in result.stderr


def test_invalid_profile_name(runner: CliRunner) -> None:
    result = runner.invoke(app, ["profile", "add", "../x", "--issuer", IDP, "--client-id", "c"])
    assert result.exit_code == 3
    assert "profile name '../x' is not valid" in result.stderr


def test_duplicate_profile_and_replace_keeps_apps_and_secret(
    runner: CliRunner, isolated_home: Path, memory_keyring: MemoryKeyring
) -> None:
    add_profile(runner, "acme", secret=SECRET)
    add_app(runner, "trello", "--profile", "acme")
    result = runner.invoke(app, ["profile", "add", "acme", "--issuer", IDP, "--client-id", "c"])
    assert result.exit_code == 3
    assert "already exists" in result.stderr
    result = runner.invoke(
        app,
        [
            "profile",
            "add",
            "acme",
            "--issuer",
            "https://new.example",
            "--client-id",
            "c2",
            "--client-auth",
            "client_secret_basic",
            "--replace",
        ],
    )
    assert result.exit_code == 0, result.stderr  # no new secret needed: the stored one is kept
    profile = config_toml(isolated_home)["profiles"]["acme"]  # type: ignore[index]
    assert profile["issuer"] == "https://new.example"
    assert list(profile["apps"]) == ["trello"]
    assert memory_keyring.data[(SERVICE, secret_key("acme", "client_secret"))] == SECRET


def test_malformed_config_is_not_overwritten_by_add(runner: CliRunner, isolated_home: Path) -> None:
    isolated_home.mkdir()
    path = isolated_home / "config.toml"
    path.write_text("# hand edit in progress\n[profiles.dev\n")
    before = path.read_bytes()
    result = runner.invoke(app, ["profile", "add", "x", "--issuer", IDP, "--client-id", "c"])
    assert result.exit_code == 3
    assert f"{path}, line 2" in result.stderr
    assert path.read_bytes() == before


# ------------------------------------------------------------------ a real terminal


@pytest.mark.parametrize("extra", [[], ["--client-secret-stdin"]], ids=["prompt", "stdin-flag-on-a-tty"])
def test_hidden_prompt_on_a_real_terminal(tmp_path: Path, extra: list[str]) -> None:
    """The secret typed at the prompt is stored, never echoed, never on stdout (also with
    --client-secret-stdin when stdin is a terminal: reading it plainly would echo the secret)."""
    home = tmp_path / "home"
    env = {**os.environ, "XAA_HOME": str(home), "XAA_SECRET_STORE": "file", "NO_COLOR": "1"}
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "xaa_cli", "profile", "add", "acme", "--issuer", IDP, "--client-id", "c",
         "--client-auth", "client_secret_basic", *extra],
        stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    echoed = _type_at_prompt(master, proc, SECRET)
    stdout, stderr = proc.communicate(timeout=30)
    os.close(master)
    assert proc.returncode == 0, stderr
    assert stdout == b""
    assert b"Client secret (input hidden): " in stderr
    assert SECRET.encode() not in stderr + echoed
    assert json.loads((home / "state" / "secrets.json").read_text()) == {
        secret_key("acme", "client_secret"): SECRET
    }


def _type_at_prompt(master: int, proc: subprocess.Popen[bytes], secret: str) -> bytes:
    """Wait until the child has switched echo off (getpass), type the secret, return what the tty showed."""
    import termios

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        if not termios.tcgetattr(master)[3] & termios.ECHO:
            break
        time.sleep(0.02)
    os.write(master, secret.encode() + b"\n")
    shown = b""
    while select.select([master], [], [], 0.5)[0]:
        try:
            chunk = os.read(master, 1024)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    return shown


# ------------------------------------------------------------------ profile list / use / remove


def test_profile_list_table_and_json(runner: CliRunner) -> None:
    empty = runner.invoke(app, ["profile", "list"])
    assert empty.exit_code == 0
    assert empty.stdout == ""
    assert "xaa profile add" in empty.stderr
    assert json.loads(runner.invoke(app, ["profile", "list", "-o", "json"]).stdout) == []
    add_profile(runner, "dev")
    add_profile(runner, "acme", secret=SECRET)
    add_app(runner, "trello", "--profile", "acme")
    rows = json.loads(runner.invoke(app, ["-o", "json", "profile", "list"]).stdout)
    assert rows == [
        {
            "name": "dev",
            "default": True,
            "issuer": IDP,
            "client_id": "dev-client",
            "client_auth": "private_key_jwt",
            "apps": [],
        },
        {
            "name": "acme",
            "default": False,
            "issuer": IDP,
            "client_id": "acme-client",
            "client_auth": "client_secret_basic",
            "apps": ["trello"],
        },
    ]
    table = runner.invoke(app, ["profile", "list"]).stdout
    lines = [line for line in table.splitlines() if "dev-client" in line or "acme-client" in line]
    assert len(lines) == 2, table  # one row per profile, not folded
    assert "*" in lines[0]
    assert "*" not in lines[1]
    assert SECRET not in table


def test_output_mode_is_checked(runner: CliRunner) -> None:
    result = runner.invoke(app, ["profile", "list", "-o", "yaml"])
    assert result.exit_code == 2
    assert "use -o table | json" in result.stderr


def test_profile_use(runner: CliRunner, isolated_home: Path) -> None:
    add_profile(runner, "dev")
    add_profile(runner, "acme")
    assert runner.invoke(app, ["profile", "use", "acme"]).exit_code == 0
    assert config_toml(isolated_home)["default_profile"] == "acme"
    result = runner.invoke(app, ["profile", "use", "nope"])
    assert result.exit_code == 3
    assert "known: acme, dev" in result.stderr


def _cache_token(profile: str, audience: str, alias: str | None = None) -> None:
    from xaa_cli.storage import paths

    TokenCache(paths.token_cache_file(), SystemClock()).put(
        CachedToken(profile, audience, None, ("s",), "at-" + profile + audience, "Bearer", time.time() + 600,
                    alias=alias)
    )  # fmt: skip


def test_profile_remove_deletes_its_secrets_and_tokens(
    runner: CliRunner, memory_keyring: MemoryKeyring
) -> None:
    add_profile(runner, "acme", secret=SECRET)
    add_app(runner, "trello", "--profile", "acme")
    assert runner.invoke(app, ["key", "generate", "--profile", "acme"]).exit_code == 0
    add_profile(runner, "other", secret=SECRET)
    _cache_token("acme", "https://trello.example/as")
    _cache_token("other", "https://trello.example/as")
    assert len(memory_keyring.data) == 4
    result = runner.invoke(app, ["profile", "remove", "acme"])
    assert result.exit_code == 0, result.stderr
    assert "3 stored secret(s), 1 cached token(s)" in result.stderr
    assert set(memory_keyring.data) == {(SERVICE, secret_key("other", "client_secret"))}
    from xaa_cli.storage import paths

    assert [t.profile for t in TokenCache(paths.token_cache_file(), SystemClock()).entries()] == ["other"]
    assert runner.invoke(app, ["profile", "remove", "acme"]).exit_code == 3


def test_profile_remove_without_keyring_changes_nothing_unless_asked(
    runner: CliRunner, isolated_home: Path
) -> None:
    add_profile(runner, "dev")
    keyring.set_keyring(fail.Keyring())
    result = runner.invoke(app, ["profile", "remove", "dev"])
    assert result.exit_code == 3
    assert "nothing was removed" in result.stderr
    assert "--keep-secrets" in result.stderr
    assert "dev" in config_toml(isolated_home)["profiles"]  # type: ignore[operator]
    assert runner.invoke(app, ["profile", "remove", "dev", "--keep-secrets"]).exit_code == 0
    assert config_toml(isolated_home)["profiles"] == {}


# ------------------------------------------------------------------ app


def test_app_add_list_remove(runner: CliRunner, isolated_home: Path, memory_keyring: MemoryKeyring) -> None:
    add_profile(runner, "dev")
    add_app(runner, "trello", "--resource", "https://api.trello.example", "--scope", "board:read board:write",
            "--scope", "board:read")  # fmt: skip
    add_app(runner, "jira", "--client-auth", "private_key_jwt", secret=None)
    stored = config_toml(isolated_home)["profiles"]["dev"]["apps"]  # type: ignore[index]
    assert stored["trello"] == {
        "issuer": "https://trello.example/as",
        "client_id": "trello-c",
        "client_auth": "client_secret_basic",
        "resource": "https://api.trello.example",
        "scopes": ["board:read", "board:write"],
    }
    assert memory_keyring.data == {(SERVICE, secret_key("dev", "client_secret", app="trello")): APP_SECRET}
    rows = json.loads(runner.invoke(app, ["app", "list", "-o", "json"]).stdout)
    assert [(r["profile"], r["alias"], r["scopes"]) for r in rows] == [
        ("dev", "trello", ["board:read", "board:write"]),
        ("dev", "jira", []),
    ]
    _cache_token("dev", "https://trello.example/as")
    result = runner.invoke(app, ["app", "remove", "trello"])
    assert result.exit_code == 0
    assert "1 secret(s), 1 cached token(s)" in result.stderr
    assert memory_keyring.data == {}
    assert list(config_toml(isolated_home)["profiles"]["dev"]["apps"]) == ["jira"]  # type: ignore[index]
    missing = runner.invoke(app, ["app", "remove", "trello"])
    assert missing.exit_code == 3
    assert "has no app 'trello' (known: jira)" in missing.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--resource", "http://api.example"], 2, "refusing plain http:// for the resource"),
        (["--resource", "https://api.example/#frag"], 2, "has a fragment"),
        (["--issuer", "https://as.example?x"], 2, "has a query or fragment"),
        (["--profile", "nope"], 3, "no profile named 'nope'"),
        (["--client-secret", "x"], 2, "leak into shell history"),
    ],
)
def test_app_add_errors(runner: CliRunner, args: list[str], code: int, message: str) -> None:
    add_profile(runner, "dev")
    result = runner.invoke(
        app,
        ["app", "add", "t", "--issuer", "https://as.example", "--client-id", "c", *args],
        input=APP_SECRET,
    )
    assert result.exit_code == code
    assert message in result.stderr


def test_app_duplicate_needs_replace(runner: CliRunner, isolated_home: Path) -> None:
    add_profile(runner, "dev")
    add_app(runner, "trello")
    again = runner.invoke(app, ["app", "add", "trello", "--issuer", "https://x.example", "--client-id", "c"])
    assert again.exit_code == 3
    assert "--replace" in again.stderr
    replaced = runner.invoke(
        app, ["app", "add", "trello", "--issuer", "https://x.example", "--client-id", "c", "--replace"]
    )
    assert replaced.exit_code == 0, replaced.stderr
    assert config_toml(isolated_home)["profiles"]["dev"]["apps"]["trello"]["issuer"] == "https://x.example"  # type: ignore[index]


def test_app_list_all_profiles(runner: CliRunner) -> None:
    add_profile(runner, "a")
    add_profile(runner, "b")
    add_app(runner, "x", "--profile", "a")
    add_app(runner, "y", "--profile", "b")
    rows = json.loads(runner.invoke(app, ["app", "list", "--all", "-o", "json"]).stdout)
    assert [(r["profile"], r["alias"]) for r in rows] == [("a", "x"), ("b", "y")]
    table = runner.invoke(app, ["-p", "b", "app", "list"]).stdout
    assert "y-c" in table
    assert "x-c" not in table


# ------------------------------------------------------------------ config


def test_config_show_toml_round_trips_and_names_the_store(runner: CliRunner, isolated_home: Path) -> None:
    add_profile(runner, "dev", secret=SECRET)
    add_app(runner, "trello", "--scope", "a")
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0
    assert tomllib.loads(result.stdout) == config_toml(isolated_home)
    assert f"# {isolated_home / 'config.toml'}\n" in result.stdout
    assert "# secret store: keyring (default): OS keyring" in result.stdout
    assert SECRET not in result.stdout
    assert APP_SECRET not in result.stdout


def test_config_show_json_and_file_store(
    runner: CliRunner, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XAA_SECRET_STORE", "file")
    add_profile(runner, "dev")
    data = json.loads(runner.invoke(app, ["config", "show", "-o", "json"]).stdout)
    assert data["exists"] is True
    assert data["path"] == str(isolated_home / "config.toml")
    assert data["secret_store"] == {
        "kind": "file",
        "source": "XAA_SECRET_STORE",
        "location": f"{isolated_home / 'state' / 'secrets.json'} (plaintext, mode 0600)",
    }
    assert data["config"]["profiles"]["dev"]["client_id"] == "dev-client"


def test_config_show_never_opens_the_keyring(runner: CliRunner) -> None:
    keyring.set_keyring(fail.Keyring())  # any keyring call would fail
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0
    assert "does not exist yet" in result.stdout


def test_config_store_from_config_file(runner: CliRunner, isolated_home: Path) -> None:
    isolated_home.mkdir()
    (isolated_home / "config.toml").write_text('secret_store = "file"\n')
    data = json.loads(runner.invoke(app, ["config", "show", "-o", "json"]).stdout)
    assert (data["secret_store"]["kind"], data["secret_store"]["source"]) == ("file", "config file")


def test_config_path(runner: CliRunner, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert runner.invoke(app, ["config", "path"]).stdout == f"{isolated_home / 'config.toml'}\n"
    everything = runner.invoke(app, ["config", "path", "--all"]).stdout.splitlines()
    assert [line.split()[0] for line in everything] == [
        "config",
        "state",
        "token_cache",
        "audit_log",
        "secrets_file",
    ]
    assert all(line.split()[1].startswith(str(isolated_home)) for line in everything)
    as_json = json.loads(runner.invoke(app, ["config", "path", "--all", "-o", "json"]).stdout)
    assert as_json["audit_log"] == str(isolated_home / "state" / "audit.jsonl")
    monkeypatch.setenv("XAA_CONFIG", str(isolated_home / "elsewhere.toml"))
    assert runner.invoke(app, ["config", "path"]).stdout == f"{isolated_home / 'elsewhere.toml'}\n"


def test_everything_lives_under_xaa_home(
    runner: CliRunner, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XAA_SECRET_STORE", "file")
    monkeypatch.setenv("HOME", str(isolated_home.parent / "not-home"))
    add_profile(runner, "dev", secret=SECRET)
    add_app(runner, "trello")
    runner.invoke(app, ["key", "generate"])
    _cache_token("dev", "https://trello.example/as")
    assert not (isolated_home.parent / "not-home").exists()
    assert {p.name for p in isolated_home.rglob("*") if p.is_file()} == {
        "config.toml",
        "secrets.json",
        "tokens.json",
    }


def test_switching_away_from_a_secret_deletes_it(runner: CliRunner, memory_keyring: MemoryKeyring) -> None:
    add_profile(runner, "acme", secret=SECRET)
    add_app(runner, "trello", "--profile", "acme")
    result = runner.invoke(app, ["profile", "add", "acme", "--issuer", IDP, "--client-id", "c", "--replace"])
    assert result.exit_code == 0, result.stderr
    assert "deleted the stored client secret" in result.stderr
    switched = runner.invoke(
        app,
        ["app", "add", "trello", "--profile", "acme", "--issuer", "https://trello.example/as",
         "--client-id", "c", "--client-auth", "private_key_jwt", "--replace"],
    )  # fmt: skip
    assert switched.exit_code == 0, switched.stderr
    assert memory_keyring.data == {}


def test_user_data_is_never_read_as_markup(runner: CliRunner) -> None:
    client_id = "[bold]agent[/bold]"
    issuer = "https://idp.example/[red]tenant"
    result = runner.invoke(app, ["profile", "add", "m", "--issuer", issuer, "--client-id", client_id])
    assert result.exit_code == 0
    assert f"{issuer}, client {client_id}" in result.stderr
    table = runner.invoke(app, ["profile", "list"]).stdout
    assert client_id in table
    assert issuer in table


def test_a_single_profile_without_default_is_marked(runner: CliRunner, isolated_home: Path) -> None:
    isolated_home.mkdir()
    (isolated_home / "config.toml").write_text('[profiles.solo]\nissuer = "https://i"\nclient_id = "c"\n')
    [row] = json.loads(runner.invoke(app, ["profile", "list", "-o", "json"]).stdout)
    assert row["default"] is True


def test_remove_warns_about_an_unrevoked_refresh_token(
    runner: CliRunner, memory_keyring: MemoryKeyring
) -> None:
    add_profile(runner, "dev")
    memory_keyring.data[(SERVICE, secret_key("dev", "refresh_token_unrevoked"))] = "rt-" + "pending"
    result = runner.invoke(app, ["profile", "remove", "dev"])
    assert result.exit_code == 0
    assert "not revoked at the IdP" in result.stderr
    assert "xaa logout --profile dev" in result.stderr
    assert memory_keyring.data == {}


def test_config_show_scrubs_the_free_form_scan_table(runner: CliRunner, isolated_home: Path) -> None:
    isolated_home.mkdir()
    token = "tok-" + "scan-canary-55"
    (isolated_home / "config.toml").write_text(f'[scan]\ntoken = "{token}"\nexclude = ["vendor/"]\n')
    for args in (["config", "show"], ["config", "show", "-o", "json"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0
        assert token not in result.stdout
        assert "vendor/" in result.stdout
        assert "<redacted sha256:" in result.stdout
