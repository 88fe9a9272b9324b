"""Discovery: RFC 8414 / OIDC authorization-server metadata and RFC 9728 protected-resource metadata.

Issuer and resource identifiers are compared byte for byte (RFC 8414 §3.3, RFC 9728 §3.3): a document
whose ``issuer`` (or ``resource``) is not exactly the identifier the URL was built from is never used —
this is what stops a malicious resource from sending the client's ID-JAG and credentials elsewhere.

Documents are cached through a ``MetadataCache`` the caller passes in (core does not touch storage).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from xaa_cli.core.constants import ID_JAG_GRANT_PROFILE, WK_OAUTH_AS, WK_OPENID, WK_PROTECTED_RESOURCE
from xaa_cli.core.http import require_secure_url
from xaa_cli.core.token_endpoint import Hop, get_json
from xaa_cli.errors import ProtocolError, RemoteError

if TYPE_CHECKING:
    import httpx


class MetadataCache(Protocol):
    def get(self, url: str) -> dict[str, Any] | None: ...

    def put(self, url: str, document: dict[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class ServerMetadata:
    issuer: str
    token_endpoint: str
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def endpoint(self, name: str) -> str | None:
        value = self.raw.get(name)
        return value if isinstance(value, str) else None

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.raw.get(name)
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

    @property
    def supports_id_jag(self) -> bool:
        """RAS advertises the ID-JAG grant profile (draft §7.2, EMA §6)."""
        return ID_JAG_GRANT_PROFILE in self.strings("authorization_grant_profiles_supported")

    @property
    def iss_parameter_supported(self) -> bool:
        return self.raw.get("authorization_response_iss_parameter_supported") is True


@dataclass(frozen=True, slots=True)
class ProtectedResource:
    resource: str
    authorization_servers: tuple[str, ...]
    scopes_supported: tuple[str, ...] = ()
    source: str = ""  # where the document came from


# ----------------------------------------------------------------------------------------- URL builders
def _insert_well_known(identifier: str, suffix: str) -> str:
    """RFC 8414 §3.1 / RFC 9728 §3.1: insert the well-known suffix between host and path."""
    parts = urlsplit(identifier)
    path = parts.path.rstrip("/") if parts.path != "/" else ""
    return urlunsplit((parts.scheme, parts.netloc, suffix + path, parts.query, ""))


def oauth_metadata_url(issuer: str) -> str:
    return _insert_well_known(issuer, WK_OAUTH_AS)


def openid_configuration_url(issuer: str) -> str:
    """OIDC Discovery §4: appended to the issuer."""
    return issuer.rstrip("/") + WK_OPENID


def server_metadata_urls(issuer: str, *, prefer_oidc: bool) -> list[str]:
    rfc8414 = [oauth_metadata_url(issuer)]
    oidc = [openid_configuration_url(issuer), _insert_well_known(issuer, WK_OPENID)]
    ordered = oidc + rfc8414 if prefer_oidc else rfc8414 + oidc
    return list(dict.fromkeys(ordered))


def resource_metadata_urls(resource: str) -> list[str]:
    """Path-inserted, then root (RFC 9728 §3.1; the order MCP clients use)."""
    parts = urlsplit(resource)
    root = urlunsplit((parts.scheme, parts.netloc, WK_PROTECTED_RESOURCE, "", ""))
    return list(dict.fromkeys([_insert_well_known(resource, WK_PROTECTED_RESOURCE), root]))


# ----------------------------------------------------------------------------------------- AS metadata
def parse_server_metadata(document: Any, issuer: str, source: str) -> ServerMetadata:
    if not isinstance(document, dict):
        raise ProtocolError(f"the metadata at {source} is not a JSON object")
    found = document.get("issuer")
    if found != issuer:
        raise ProtocolError(
            f"the metadata at {source} names issuer {found!r}, not {issuer!r}; refusing to use it",
            hint="RFC 8414 §3.3 requires an exact match; check the configured issuer (trailing slash?)",
        )
    token_endpoint = document.get("token_endpoint")
    if not isinstance(token_endpoint, str):
        raise ProtocolError(f"the metadata at {source} has no token_endpoint")
    for name, value in document.items():
        # Only what xaa may call; informational links (op_tos_uri, service_documentation) are not checked.
        if (name.endswith("_endpoint") or name == "jwks_uri") and isinstance(value, str):
            require_secure_url(value, what=f"{name} of {issuer}")
    return ServerMetadata(issuer=issuer, token_endpoint=token_endpoint, raw=document)


def fetch_server_metadata(
    http: httpx.Client, issuer: str, *, prefer_oidc: bool = False, cache: MetadataCache | None = None
) -> ServerMetadata:
    """The metadata of ``issuer``, from the cache or the first well-known URL that answers 200."""
    require_secure_url(issuer, what="issuer")
    hop = Hop(name=f"discovery of {issuer}", client_id="")
    urls = server_metadata_urls(issuer, prefer_oidc=prefer_oidc)
    for url in urls:
        cached = cache.get(url) if cache is not None else None
        if cached is not None:
            return parse_server_metadata(cached, issuer, url)
    tried = []
    for url in urls:
        status, document, _ = get_json(http, url, hop)
        if status == 200 and isinstance(document, dict):
            metadata = parse_server_metadata(document, issuer, url)
            if cache is not None:
                cache.put(url, document)
            return metadata
        tried.append(f"{url} ({'not JSON' if status == 200 else status})")
    raise RemoteError(
        f"no authorization-server metadata for {issuer}: tried {', '.join(tried)}",
        hint="check the issuer URL; it must be exactly the server's issuer identifier",
    )


# ----------------------------------------------------------------------------------------- RFC 9728
_RESOURCE_METADATA = re.compile(r'resource_metadata\s*=\s*"([^"]+)"|resource_metadata\s*=\s*([^\s,]+)', re.I)


def resource_metadata_from_challenge(www_authenticate: str) -> str | None:
    """The ``resource_metadata`` parameter of a ``WWW-Authenticate: Bearer`` challenge (RFC 9728 §5.1)."""
    if "bearer" not in www_authenticate.lower():
        return None
    match = _RESOURCE_METADATA.search(www_authenticate)
    return (match.group(1) or match.group(2)) if match else None


def parse_resource_metadata(document: Any, expected: set[str], source: str) -> ProtectedResource:
    if not isinstance(document, dict):
        raise ProtocolError(f"the resource metadata at {source} is not a JSON object")
    resource = document.get("resource")
    if resource not in expected:
        raise ProtocolError(
            f"the resource metadata at {source} is for {resource!r}, not {sorted(expected)[0]!r}; "
            "refusing to use it (RFC 9728 §3.3)",
            hint=f"pass --resource {resource} if that is the API you mean, or --aud with the app's alias"
            if isinstance(resource, str) and resource.isprintable() and len(resource) < 300
            else "pass --aud with the app's alias",
        )
    servers = document.get("authorization_servers")
    if not isinstance(servers, list) or not [s for s in servers if isinstance(s, str)]:
        raise ProtocolError(f"the resource metadata at {source} lists no authorization_servers")
    scopes = document.get("scopes_supported")
    return ProtectedResource(
        resource=str(resource),
        authorization_servers=tuple(s for s in servers if isinstance(s, str)),
        scopes_supported=tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else (),
        source=source,
    )


def discover_protected_resource(
    http: httpx.Client, resource: str, *, cache: MetadataCache | None = None
) -> ProtectedResource:
    """RFC 9728: the 401 challenge's ``resource_metadata`` first, else the well-known URLs."""
    require_secure_url(resource, what="resource")
    hop = Hop(name=f"discovery of {resource}", client_id="")
    origin = urlunsplit((*urlsplit(resource)[:2], "", "", ""))
    cached = cache.get(resource) if cache is not None else None
    if cached is not None:
        return parse_resource_metadata(cached, {resource, origin, origin + "/"}, "the discovery cache")
    candidates: list[tuple[str, set[str]]] = []
    status, _, headers = get_json(http, resource, hop)
    pointer = resource_metadata_from_challenge(headers.get("www-authenticate", "")) if status == 401 else None
    if pointer:
        require_secure_url(pointer, what="resource_metadata URL")
        candidates.append((pointer, {resource}))
    path_url, root_url = [*resource_metadata_urls(resource), ""][:2]
    candidates.append((path_url, {resource}))
    if root_url and root_url != path_url:
        candidates.append((root_url, {resource, origin, origin + "/"}))
    tried = []
    for url, expected in candidates:
        status, document, _ = get_json(http, url, hop)
        if status == 200 and isinstance(document, dict):
            found = parse_resource_metadata(document, expected, url)
            if cache is not None:
                cache.put(resource, document)
            return found
        tried.append(f"{url} ({'not JSON' if status == 200 else f'HTTP {status}'})")
    raise RemoteError(
        f"no protected-resource metadata for {resource}: tried {', '.join(tried)}",
        hint="pass --aud with the app's alias or authorization-server issuer instead",
    )
