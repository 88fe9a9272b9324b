"""What the IdP hands a signed-in user's client: ID token (OIDC Core §2), an opaque access token for
userinfo, and a refresh token when ``offline_access`` was granted. Also verifies its own ID tokens when a
client presents one as ``subject_token``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from xaa_cli.core.jose import ASYMMETRIC_ALGS, decode_unverified, verify_signature
from xaa_cli.core.keys import sign_jwt
from xaa_cli.errors import TokenFormatError, TokenVerificationError
from xaa_cli.server.constants import ACCESS_TOKEN_TYP, ID_JAG_TYP
from xaa_cli.server.errors import OAuthServerError, invalid_grant
from xaa_cli.server.policy import User
from xaa_cli.server.settings import IDP, Runtime
from xaa_cli.server.subjects import resolve_subject, subject_for
from xaa_cli.server.tokens import TokenRecord, find_token, save_token

LOGIN_SCOPES: Final = ("openid", "profile", "email", "offline_access")


@dataclass(frozen=True, slots=True)
class SignIn:
    """A completed sign-in: who, for which client, with which scopes, when."""

    user: User
    client_id: str
    scope: str
    auth_time: int
    nonce: str | None = None


def login_scope(requested: str | None) -> str:
    """Requested login scopes this IdP knows (unknown ones are dropped); ``openid`` when none asked."""
    asked = (requested or "openid").split()
    return " ".join(s for s in LOGIN_SCOPES if s in asked)


def id_token_claims(rt: Runtime, sign_in: SignIn, now: int) -> dict[str, Any]:
    user = sign_in.user
    claims: dict[str, Any] = {
        "iss": rt.urls.idp,
        "sub": subject_for(rt, user, sign_in.client_id),
        "aud": sign_in.client_id,
        "azp": sign_in.client_id,
        "iat": now,
        "exp": now + rt.options.id_token_lifetime,
        "auth_time": sign_in.auth_time,
        "jti": rt.new_id(),
        "amr": list(user.amr),
        "acr": user.acr,
    }
    if sign_in.nonce:
        claims["nonce"] = sign_in.nonce
    scopes = sign_in.scope.split()
    if "email" in scopes:
        claims.update(email=user.email, email_verified=True)
    if "profile" in scopes:
        claims.update(name=user.display_name, preferred_username=user.name)
    return claims


def issue_user_tokens(
    rt: Runtime, sign_in: SignIn, *, refresh_token: str | None = None, include_refresh: bool = True
) -> dict[str, Any]:
    """The token response for a sign-in (authorization code, device code or refresh)."""
    now = rt.now_int()
    access = rt.secret(32)
    _save_user_token(rt, "access_token", access, sign_in, now, rt.options.idp_access_token_lifetime)
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": rt.options.idp_access_token_lifetime,
        "scope": sign_in.scope,
    }
    scopes = sign_in.scope.split()
    if "openid" in scopes:
        claims = id_token_claims(rt, sign_in, now)
        body["id_token"] = sign_jwt(claims, rt.keys.private(rt.id_token_key), typ="JWT")
    if include_refresh and "offline_access" in scopes and refresh_token is None:
        refresh_token = rt.secret(32)
        _save_user_token(rt, "refresh_token", refresh_token, sign_in, now, rt.options.refresh_token_lifetime)
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    rt.audit.record(
        IDP,
        "id_token.issued",
        "ok",
        issued_to=sign_in.client_id,
        subject=sign_in.user.sub,
        audience=sign_in.client_id,
        scope=sign_in.scope,
    )
    return body


def _save_user_token(rt: Runtime, kind: str, value: str, sign_in: SignIn, now: int, lifetime: int) -> None:
    record = TokenRecord(
        kind, IDP, sign_in.client_id, sign_in.user.sub, sign_in.scope, now, now + lifetime,
        auth_time=sign_in.auth_time,
    )  # fmt: skip
    save_token(rt.store, value, record)


def active_refresh_token(rt: Runtime, token: str, client_id: str) -> tuple[TokenRecord, User]:
    """The live refresh token issued to ``client_id``, and its user: one rule for refresh and exchange."""
    record = find_token(rt.store, token, IDP)
    if record is None or record.kind != "refresh_token" or record.client_id != client_id:
        raise invalid_grant("the refresh token is unknown or was issued to another client")
    if not record.active(rt.now()):
        raise invalid_grant("the refresh token has expired or was revoked")
    user = rt.policy.users.get(record.sub)
    if user is None:
        raise invalid_grant("the refresh token's user no longer exists")
    return record, user


def verify_id_token(rt: Runtime, token: str, client_id: str) -> tuple[User, Mapping[str, Any]]:
    """Check an ID token this IdP issued to ``client_id`` (§4.3.3): signature, typ, iss, aud, exp."""
    code = rt.options.subject_token_error
    try:
        decoded = decode_unverified(token)
        typ = str(decoded.header.get("typ", "JWT")).lower()
        if typ in (ID_JAG_TYP, ACCESS_TOKEN_TYP, f"application/{ID_JAG_TYP}"):
            raise OAuthServerError(code, f"the subject token is a {typ}, not an ID token")
        verify_signature(decoded, rt.keys.trusted(IDP), algorithms=ASYMMETRIC_ALGS)
    except (TokenFormatError, TokenVerificationError) as exc:
        raise OAuthServerError(
            code, f"the subject token is not a valid ID token of this IdP: {exc}"
        ) from None
    claims = decoded.claims
    if claims.get("iss") != rt.urls.idp:
        raise OAuthServerError(code, "the ID token was not issued by this IdP")
    aud = claims.get("aud")
    if not (
        aud == client_id or (isinstance(aud, list) and client_id in aud and claims.get("azp") == client_id)
    ):
        raise OAuthServerError(code, "the ID token audience does not match the authenticated client")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp < rt.now() - rt.options.leeway:
        raise OAuthServerError(code, "the ID token has expired")
    user = resolve_subject(rt, str(claims.get("sub")), client_id)
    if user is None:
        raise OAuthServerError(code, "the ID token subject is not a known user")
    return user, claims
