"""The administrator's policy: users, apps, clients, rules, and the options where the draft leaves a choice
(id-jag-reference §11). Data only; ``rules.py`` evaluates it. ``xaa dev policy`` prints ``DEFAULT_POLICY``
as TOML (``policy_to_dict``) and ``--policy FILE`` reads it back (``policy_from_dict``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Final

from xaa_cli.errors import ConfigError

AUTH_METHODS: Final = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")


@dataclass(frozen=True, slots=True)
class Options:
    """Where the draft leaves a choice, our pick (documented in docs/reference-server.md)."""

    id_jag_lifetime: int = 300
    access_token_lifetime: int = 600
    id_token_lifetime: int = 3600
    idp_access_token_lifetime: int = 3600
    refresh_token_lifetime: int = 14 * 24 * 3600
    code_lifetime: int = 120
    device_code_lifetime: int = 600
    device_interval: int = 5
    leeway: int = 30  # seconds of clock skew tolerated on exp/iat/nbf
    max_id_jag_lifetime: int = 3600  # RAS refuses ID-JAGs whose exp-iat exceeds this (RFC 7523 §3 #6)
    max_id_jag_age: int = 3600  # ...or whose iat is older than this
    jti_single_use: bool = True  # §11.1: EMA single use (True) or draft re-submission (False)
    subject_token_error: str = "invalid_grant"  # noqa: S105  # §11.2: code for a bad ID token at the IdP
    unserved_resource_error: str = "invalid_target"  # §11.3: code for a resource the RAS does not serve
    accept_application_typ: bool = True  # §11.5: also accept "application/oauth-id-jag+jwt" at the RAS
    confidential_only: bool = True  # §11.6 / §9.1: ID-JAG only for authenticated clients
    refresh_token_subject: bool = True  # §4.3: accept IdP refresh tokens as subject_token
    dpop_bound_when_proof: bool = True  # §11.8: with a DPoP proof and no cnf, bind the token to it
    signing_alg: str = "ES256"  # ID-JAGs and access tokens (cheaper than RS256, see benchmarks)
    # ID tokens: RS256 is what an OIDC relying party expects unless it registered another algorithm
    # (OIDC Registration §2) and what OIDC Discovery §3 requires the IdP to list.
    id_token_signing_alg: str = "RS256"  # noqa: S105 - an algorithm name, not a secret
    max_assertion_bytes: int = 16 * 1024
    tenant: str | None = None  # multi-tenant issuer: every ID-JAG carries this `tenant` (§6.1)
    pairwise_subjects: bool = False  # OIDC pairwise `sub` per client (checklist 37)


@dataclass(frozen=True, slots=True)
class User:
    name: str
    email: str
    display_name: str
    amr: tuple[str, ...] = ("pwd",)
    acr: str = "urn:xaa:acr:password"

    @property
    def sub(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class AppSpec:
    name: str
    scopes: tuple[str, ...]
    write_scope: str
    id_jag: bool = True  # False: the app's AS does not support ID-JAG (draft A.4.2; issue 9)
    aliases: tuple[str, ...] = ()  # implementation-specific `audience` values (URNs, §4.3)
    max_auth_age: int | None = None  # step-up (§9.2): refuse ID tokens whose auth_time is older
    require_dpop: bool = False  # the API accepts only sender-constrained tokens (§9.8.1.2.4)
    tenant: str | None = None  # multi-tenant RAS: ID-JAGs carry aud_tenant/aud_sub and must match (§6.3)
    sub_id: bool = False  # the app resolves users by SAML NameID: ID-JAGs carry and need `sub_id` (§3.2)


@dataclass(frozen=True, slots=True)
class ClientSpec:
    client_id: str  # at the IdP
    app_client_ids: Mapping[str, str]  # app name -> its client id at that app (§5 mapping)
    auth_methods: tuple[str, ...] = ("private_key_jwt", "client_secret_basic", "client_secret_post")
    grant_types: tuple[str, ...] = (
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    )

    @property
    def confidential(self) -> bool:
        return any(m != "none" for m in self.auth_methods)


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may reach which app with which scopes. ``users = ("*",)`` means every user."""

    name: str
    client: str
    app: str
    users: tuple[str, ...]
    scopes: tuple[str, ...] = ()
    effect: str = "allow"  # or "deny"


@dataclass(frozen=True, slots=True)
class Policy:
    users: Mapping[str, User]
    apps: Mapping[str, AppSpec]
    clients: Mapping[str, ClientSpec]
    rules: tuple[Rule, ...]
    options: Options = field(default_factory=Options)

    def client_at_app(self, app: str, app_client_id: str) -> ClientSpec | None:
        for client in self.clients.values():
            if client.app_client_ids.get(app) == app_client_id:
                return client
        return None


