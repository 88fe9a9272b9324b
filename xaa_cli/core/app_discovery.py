"""``xaa app add --discover URL``: what an app's metadata says about it, from one URL.

The URL is either the app's API (a protected resource, RFC 9728) or its authorization server's issuer
(RFC 8414). Resource first — the 401 challenge's ``resource_metadata``, then the well-known URLs, exactly as
``token get --resource`` does — then the URL as an issuer. Every identifier is checked byte for byte by the
functions in ``discovery`` (RFC 9728 §3.3, RFC 8414 §3.3); nothing here relaxes those checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from xaa_cli.core.discovery import (
    ProtectedResource,
    ServerMetadata,
    discover_protected_resource,
    fetch_server_metadata,
)
from xaa_cli.core.http import require_secure_url
from xaa_cli.errors import ProtocolError, RemoteError, UsageError

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True, slots=True)
class AppDiscovery:
    """The app's authorization-server metadata and, when the URL was its API, the resource metadata."""

    url: str
    metadata: ServerMetadata
    protected_resource: ProtectedResource | None = None

    @property
    def issuer(self) -> str:
        return self.metadata.issuer

    @property
    def resource(self) -> str | None:
        return self.protected_resource.resource if self.protected_resource else None

    @property
    def scopes_offered(self) -> tuple[str, ...]:
        """The API's own list when it has one (it is about this resource), else the server's."""
        if self.protected_resource and self.protected_resource.scopes_supported:
            return self.protected_resource.scopes_supported
        return self.metadata.strings("scopes_supported")


def discover_app(http: httpx.Client, url: str, *, issuer: str | None = None) -> AppDiscovery:
    """Discover the app behind ``url``; ``issuer`` picks one of several authorization servers (or pins it).

    Fresh documents only (no cache): the user is about to trust what this returns."""
    require_secure_url(url, what="discovery URL")
    try:
        prm: ProtectedResource | None = discover_protected_resource(http, url)
        resource_error: RemoteError | None = None
    except RemoteError as exc:  # no resource metadata, or metadata for another resource
        prm, resource_error = None, exc
    if prm is not None:
        chosen = choose_issuer(prm, url, issuer)
        return AppDiscovery(url, fetch_server_metadata(http, chosen), prm)
    try:
        metadata = fetch_server_metadata(http, url)
    except ProtocolError:
        raise  # an authorization server answered for this URL, wrongly: that is the news
    except RemoteError as exc:
        if isinstance(resource_error, ProtocolError):
            raise resource_error from None  # a resource answered, wrongly: more telling than two 404s
        raise RemoteError(
            f"found neither protected-resource metadata (RFC 9728) nor authorization-server metadata "
            f"(RFC 8414) for {url}",
            hint="pass the API's exact resource URL or the authorization server's exact issuer",
        ) from exc
    if issuer is not None and issuer != metadata.issuer:
        raise UsageError(
            f"{url} is the authorization server {metadata.issuer}, not --issuer {issuer}",
            hint="drop --issuer, or discover from the URL of the server you mean",
        )
    return AppDiscovery(url, metadata)


def choose_issuer(prm: ProtectedResource, url: str, wanted: str | None) -> str:
    """The one authorization server the resource names, or ``wanted`` if it is among several."""
    servers = prm.authorization_servers
    if wanted is not None:
        if wanted not in servers:
            raise UsageError(
                f"the resource {prm.resource} does not name {wanted} as an authorization server "
                f"(it names {', '.join(servers)})",
                hint="pass one of those as --issuer, or leave --issuer out",
            )
        return wanted
    if len(servers) > 1:
        raise UsageError(
            f"the resource {prm.resource} ({url}) names {len(servers)} authorization servers: "
            f"{', '.join(servers)}",
            hint="pick the one this client is registered at with --issuer",
        )
    return servers[0]
