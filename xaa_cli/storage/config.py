"""The TOML configuration: profiles (one IdP each) and, inside each, apps keyed by alias.

Read with ``tomllib``, written with ``tomli_w`` atomically. Secrets never go into this file: a key that looks
like one is refused on load. A file that cannot be parsed is never overwritten. Example::

    default_profile = "dev"
    secret_store = "keyring"            # or "file" (opt-in 0600 file)

    [profiles.dev]
    issuer = "http://127.0.0.1:8765/idp"
    client_id = "xaa-agent"
    client_auth = "private_key_jwt"     # client_secret_basic | client_secret_post | private_key_jwt | none

    [profiles.dev.apps.trello]
    issuer = "http://127.0.0.1:8765/apps/trello"
    client_id = "xaa-agent-at-trello"
    client_auth = "client_secret_basic"
    resource = "http://127.0.0.1:8765/apps/trello/api"
    scopes = ["board:read"]
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal, cast

from xaa_cli.errors import ConfigError
from xaa_cli.storage.files import read_limited, write_atomic

ClientAuth = Literal["private_key_jwt", "client_secret_basic", "client_secret_post", "none"]
CLIENT_AUTH_METHODS: Final[tuple[str, ...]] = (
    "private_key_jwt",
    "client_secret_basic",
    "client_secret_post",
    "none",
)
SECRET_STORES: Final[tuple[str, ...]] = ("keyring", "file")
MAX_CONFIG_BYTES: Final = 1024 * 1024
DEFAULT_LOGIN_SCOPES: Final[tuple[str, ...]] = ("openid", "profile", "email", "offline_access")
_SECRET_KEY = re.compile(r"(secret|password|passwd|private_key|refresh_token|id_token|api_key)$", re.I)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class App:
    """An app's authorization server, as the client knows it."""

    alias: str
    issuer: str
    client_id: str
    client_auth: ClientAuth = "client_secret_basic"
    resource: str | None = None
    scopes: tuple[str, ...] = ()
    # None = ask the metadata; False = known not to support ID-JAG (issue: hybrid world).
    id_jag: bool | None = None
    # Fall back to authorization code + PKCE at the app when ID-JAG is not supported.
    interactive: bool = False


@dataclass(frozen=True, slots=True)
class Profile:
    """One IdP and this client's registration there, plus the apps reached through it."""

    name: str
    issuer: str
    client_id: str
    client_auth: ClientAuth = "private_key_jwt"
    apps: Mapping[str, App] = field(default_factory=dict)
    login_scopes: tuple[str, ...] = DEFAULT_LOGIN_SCOPES


@dataclass(frozen=True, slots=True)
class Config:
    default_profile: str | None = None
    secret_store: str | None = None
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    ca_bundle: str | None = None
    timeout: float = 10.0
    scan: Mapping[str, Any] = field(default_factory=dict)

    def profile(self, name: str | None = None) -> Profile:
        """The named profile, else the default one; ``ConfigError`` with a hint when there is none."""
        chosen = name or self.default_profile
        if chosen is None:
            if len(self.profiles) == 1:
                return next(iter(self.profiles.values()))
            raise ConfigError(
                "no profile selected",
                hint="pass --profile NAME, run `xaa profile use NAME`, or start `xaa dev serve`",
            )
        try:
            return self.profiles[chosen]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigError(
                f"no profile named {chosen!r} (known: {known})",
                hint="add one with `xaa profile add`",
            ) from None

    def with_profile(self, profile: Profile) -> Config:
        return replace(self, profiles={**self.profiles, profile.name: profile})

    def without_profile(self, name: str) -> Config:
        profiles = {k: v for k, v in self.profiles.items() if k != name}
        default = None if self.default_profile == name else self.default_profile
        return replace(self, profiles=profiles, default_profile=default)


def app_for(profile: Profile, alias: str) -> App:
    """The app ``alias`` of ``profile``, or a ``ConfigError`` naming the known aliases."""
    try:
        return profile.apps[alias]
    except KeyError:
        known = ", ".join(sorted(profile.apps)) or "none"
        raise ConfigError(
            f"profile {profile.name!r} has no app {alias!r} (known: {known})",
            hint="add it with `xaa app add` or pass the app's issuer URL",
        ) from None


def with_app(profile: Profile, app: App) -> Profile:
    return replace(profile, apps={**profile.apps, app.alias: app})


def without_app(profile: Profile, alias: str) -> Profile:
    return replace(profile, apps={k: v for k, v in profile.apps.items() if k != alias})


def validate_name(kind: str, name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"{kind} name {name!r} is not valid",
            hint="use letters, digits, '.', '_' or '-' (at most 64 characters)",
        )
    return name


# ---------------------------------------------------------------- loading


def load_config(path: Path) -> Config:
    """Load ``path``; a missing file is an empty configuration."""
    data = read_limited(path, MAX_CONFIG_BYTES)
    if data is None:
        return Config()
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text", path=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        line = _decode_error_line(exc)
        where = f"{path}, line {line}" if line else str(path)
        raise ConfigError(
            f"cannot parse {where}: {_decode_error_reason(exc)}",
            hint="fix the file by hand; xaa will not overwrite a file it could not parse",
            path=str(path),
            line=line,
        ) from exc
    return _parse_config(raw, path)


def _decode_error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    lineno = getattr(exc, "lineno", None)  # Python >= 3.14
    if isinstance(lineno, int):
        return lineno
    match = re.search(r"line (\d+)", str(exc))
    return int(match.group(1)) if match else None


def _decode_error_reason(exc: tomllib.TOMLDecodeError) -> str:
    return re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) or "invalid TOML"


