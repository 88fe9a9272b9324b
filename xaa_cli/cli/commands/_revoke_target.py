"""``xaa revoke TOKEN``: which server issued the token, and with which client's credentials to revoke it.

RFC 7009 §2.1: the server revokes a token only for the client it was issued to, and answers 200 either way
(§2.2). Revoking with the wrong client's credentials would therefore *look* successful and change nothing,
so a token is never sent with credentials that cannot be its own: a JWT's ``client_id`` claim must match
the registration used, and a token xaa cannot place is refused with a hint instead of guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from xaa_cli.errors import TokenError, UsageError

if TYPE_CHECKING:
    from xaa_cli.cli.context import AppContext
    from xaa_cli.storage.config import Profile

ID_JAG_TYP: Final = "oauth-id-jag+jwt"


@dataclass(frozen=True, slots=True)
class TokenTarget:
    label: str
    profile: Profile
    app: str | None  # alias or issuer; None = the profile's IdP
    hint: str
    jti: str | None = None


def _claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    from xaa_cli.core.jose import decode_unverified
    from xaa_cli.errors import TokenFormatError

    try:
        decoded = decode_unverified(token)
    except TokenFormatError:
        return {}, {}  # opaque
    return decoded.header, decoded.claims


def _refuse_unrevocable(header: dict[str, Any]) -> None:
    if str(header.get("typ", "")).lower() in (ID_JAG_TYP, "application/" + ID_JAG_TYP):
        raise TokenError(
            "an ID-JAG cannot be revoked: the draft defines no revocation for it, it expires at its exp",
            hint="revoke the access tokens it produced (`xaa revoke --aud APP`) or disable the client "
            "at the IdP (`xaa revoke --client ID --at-idp`)",
        )


def _wrong_client(claims: dict[str, Any], client_id: str) -> bool:
    issued_to = claims.get("client_id")
    return isinstance(issued_to, str) and issued_to != client_id


def resolve_token(
    actx: AppContext, token: str, *, profile_name: str | None, aud: str | None, hint: str | None
) -> TokenTarget:
    """``--aud``, else the local cache (which knows the profile), else the JWT's ``iss`` (and
    ``client_id``), else ``--profile`` (its IdP). Never guesses between two servers or two clients."""
    header, claims = _claims(token)
    _refuse_unrevocable(header)
    jti = claims.get("jti") if isinstance(claims.get("jti"), str) else None
    config = actx.config()
    named = profile_name or actx.profile_name
    if aud:
        profile = actx.profile(named)
        if "://" not in aud and aud in profile.apps and _wrong_client(claims, profile.apps[aud].client_id):
            raise _not_ours(claims)
        return TokenTarget(f"access token at {aud}", profile, aud, hint or "access_token", jti)
    for entry in actx.token_cache().entries():
        if entry.access_token == token and entry.profile in config.profiles:
            app = entry.alias or entry.audience
            profile = config.profiles[entry.profile]
            return TokenTarget(f"access token at {app}", profile, app, hint or "access_token", jti)
    profiles = [config.profile(named)] if named else list(config.profiles.values())
    iss = claims.get("iss")
    if isinstance(iss, str):
        return _by_issuer(profiles, iss, claims, hint, jti)
    if named:
        profile = config.profile(named)
        label = f"refresh token at the IdP of {profile.name}"
        return TokenTarget(label, profile, None, hint or "refresh_token")
    raise UsageError(
        "this token is opaque and not in the local cache: xaa cannot tell which server issued it",
        hint="pass --aud ALIAS for an app's token, or --profile P for a token issued by P's IdP",
    )


def _by_issuer(
    profiles: list[Profile], iss: str, claims: dict[str, Any], hint: str | None, jti: str | None
) -> TokenTarget:
    known = False
    for profile in profiles:
        if profile.issuer == iss:
            known = True
            if claims.get("aud") == profile.client_id and "scope" not in claims:
                raise TokenError(
                    "this is an ID token: it cannot be revoked (OIDC defines no revocation for ID tokens)",
                    hint="`xaa revoke --idp` forgets it and revokes the refresh token that renews it",
                )
            if not _wrong_client(claims, profile.client_id):
                label = f"token at the IdP of {profile.name}"
                return TokenTarget(label, profile, None, hint or "access_token", jti)
        for app in profile.apps.values():
            if app.issuer == iss:
                known = True
                if not _wrong_client(claims, app.client_id):
                    label = f"access token at {app.alias}"
                    return TokenTarget(label, profile, app.alias, hint or "access_token", jti)
    if known:
        raise _not_ours(claims)
    raise UsageError(
        f"the token was issued by {iss}, which no profile knows",
        hint="pass --aud with the app's alias or issuer URL, or --profile for the IdP",
    )


def _not_ours(claims: dict[str, Any]) -> UsageError:
    return UsageError(
        f"the token was issued to client {claims.get('client_id')!r}, and no profile here holds that "
        "client's credentials: only that client can revoke it (RFC 7009 §2.1)",
        hint="as the IdP administrator, cut the client off: `xaa revoke --client CLIENT_ID --at-idp`",
    )
