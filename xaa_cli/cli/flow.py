"""What ``xaa login``, ``xaa token`` and ``xaa run`` share: credentials from the secret store, discovery with
an on-disk cache, the signed-in subject token (renewed through the refresh token) and the cached token flow.

Heavy imports (httpx, joserfc, keyring) happen inside the functions that need the network, so a cache hit
in ``xaa token get`` never pays for them.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from xaa_cli.cli import discovery_cache
from xaa_cli.errors import LoginRequired, RemoteError, TokenError, UsageError
from xaa_cli.storage.config import App, Profile
from xaa_cli.storage.token_cache import CachedToken

if TYPE_CHECKING:
    from xaa_cli.cli.context import AppContext
    from xaa_cli.core.client_auth import ClientCredentials
    from xaa_cli.core.discovery import ServerMetadata
    from xaa_cli.core.idjag import AccessToken, FlowResult
    from xaa_cli.core.oidc import LoginResult
    from xaa_cli.core.token_endpoint import Endpoint, InsufficientUserAuthentication, Observer

ID_TOKEN_SKEW_S: Final = 60.0


def metadata_cache(actx: AppContext, fresh: bool = False) -> discovery_cache.FileMetadataCache | None:
    """The discovery cache (None = bypass); kept here because other commands reach it through flow."""
    return discovery_cache.metadata_cache(actx, fresh)


# ----------------------------------------------------------------------------------------- credentials
def _credentials(
    actx: AppContext, profile: Profile, client_id: str, method: str, app: str | None
) -> ClientCredentials:
    from xaa_cli.core.client_auth import ClientCredentials
    from xaa_cli.core.constants import ClientAuthMethod
    from xaa_cli.core.keys import loads_jwk
    from xaa_cli.storage.secrets import secret_key

    store = actx.secret_store()
    secret = jwk = None
    if method in ("client_secret_basic", "client_secret_post"):
        secret = store.get(secret_key(profile.name, "client_secret", app=app))
    elif method == "private_key_jwt":
        text = store.get(secret_key(profile.name, "private_key", app=app)) if app else None
        text = text or store.get(secret_key(profile.name, "private_key"))
        jwk = loads_jwk(text) if text else None
    return ClientCredentials(client_id, ClientAuthMethod(method), secret=secret, private_jwk=jwk)


def idp_metadata(actx: AppContext, profile: Profile, *, fresh: bool = False) -> ServerMetadata:
    from xaa_cli.core.discovery import fetch_server_metadata

    return fetch_server_metadata(
        actx.http(), profile.issuer, prefer_oidc=True, cache=metadata_cache(actx, fresh)
    )


def idp_endpoint(actx: AppContext, profile: Profile, metadata: ServerMetadata) -> Endpoint:
    from xaa_cli.core.token_endpoint import Endpoint

    creds = _credentials(actx, profile, profile.client_id, profile.client_auth, None)
    return Endpoint(profile.issuer, metadata.token_endpoint, creds, "the IdP")


# ----------------------------------------------------------------------------------------- targets
@dataclass(frozen=True, slots=True)
class Target:
    """The app a token is for: its AS issuer (the ID-JAG audience), resource and registration."""

    app: App
    resource: str | None

    @property
    def audience(self) -> str:
        return self.app.issuer


def _app_by_issuer(profile: Profile, issuer: str) -> App:
    for app in profile.apps.values():
        if app.issuer == issuer:
            return app
    # Not configured: identify with the profile's own registration (the IdP maps it per app, draft §5).
    return App(alias=issuer, issuer=issuer, client_id=profile.client_id, client_auth=profile.client_auth)


def resolve_target(actx: AppContext, profile: Profile, aud: str | None, resource: str | None) -> Target:
    """``--aud`` alias (no network), ``--aud`` issuer URL, or ``--resource`` alone (RFC 9728 discovery)."""
    if aud:
        if "://" in aud:
            from xaa_cli.core.http import require_secure_url

            app = _app_by_issuer(profile, require_secure_url(aud, what="audience"))
        else:
            from xaa_cli.storage.config import app_for

            app = app_for(profile, aud)
        return Target(app, resource or app.resource)
    if not resource:
        raise UsageError("say which app the token is for", hint="pass --aud ALIAS|ISSUER or --resource URL")
    from xaa_cli.core.discovery import discover_protected_resource

    prm = discover_protected_resource(actx.http(), resource, cache=metadata_cache(actx))
    issuers = prm.authorization_servers
    known = [i for i in issuers if any(a.issuer == i for a in profile.apps.values())]
    chosen = (known or list(issuers))[0]
    if len(issuers) > 1:
        actx.info(f"{resource} names {len(issuers)} authorization servers; using {chosen}")
    return Target(_app_by_issuer(profile, chosen), prm.resource)


def accepts_id_jag(app: App, metadata: ServerMetadata) -> bool:
    """The operator's ``id_jag`` setting wins; unset, the metadata decides (draft §7.2, A.4.2)."""
    return app.id_jag if app.id_jag is not None else metadata.supports_id_jag


