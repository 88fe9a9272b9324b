"""Subject identifiers (OIDC Core §8): public (the user name) by default, or pairwise per client when the
policy says ``pairwise_subjects = true``. An ID-JAG carries the subject the IdP would put in an ID token for
the app itself (client ``app-NAME``), never the requesting client's pairwise value (draft §5 note)."""

from __future__ import annotations

import hashlib
import hmac

from xaa_cli.b64 import b64url_encode
from xaa_cli.server.policy import User
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
