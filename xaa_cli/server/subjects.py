"""Subject identifiers (OIDC Core §8): public (the user name) by default, or pairwise per client when the
policy says ``pairwise_subjects = true``. An ID-JAG carries the subject the IdP would put in an ID token for
the app itself (client ``app-NAME``), never the requesting client's pairwise value (draft §5 note)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from xaa_cli.b64 import b64url_encode
from xaa_cli.server.errors import invalid_grant
from xaa_cli.server.policy import AppSpec, User
from xaa_cli.server.settings import Runtime


def app_rp_client_id(app: str) -> str:
    """The client id an app uses at the IdP as an OIDC relying party."""
    return f"app-{app}"


def subject_for(rt: Runtime, user: User, client_id: str) -> str:
    if not rt.options.pairwise_subjects:
        return user.sub
    digest = hmac.new(rt.pairwise_salt, f"{client_id}\x00{user.name}".encode(), hashlib.sha256).digest()
    return b64url_encode(digest[:18])


def resolve_subject(rt: Runtime, sub: str, client_id: str) -> User | None:
    """The user behind ``sub`` as presented to ``client_id`` (None if nobody)."""
    if not rt.options.pairwise_subjects:
        return rt.policy.users.get(sub)
    return next((u for u in rt.policy.users.values() if subject_for(rt, u, client_id) == sub), None)


# ---------------------------------------------------------------- sub_id: SAML NameID (draft §3.2, -04)

SAML_NAMEID = "saml-nameid"
EMAIL_NAMEID_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


def saml_entity_id(rt: Runtime) -> str:
    """The IdP's SAML issuer (entity id), associated with its OIDC issuer by configuration (§9.5)."""
    return f"{rt.urls.idp}/saml"


def sub_id_claim(rt: Runtime, user: User) -> dict[str, str]:
    """The NameID the IdP would use for SAML SSO to a NameID-configured app (§3.2.1)."""
    return {
        "format": SAML_NAMEID,
        "issuer": saml_entity_id(rt),
        "nameid": user.email,
        "nameid_format": EMAIL_NAMEID_FORMAT,
    }


def resolve_app_subject(rt: Runtime, app: AppSpec, claims: Mapping[str, Any]) -> User:
    """The app's user for a validated ID-JAG: by ``sub``, or by ``sub_id`` for an app that resolves users by
    SAML NameID (§3.2.2: required, well-formed, supported format, issuer associated with ``iss`` (§9.5))."""
    user = resolve_subject(rt, str(claims["sub"]), app_rp_client_id(app.name))
    if not app.sub_id:
        if user is None:
            raise invalid_grant("the ID-JAG subject is not a user of this app")
        return user
    sub_id = claims.get("sub_id")
    if not isinstance(sub_id, dict) or not all(
        isinstance(sub_id.get(k), str) for k in ("format", "issuer", "nameid")
    ):
        raise invalid_grant(f"{app.name} resolves users by sub_id, which is missing or malformed")
    if sub_id["format"] != SAML_NAMEID:
        raise invalid_grant("the sub_id format is not supported here (saml-nameid only)")
    if claims["iss"] != rt.urls.idp or sub_id["issuer"] != saml_entity_id(rt):
        raise invalid_grant("the sub_id issuer is not associated with the ID-JAG issuer")
    by_nameid = next((u for u in rt.policy.users.values() if u.email == sub_id["nameid"]), None)
    if by_nameid is None or (user is not None and user != by_nameid):
        raise invalid_grant("the sub_id does not identify a user of this app (or not the one in sub)")
    return by_nameid