class _Reader:
    """Typed access to a TOML table with error locations like ``profiles -> dev -> issuer``."""

    def __init__(self, table: Mapping[str, Any], where: tuple[str, ...], path: Path) -> None:
        self.table = table
        self.where = where
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        location = " -> ".join((*self.where, key))
        return ConfigError(f"{self.path}: {location} {problem}", path=str(self.path))

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.table.get(key, default)
        if value is None and required:
            raise self.fail(key, "is required")
        if value is not None and not isinstance(value, str):
            raise self.fail(key, "must be a string")
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str | None) -> str | None:
        value = self.text(key, default)
        if value is not None and value not in options:
            raise self.fail(key, f"must be one of {', '.join(options)}")
        return value

    def str_list(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if isinstance(value, str):
            return tuple(value.split())
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        return tuple(value)

    def flag(self, key: str, default: bool | None) -> bool | None:
        value = self.table.get(key, default)
        if value is not None and not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def sub(self, key: str) -> dict[str, Any]:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return value


def _refuse_secrets(table: Mapping[str, Any], where: tuple[str, ...], path: Path) -> None:
    for key, value in table.items():
        if isinstance(value, dict):
            _refuse_secrets(value, (*where, key), path)
        elif _SECRET_KEY.search(key):
            location = " -> ".join((*where, key))
            raise ConfigError(
                f"{path}: {location} looks like a secret; secrets never go into the config file",
                hint="remove it and store it with `xaa profile add --client-secret-stdin` "
                "or `xaa app add --client-secret-stdin`",
                path=str(path),
            )


def _parse_config(raw: Mapping[str, Any], path: Path) -> Config:
    _refuse_secrets({k: v for k, v in raw.items() if k != "scan"}, (), path)
    top = _Reader(raw, (), path)
    profiles = {name: _parse_profile(name, table, path) for name, table in top.sub("profiles").items()}
    default = top.text("default_profile")
    if default is not None and default not in profiles:
        raise top.fail("default_profile", f"names {default!r}, which is not a profile")
    timeout = raw.get("timeout", 10.0)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise top.fail("timeout", "must be a positive number of seconds")
    return Config(
        default_profile=default,
        secret_store=top.choice("secret_store", SECRET_STORES, None),
        profiles=profiles,
        ca_bundle=top.text("ca_bundle"),
        timeout=float(timeout),
        scan=top.sub("scan"),
    )


def _parse_profile(name: str, table: Any, path: Path) -> Profile:
    where = ("profiles", name)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {' -> '.join(where)} must be a table", path=str(path))
    r = _Reader(table, where, path)
    apps = {alias: _parse_app(alias, t, (*where, "apps"), path) for alias, t in r.sub("apps").items()}
    scopes = r.str_list("login_scopes") or DEFAULT_LOGIN_SCOPES
    return Profile(
        name=name,
        issuer=cast(str, r.text("issuer", required=True)),
        client_id=cast(str, r.text("client_id", required=True)),
        client_auth=cast(ClientAuth, r.choice("client_auth", CLIENT_AUTH_METHODS, "private_key_jwt")),
        apps=apps,
        login_scopes=scopes,
    )


def _parse_app(alias: str, table: Any, where: tuple[str, ...], path: Path) -> App:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {' -> '.join((*where, alias))} must be a table", path=str(path))
    r = _Reader(table, (*where, alias), path)
    return App(
        alias=alias,
        issuer=cast(str, r.text("issuer", required=True)),
        client_id=cast(str, r.text("client_id", required=True)),
        client_auth=cast(ClientAuth, r.choice("client_auth", CLIENT_AUTH_METHODS, "client_secret_basic")),
        resource=r.text("resource"),
        scopes=r.str_list("scopes"),
        id_jag=r.flag("id_jag", None),
        interactive=bool(r.flag("interactive", False)),
    )


# ---------------------------------------------------------------- saving


def config_to_toml(config: Config) -> dict[str, Any]:
    """The plain-data form written to disk (and shown, scrubbed, by ``xaa config show``)."""
    out: dict[str, Any] = {}
    if config.default_profile:
        out["default_profile"] = config.default_profile
    if config.secret_store:
        out["secret_store"] = config.secret_store
    if config.ca_bundle:
        out["ca_bundle"] = config.ca_bundle
    if config.timeout != 10.0:
        out["timeout"] = config.timeout
    if config.scan:
        out["scan"] = dict(config.scan)
    out["profiles"] = {name: _profile_to_toml(p) for name, p in config.profiles.items()}
    return out


def _profile_to_toml(profile: Profile) -> dict[str, Any]:
    out: dict[str, Any] = {
        "issuer": profile.issuer,
        "client_id": profile.client_id,
        "client_auth": profile.client_auth,
    }
    if profile.login_scopes != DEFAULT_LOGIN_SCOPES:
        out["login_scopes"] = list(profile.login_scopes)
    if profile.apps:
        out["apps"] = {alias: _app_to_toml(app) for alias, app in profile.apps.items()}
    return out


def _app_to_toml(app: App) -> dict[str, Any]:
    out: dict[str, Any] = {
        "issuer": app.issuer,
        "client_id": app.client_id,
        "client_auth": app.client_auth,
    }
    if app.resource:
        out["resource"] = app.resource
    if app.scopes:
        out["scopes"] = list(app.scopes)
    if app.id_jag is not None:
        out["id_jag"] = app.id_jag
    if app.interactive:
        out["interactive"] = True
    return out


def save_config(config: Config, path: Path) -> None:
    """Write ``config`` atomically (temp file + rename), mode 0600.

    Refuses to replace an existing file that does not parse, so a hand edit in progress is never lost.
    """
    import tomli_w  # lazy: only writers pay for it

    if path.exists():
        load_config(path)  # raises ConfigError on a malformed file; nothing is written
    write_atomic(path, tomli_w.dumps(config_to_toml(config)).encode("utf-8"))