def _default_policy() -> Policy:
    users = {
        "alice": User("alice", "alice@example.com", "Alice Anderson", ("pwd", "otp"), "urn:xaa:acr:mfa"),
        "bob": User("bob", "bob@example.com", "Bob Brown"),
    }
    apps = {
        "trello": AppSpec("trello", ("board:read", "board:write"), "board:write"),
        "slack": AppSpec("slack", ("chat:write", "channels:read"), "chat:write"),
        "salesforce": AppSpec("salesforce", ("contacts:read", "revenue:read"), "revenue:read"),
        "github": AppSpec("github", ("repo:status", "contents:read"), "repo:status"),
    }
    for name, app in apps.items():
        apps[name] = replace(app, aliases=(f"urn:xaa:app:{name}",))
    agent = ClientSpec("xaa-agent", {name: f"xaa-agent-at-{name}" for name in apps})
    # A public client (no secret, no key): authorization code + PKCE only; ID-JAG refuses it (§9.1).
    public = ClientSpec(
        "xaa-public",
        dict.fromkeys(apps, "xaa-public"),
        ("none",),
        ("authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"),
    )
    rules = (
        Rule("alice-trello-write", "xaa-agent", "trello", ("alice",), ("board:read", "board:write")),
        Rule("bob-trello-read", "xaa-agent", "trello", ("bob",), ("board:read",)),
        Rule("everyone-slack", "xaa-agent", "slack", ("*",), ("chat:write", "channels:read")),
        Rule("alice-salesforce-contacts", "xaa-agent", "salesforce", ("alice",), ("contacts:read",)),
        Rule("deny-bob-salesforce", "xaa-agent", "salesforce", ("bob",), (), "deny"),
        Rule("everyone-github", "xaa-agent", "github", ("*",), ("repo:status", "contents:read")),
    )
    return Policy(users, apps, {agent.client_id: agent, public.client_id: public}, rules)


DEFAULT_POLICY: Final = _default_policy()


# ---------------------------------------------------------------- TOML form


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    """Plain data for TOML (``tomli_w`` in the CLI layer)."""
    return {
        "options": _drop(asdict(policy.options)),
        "users": {u.name: _drop(asdict(u), "name") for u in policy.users.values()},
        "apps": {a.name: _drop(asdict(a), "name") for a in policy.apps.values()},
        "clients": {
            c.client_id: {**_drop(asdict(c), "client_id"), "app_client_ids": dict(c.app_client_ids)}
            for c in policy.clients.values()
        },
        "rules": [asdict(r) for r in policy.rules],
    }


def _drop(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {
        k: (list(v) if isinstance(v, tuple) else v)
        for k, v in data.items()
        if k not in keys and v is not None
    }


def policy_from_dict(data: Mapping[str, Any], source: str = "policy") -> Policy:
    """Build a ``Policy`` from parsed TOML; any mistake is a ``ConfigError`` naming the place."""
    try:
        options = _build(Options, data.get("options", {}), f"{source}: options")
        users = {n: _build(User, {**t, "name": n}, f"{source}: users.{n}") for n, t in _tables(data, "users")}
        apps = {n: _build(AppSpec, {**t, "name": n}, f"{source}: apps.{n}") for n, t in _tables(data, "apps")}
        clients = {
            n: _build(ClientSpec, {**t, "client_id": n}, f"{source}: clients.{n}")
            for n, t in _tables(data, "clients")
        }
        rules = tuple(_build(Rule, r, f"{source}: rules[{i}]") for i, r in enumerate(data.get("rules", [])))
    except (TypeError, AttributeError) as exc:
        raise ConfigError(f"{source}: malformed policy ({exc})") from None
    policy = Policy(users, apps, clients, rules, options)
    _check_references(policy, source)
    return policy


def _tables(data: Mapping[str, Any], key: str) -> list[tuple[str, Mapping[str, Any]]]:
    value = data.get(key, {})
    if not isinstance(value, Mapping) or not all(isinstance(v, Mapping) for v in value.values()):
        raise ConfigError(f"policy: {key} must be a table of tables")
    return list(value.items())


def _build(cls: Any, table: Mapping[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = set(table) - set(known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in table.items()}
    return cls(**values)


def _check_references(policy: Policy, source: str) -> None:
    from xaa_cli.core.keys import KEY_ALGS

    for name in ("signing_alg", "id_token_signing_alg"):
        if getattr(policy.options, name) not in KEY_ALGS:
            raise ConfigError(f"{source}: options.{name} must be one of {', '.join(KEY_ALGS)}")
    for rule in policy.rules:
        if rule.client not in policy.clients or rule.app not in policy.apps:
            raise ConfigError(f"{source}: rule {rule.name!r} names an unknown client or app")
        if rule.effect not in ("allow", "deny"):
            raise ConfigError(f"{source}: rule {rule.name!r} effect must be allow or deny")
        unknown = set(rule.users) - set(policy.users) - {"*"}
        if unknown:
            raise ConfigError(
                f"{source}: rule {rule.name!r} names unknown user(s) {', '.join(sorted(unknown))}"
            )
    for client in policy.clients.values():
        if set(client.auth_methods) - set(AUTH_METHODS):
            raise ConfigError(f"{source}: client {client.client_id!r} has an unknown auth method")
        if set(client.app_client_ids) - set(policy.apps):
            raise ConfigError(f"{source}: client {client.client_id!r} maps an unknown app")
