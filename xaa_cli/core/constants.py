# ruff: noqa: S105  (these are protocol identifiers, not passwords)
"""Protocol identifiers as ``StrEnum``s, so a typo is a NameError and not a silent interop bug.

Values are exact strings from RFC 6749, 8693, 7523, 8628 and the ID-JAG draft -04 (§1 of the reference).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class GrantType(StrEnum):
    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"
    TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
    JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


class TokenType(StrEnum):
    """RFC 8693 §3 token type identifiers (and the ID-JAG one)."""

    ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"
    ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
    REFRESH_TOKEN = "urn:ietf:params:oauth:token-type:refresh_token"
    ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
    SAML2 = "urn:ietf:params:oauth:token-type:saml2"


class ClientAuthMethod(StrEnum):
    PRIVATE_KEY_JWT = "private_key_jwt"
    CLIENT_SECRET_BASIC = "client_secret_basic"
    CLIENT_SECRET_POST = "client_secret_post"
    NONE = "none"


ID_JAG_GRANT_PROFILE: Final = "urn:ietf:params:oauth:grant-profile:id-jag"
CLIENT_ASSERTION_TYPE_JWT: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ID_JAG_JWT_TYP: Final = "oauth-id-jag+jwt"
# rfc7523bis: explicit typing of client-authentication assertions.
CLIENT_AUTH_JWT_TYP: Final = "client-authentication+jwt"
# RFC 8693 §2.2.1 token_type for an issued token that is not an access token; compared case-insensitively.
TOKEN_TYPE_NOT_APPLICABLE: Final = "N_A"
PKCE_METHOD: Final = "S256"

# Well-known suffixes (RFC 8414 §3.1, OIDC Discovery §4, RFC 9728 §3.1).
WK_OAUTH_AS: Final = "/.well-known/oauth-authorization-server"
WK_OPENID: Final = "/.well-known/openid-configuration"
WK_PROTECTED_RESOURCE: Final = "/.well-known/oauth-protected-resource"