def app_metadata(
    actx: AppContext, target: Target, *, fresh: bool = False, require_id_jag: bool = True
) -> ServerMetadata:
    from xaa_cli.core.discovery import fetch_server_metadata

    metadata = fetch_server_metadata(actx.http(), target.audience, cache=metadata_cache(actx, fresh))
    if require_id_jag and not accepts_id_jag(target.app, metadata):
        why = (
            "it is configured with id_jag = false"
            if target.app.id_jag is False
            else "its metadata does not list urn:ietf:params:oauth:grant-profile:id-jag"
        )
        raise RemoteError(
            f"the authorization server of {target.app.alias} ({target.audience}) "
            f"does not accept ID-JAGs: {why}",
            hint="rerun with --interactive to sign in at the app itself (authorization code + PKCE)"
            + ("" if target.app.id_jag is False else ", or set id_jag = true for the app if it accepts them"),
        )
    return metadata


def browser_opener(actx: AppContext, no_browser: bool) -> Callable[[str], bool] | None:
    """How to show a sign-in URL: the injected opener, the system browser, or None (print it)."""
    if no_browser:
        return None
    return actx.open_browser or _system_browser


def _system_browser(url: str) -> bool:
    import webbrowser

    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False


def app_endpoint(actx: AppContext, profile: Profile, target: Target, metadata: ServerMetadata) -> Endpoint:
    from xaa_cli.core.token_endpoint import Endpoint

    app = target.app
    configured = app.alias in profile.apps
    creds = _credentials(actx, profile, app.client_id, app.client_auth, app.alias if configured else None)
    return Endpoint(metadata.issuer, metadata.token_endpoint, creds, app.alias)


# ----------------------------------------------------------------------------------------- sign-in
def store_login(actx: AppContext, profile: Profile, result: LoginResult) -> None:
    from xaa_cli.storage.secrets import secret_key

    store = actx.secret_store()
    store.set(secret_key(profile.name, "id_token"), result.id_token)
    if result.refresh_token:
        store.set(secret_key(profile.name, "refresh_token"), result.refresh_token)


def _expires_at(id_token: str) -> float | None:
    from xaa_cli.core.jose import decode_unverified

    exp = decode_unverified(id_token).claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else None


def subject_token(actx: AppContext, profile: Profile) -> str:
    """The stored ID token (validated when stored), renewed through the refresh token near expiry."""
    from xaa_cli.storage.secrets import secret_key

    store = actx.secret_store()
    id_token = store.get(secret_key(profile.name, "id_token"))
    now = actx.clock.now()
    try:
        exp = _expires_at(id_token) if id_token else None
    except TokenError:
        exp = None
    if id_token and exp is not None and exp - ID_TOKEN_SKEW_S > now:
        return id_token
    refresh = store.get(secret_key(profile.name, "refresh_token"))
    if not refresh:
        raise LoginRequired(
            f"profile {profile.name!r} is not signed in" if not id_token else "your sign-in has expired",
            hint=f"run `xaa login{_profile_flag(actx, profile)}`",
        )
    return renew_login(actx, profile, refresh).id_token


