"""Client credentials for the dev server's registered clients: made by the CLI layer (which keeps the private
halves in the xaa secret store) and handed to the server as hashes and public keys only."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xaa_cli.core.keys import generate_private_jwk, public_jwk
from xaa_cli.server.client_auth import ClientCredential, secret_sha256
from xaa_cli.server.policy import ClientSpec, Policy
from xaa_cli.server.settings import IDP


def new_secret() -> str:
    """A URL-safe secret (issue 9: some clients do not form-encode Basic credentials)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class ClientKit:
    """What a client holds: its IdP secret, one secret per app and one private key used everywhere."""

    client_id: str
    secret: str
    private_jwk: Mapping[str, Any]
    app_secrets: Mapping[str, str] = field(default_factory=dict)


def new_client_kit(spec: ClientSpec) -> ClientKit:
    return ClientKit(
        client_id=spec.client_id,
        secret=new_secret(),
        private_jwk=generate_private_jwk("ES256"),
        app_secrets={app: new_secret() for app in spec.app_client_ids},
    )


def server_credentials(
    policy: Policy, kits: Mapping[str, ClientKit]
) -> dict[tuple[str, str], ClientCredential]:
    """The server-side view of ``kits``: secret hashes and public keys, keyed by (realm, client_id)."""
    out: dict[tuple[str, str], ClientCredential] = {}
    for client_id, kit in kits.items():
        spec = policy.clients.get(client_id)
        if spec is None:
            continue
        keys = (public_jwk(kit.private_jwk),)
        out[(IDP, client_id)] = ClientCredential(secret_sha256(kit.secret), keys)
        for app, app_client_id in spec.app_client_ids.items():
            secret = kit.app_secrets.get(app)
            out[(app, app_client_id)] = ClientCredential(secret_sha256(secret) if secret else None, keys)
    return out
