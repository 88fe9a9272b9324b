"""The TOML configuration: round trip, malformed files, never overwriting, no secrets, 0600."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xaa_cli.errors import ConfigError
from xaa_cli.storage.config import (
    CLIENT_AUTH_METHODS,
    App,
    Config,
    Profile,
    app_for,
    load_config,
    save_config,
    validate_name,
    with_app,
)

NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,15}", fullmatch=True)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
SCOPES = st.lists(st.from_regex(r"[a-z:._/-]{1,12}", fullmatch=True), max_size=4, unique=True).map(tuple)


@st.composite
def apps(draw: st.DrawFn, alias: str) -> App:
    return App(
        alias=alias,
        issuer=draw(TEXT),
        client_id=draw(TEXT),
        client_auth=draw(st.sampled_from(CLIENT_AUTH_METHODS)),  # type: ignore[arg-type]
        resource=draw(st.none() | TEXT),
        scopes=draw(SCOPES),
        id_jag=draw(st.none() | st.booleans()),
        interactive=draw(st.booleans()),
    )


@st.composite
def profiles(draw: st.DrawFn, name: str) -> Profile:
    aliases = draw(st.lists(NAMES, max_size=3, unique=True))
    return Profile(
        name=name,
        issuer=draw(TEXT),
        client_id=draw(TEXT),
        client_auth=draw(st.sampled_from(CLIENT_AUTH_METHODS)),  # type: ignore[arg-type]
        apps={a: draw(apps(a)) for a in aliases},
        login_scopes=draw(
            st.one_of(st.just(("openid", "profile", "email", "offline_access")), SCOPES.filter(bool))
        ),
    )


@st.composite
def configs(draw: st.DrawFn) -> Config:
    names = draw(st.lists(NAMES, max_size=3, unique=True))
    return Config(
        default_profile=draw(st.none() | st.sampled_from(names)) if names else None,
        secret_store=draw(st.sampled_from([None, "keyring", "file"])),
        profiles={n: draw(profiles(n)) for n in names},
        ca_bundle=draw(st.none() | TEXT),
        timeout=draw(st.floats(min_value=0.001, max_value=1e6, allow_nan=False)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=configs())
def test_round_trip_property(tmp_path: Path, config: Config) -> None:
    path = tmp_path / "config.toml"
    path.unlink(missing_ok=True)
    save_config(config, path)
    assert load_config(path) == config


def test_example_round_trip_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "config.toml"
    profile = Profile(name="dev", issuer="http://127.0.0.1:8765/idp", client_id="agent")
    profile = with_app(profile, App("trello", "https://as.example", "c", scopes=("board:read",)))
    config = Config(default_profile="dev", profiles={"dev": profile})
    save_config(config, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_config(path)
    assert loaded == config
    assert app_for(loaded.profile(), "trello").scopes == ("board:read",)
    assert not list(path.parent.glob(".config.toml.*")), "no temp file left behind"


def test_missing_file_is_empty_config(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.toml") == Config()


def test_malformed_file_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('default_profile = "dev"\n\n[profiles.dev\nissuer = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in info.value.message
    assert "line 3" in info.value.message
    assert info.value.line == 3
    assert info.value.path == str(path)


def test_malformed_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    original = b"# my notes\n[profiles.dev\n"
    path.write_bytes(original)
    with pytest.raises(ConfigError):
        save_config(Config(), path)
    assert path.read_bytes() == original


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"issuer = '\xff'\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


@pytest.mark.parametrize(
    "snippet",
    [
        'client_secret = "x"',
        '[profiles.dev]\nissuer = "i"\nclient_id = "c"\nprivate_key = "k"',
        '[profiles.dev]\nissuer = "i"\nclient_id = "c"\n'
        '[profiles.dev.apps.t]\nissuer = "i"\nclient_id = "c"\nrefresh_token = "r"',
        'admin_password = "p"',
    ],
)
def test_secret_looking_keys_are_refused(tmp_path: Path, snippet: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(snippet + "\n")
    with pytest.raises(ConfigError, match="looks like a secret"):
        load_config(path)


@pytest.mark.parametrize(
    ("snippet", "fragment"),
    [
        ('[profiles.dev]\nclient_id = "c"', "profiles -> dev -> issuer is required"),
        ('[profiles.dev]\nissuer = 3\nclient_id = "c"', "profiles -> dev -> issuer must be a string"),
        ('[profiles.dev]\nissuer = "i"\nclient_id = "c"\nclient_auth = "magic"', "must be one of"),
        ('default_profile = "nope"', "not a profile"),
        ("timeout = -1", "positive number"),
        ('secret_store = "plaintext"', "must be one of keyring, file"),
    ],
)
def test_semantic_errors_name_the_location(tmp_path: Path, snippet: str, fragment: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(snippet + "\n")
    with pytest.raises(ConfigError, match=fragment) as info:
        load_config(path)
    assert str(path) in info.value.message


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"#" * (1024 * 1024 + 10))
    with pytest.raises(Exception, match="larger than"):
        load_config(path)


def test_unknown_profile_lists_known_ones() -> None:
    config = Config(profiles={"a": Profile("a", "i", "c"), "b": Profile("b", "i", "c")})
    with pytest.raises(ConfigError, match=r"no profile named 'zed' \(known: a, b\)"):
        config.profile("zed")
    with pytest.raises(ConfigError, match="no profile selected"):
        config.profile()


def test_single_profile_is_used_without_a_default() -> None:
    only = Profile("solo", "i", "c")
    assert Config(profiles={"solo": only}).profile() is only


@pytest.mark.parametrize("name", ["", "-x", "a b", "x" * 65, "../etc", "a/b"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(ConfigError):
        validate_name("profile", name)