def renew_login(actx: AppContext, profile: Profile, refresh: str) -> LoginResult:
    from xaa_cli.core.oidc import refresh_login
    from xaa_cli.errors import OAuthError

    metadata = idp_metadata(actx, profile)
    idp = idp_endpoint(actx, profile, metadata)
    audit = actx.audit()
    try:
        result = refresh_login(actx.http(), idp, metadata, refresh_token=refresh, clock=actx.clock)
    except OAuthError as exc:
        audit.record(
            "login_refresh", outcome="error", profile=profile.name, issuer=profile.issuer, error=exc.error
        )
        if exc.error in ("invalid_grant", "invalid_request", "unauthorized_client"):
            raise LoginRequired(
                f"your sign-in has expired and the IdP refused to renew it ({exc.error})",
                hint=f"run `xaa login{_profile_flag(actx, profile)}`",
            ) from exc
        raise
    store_login(actx, profile, result)
    audit.record(
        "login_refresh", profile=profile.name, issuer=profile.issuer, client_id=profile.client_id,
        subject=result.claims.get("sub"),
    )  # fmt: skip
    return result


def _profile_flag(actx: AppContext, profile: Profile) -> str:
    config = actx.config()
    return "" if config.default_profile == profile.name else f" --profile {profile.name}"


# ----------------------------------------------------------------------------------------- the flow
def run_flow(
    actx: AppContext,
    profile: Profile,
    target: Target,
    scopes: Sequence[str],
    *,
    observer: Observer | None = None,
) -> FlowResult:
    """Both hops. If the IdP refuses the subject token (``invalid_grant`` at hop 1) although it has not
    expired here, renew it once through the refresh token (draft §4.4.3); a step-up demand (§9.2) means
    signing in again."""
    from xaa_cli.core.idjag import TOKEN_EXCHANGE_HOP, get_access_token
    from xaa_cli.core.token_endpoint import InsufficientUserAuthentication, InvalidGrant
    from xaa_cli.storage.secrets import secret_key

    # --fresh is about tokens: discovery documents stay cached (an hour), like any OAuth client's.
    token = subject_token(actx, profile)
    idp = idp_endpoint(actx, profile, idp_metadata(actx, profile))
    app = app_endpoint(actx, profile, target, app_metadata(actx, target))
    audit = actx.audit()

    def record(event: str, *, outcome: str = "ok", **fields: Any) -> None:
        audit.record(event, outcome=outcome, profile=profile.name, **fields)

    def attempt(subject: str) -> FlowResult:
        return get_access_token(
            actx.http(), idp, app, subject_token=subject, resource=target.resource,
            scope=" ".join(scopes) or None, clock=actx.clock, observer=observer, record=record,
        )  # fmt: skip

    try:
        return attempt(token)
    except InvalidGrant as exc:
        if exc.hop != TOKEN_EXCHANGE_HOP:
            raise
        refresh = actx.secret_store().get(secret_key(profile.name, "refresh_token"))
        if not refresh:
            raise LoginRequired(
                f"the IdP no longer accepts your sign-in ({exc.description or exc.error})",
                hint=f"run `xaa login{_profile_flag(actx, profile)}`",
            ) from exc
        return attempt(renew_login(actx, profile, refresh).id_token)
    except InsufficientUserAuthentication as exc:
        raise _step_up_required(actx, profile, target, exc) from exc


def _step_up_required(
    actx: AppContext, profile: Profile, target: Target, exc: InsufficientUserAuthentication
) -> LoginRequired:
    """The IdP's step-up demand as a ready-to-paste `xaa login` with the max_age / acr_values it asked for."""
    wanted = "".join(
        f" --{name.replace('_', '-')} {shlex.quote(str(exc.extra[name]))}"
        for name in ("max_age", "acr_values")
        if name in exc.extra
    )
    return LoginRequired(
        f"the IdP wants a more recent or stronger sign-in before it lets you reach {target.app.alias} "
        f"({exc.description or exc.error})",
        hint=f"run `xaa login{_profile_flag(actx, profile)}{wanted}`, then retry",
    )


