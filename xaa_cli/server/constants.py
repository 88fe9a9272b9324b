"""Protocol identifiers used by the reference servers (id-jag-reference §1)."""

from __future__ import annotations

from typing import Final

# URNs, not secrets (ruff S105 would flag the names).

TOKEN_EXCHANGE: Final = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105
JWT_BEARER: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_DPOP: Final = "urn:ietf:params:oauth:grant-type:jwt-dpop"
DEVICE_CODE: Final = "urn:ietf:params:oauth:grant-type:device_code"
ID_JAG: Final = "urn:ietf:params:oauth:token-type:id-jag"
ID_TOKEN_TYPE: Final = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105
REFRESH_TOKEN_TYPE: Final = "urn:ietf:params:oauth:token-type:refresh_token"  # noqa: S105
SAML2_TYPE: Final = "urn:ietf:params:oauth:token-type:saml2"
ID_JAG_PROFILE: Final = "urn:ietf:params:oauth:grant-profile:id-jag"
ID_JAG_TYP: Final = "oauth-id-jag+jwt"
ACCESS_TOKEN_TYP: Final = "at+jwt"  # noqa: S105
AUTH_METHODS_ADVERTISED: Final = ("client_secret_basic", "client_secret_post", "private_key_jwt")
SIGNING_ALGS: Final = ("ES256", "ES384", "RS256", "PS256", "EdDSA", "Ed25519")
