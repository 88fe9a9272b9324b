"""RFC 8414 / OIDC Discovery / RFC 9728 documents for the IdP, every app's AS and every app's API.

Issuers are built once (``Urls``) and never normalised, so the metadata ``issuer`` is byte-identical to the
string used to build the well-known URL (RFC 8414 §3.3)."""

from __future__ import annotations

from typing import Any

from xaa_cli.server.constants import (
    AUTH_METHODS_ADVERTISED,
    DEVICE_CODE,
    ID_JAG,
    ID_JAG_PROFILE,
    JWT_BEARER,
    JWT_DPOP,
    SIGNING_ALGS,
    TOKEN_EXCHANGE,
)
from xaa_cli.server.policy import AppSpec, Policy
from xaa_cli.server.settings import IDP, Urls


def _auth_fields(urls: Urls, realm: str) -> dict[str, Any]:
    methods = list(AUTH_METHODS_ADVERTISED)
    algs = list(SIGNING_ALGS)
    return {
        "token_endpoint": urls.endpoint(realm, "token"),
        "token_endpoint_auth_methods_supported": methods,
        "token_endpoint_auth_signing_alg_values_supported": algs,
        "revocation_endpoint": urls.endpoint(realm, "revoke"),
        "revocation_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_signing_alg_values_supported": algs,
        "introspection_endpoint": urls.endpoint(realm, "introspect"),
        "introspection_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_signing_alg_values_supported": algs,
        "jwks_uri": urls.endpoint(realm, "jwks"),
        "code_challenge_methods_supported": ["S256"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "authorization_endpoint": urls.endpoint(realm, "authorize"),
        "authorization_response_iss_parameter_supported": True,
        "dpop_signing_alg_values_supported": ["ES256", "ES384", "RS256", "PS256", "EdDSA"],
    }


def idp_metadata(urls: Urls, policy: Policy) -> dict[str, Any]:
    """The IdP's RFC 8414 document, also served as OIDC Discovery (a superset of both)."""
    scopes = ["openid", "profile", "email", "offline_access"]
    return {
        "issuer": urls.idp,
        **_auth_fields(urls, IDP),
        "device_authorization_endpoint": urls.endpoint(IDP, "device_authorization"),
        "userinfo_endpoint": urls.endpoint(IDP, "userinfo"),
        "scopes_supported": scopes,
        "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_CODE, TOKEN_EXCHANGE],
        "identity_chaining_requested_token_types_supported": [ID_JAG],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [policy.options.id_token_signing_alg],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "email",
            "email_verified",
            "name",
            "amr",
            "acr",
        ],
        "service_documentation": "https://github.com/xaa-cli/xaa/blob/main/docs/reference-server.md",
    }


def app_metadata(urls: Urls, app: AppSpec) -> dict[str, Any]:
    """An app AS's RFC 8414 document. It never lists trusted IdPs (§9.4)."""
    grants = ["authorization_code"]
    doc: dict[str, Any] = {"issuer": urls.app(app.name), **_auth_fields(urls, app.name)}
    if app.id_jag:
        grants += [JWT_BEARER, JWT_DPOP]
        doc["authorization_grant_profiles_supported"] = [ID_JAG_PROFILE]
    doc["grant_types_supported"] = grants
    doc["scopes_supported"] = list(app.scopes)
    return doc


def protected_resource_metadata(urls: Urls, app: AppSpec) -> dict[str, Any]:
    """RFC 9728 document for the app's API; ``resource`` is exactly the URL clients call."""
    return {
        "resource": urls.resource(app.name),
        "authorization_servers": [urls.app(app.name)],
        "scopes_supported": list(app.scopes),
        "bearer_methods_supported": ["header"],
        "resource_name": f"{app.name} sample API (xaa dev serve)",
        "dpop_signing_alg_values_supported": ["ES256", "ES384", "RS256", "PS256", "EdDSA"],
    }