def get_token(
    actx: AppContext,
    profile: Profile,
    target: Target,
    scopes: Sequence[str],
    *,
    fresh: bool = False,
    observer: Observer | None = None,
    interactive: bool = False,
    no_browser: bool = False,
) -> tuple[CachedToken, FlowResult | None]:
    """A cached token when one is valid beyond the skew (no network), else a new one, cached.

    The second value is the ID-JAG flow's result; None for a cache hit or the interactive fallback."""
    cache = actx.token_cache()
    if not fresh:
        hit = cache.get(profile.name, target.audience, target.resource, scopes)
        if hit is not None:
            from xaa_cli.core.redact import fingerprint

            actx.audit().record(
                "token_cache_hit", profile=profile.name, issuer=target.audience, audience=target.resource,
                scope=hit.scope, jti=hit.id_jag_jti, token_fingerprint=fingerprint(hit.access_token, 16),
            )  # fmt: skip
            return hit, None
    metadata = app_metadata(actx, target, require_id_jag=not (interactive or target.app.interactive))
    if not accepts_id_jag(target.app, metadata):
        access = _interactive_token(actx, profile, target, scopes, metadata, observer, no_browser)
        entry = _entry(actx, profile, target, scopes, access, None)
        cache.put(entry)
        return entry, None
    result = run_flow(actx, profile, target, scopes, observer=observer)
    entry = _entry(actx, profile, target, scopes, result.access, result.id_jag.jti)
    cache.put(entry)
    return entry, result


def _entry(
    actx: AppContext,
    profile: Profile,
    target: Target,
    scopes: Sequence[str],
    access: AccessToken,
    jti: str | None,
) -> CachedToken:
    return CachedToken(
        profile=profile.name,
        audience=target.audience,
        resource=target.resource,
        requested_scopes=tuple(scopes),
        access_token=access.access_token,
        token_type=access.token_type,
        expires_at=actx.clock.now() + access.expires_in,
        scope=access.scope,
        alias=target.app.alias,
        id_jag_jti=jti,
        client_id=target.app.client_id,
    )


def _interactive_token(
    actx: AppContext,
    profile: Profile,
    target: Target,
    scopes: Sequence[str],
    metadata: ServerMetadata,
    observer: Observer | None,
    no_browser: bool,
) -> AccessToken:
    """Issue 9 fallback: authorization code + PKCE at the app itself, same cache and audit trail."""
    from xaa_cli.core.app_code import authorization_code_at_app
    from xaa_cli.core.redact import fingerprint
    from xaa_cli.errors import OAuthError

    actx.info(f"{target.app.alias} does not accept ID-JAGs; signing in at the app itself instead.")
    endpoint = app_endpoint(actx, profile, target, metadata)
    audit = actx.audit()
    common: dict[str, Any] = {"profile": profile.name, "issuer": target.audience, "audience": target.resource}
    try:
        access = authorization_code_at_app(
            actx.http(), endpoint, metadata, scopes=scopes, resource=target.resource,
            open_browser=browser_opener(actx, no_browser), announce=actx.info, clock=actx.clock,
            observer=observer,
        )  # fmt: skip
    except OAuthError as exc:
        audit.record("authorization_code", outcome="error", error=exc.error, **common)
        raise
    audit.record(
        "authorization_code", client_id=endpoint.credentials.client_id, scope=access.scope,
        token_fingerprint=fingerprint(access.access_token, 16), **common,
    )  # fmt: skip
    dropped = [s for s in scopes if s not in (access.scope or "").split()]
    if dropped:
        actx.warn(
            f"granted fewer scopes than requested: {', '.join(dropped)} (dropped by {target.app.alias})"
        )
    return access


def default_scopes(target: Target, scopes: Sequence[str]) -> tuple[str, ...]:
    """``--scope`` may repeat and may hold several space-separated scopes; default: the app's list."""
    given = tuple(s for item in scopes for s in item.split())
    return given or target.app.scopes
