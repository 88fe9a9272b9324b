"""The one HTTP client factory: timeouts, TLS verification on, custom CA bundle, proxies from the
environment, plain ``http://`` only to loopback, and an optional redacted trace.

Protocol code never builds a client; it receives one from here (or a test transport).
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from xaa_cli import __version__
from xaa_cli.core.redact import redact_form, redact_headers, redact_json_text
from xaa_cli.errors import InsecureURLError, NetworkError, UsageError

if TYPE_CHECKING:
    import httpx

USER_AGENT: Final = f"xaa/{__version__}"
MAX_RESPONSE_BYTES: Final = 1024 * 1024
Trace = Callable[[str], None]


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure_url(url: str, *, what: str = "URL") -> str:
    """Accept ``https://`` anywhere and ``http://`` only to loopback (RFC 8252 §7.3, EMA §7.3)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return url
    if parts.scheme == "http":
        raise InsecureURLError(
            f"refusing plain http:// for the {what} {url}",
            hint="use https://; plain http is allowed only to loopback addresses",
        )
    raise UsageError(f"the {what} {url!r} is not an absolute http(s) URL")


def ssl_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """Verification always on. ``ca_bundle`` (or ``XAA_CA_BUNDLE``/``REQUESTS_CA_BUNDLE``, which httpx
    ignores) adds a corporate CA; otherwise certifi or ``SSL_CERT_FILE`` as httpx does."""
    bundle = ca_bundle or os.environ.get("XAA_CA_BUNDLE") or os.environ.get("REQUESTS_CA_BUNDLE")
    if bundle:
        if not os.path.exists(bundle):
            raise UsageError(f"the CA bundle {bundle} does not exist")
        return ssl.create_default_context(cafile=bundle)
    import httpx

    return httpx.create_ssl_context()


def _skip_httpx_cli() -> None:
    """``import httpx`` also imports httpx's optional command-line tool (click, rich, pygments): about 40 %
    of the import, which is most of what a cold ``xaa token get`` spends before its first request
    (benchmarks/token_bench.py). xaa never uses ``httpx.main``; a ``None`` entry in ``sys.modules`` makes
    that one submodule import fail, and httpx then installs its own stub (the ImportError path in
    ``httpx/__init__.py``). No effect if httpx was already imported."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def make_client(
    *,
    timeout: float = 10.0,
    ca_bundle: str | None = None,
    trace: Trace | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """Build the ``httpx.Client`` every command uses."""
    _skip_httpx_cli()
    import httpx

    hooks: dict[str, list[Callable[..., None]]] = {"request": [_guard], "response": []}
    if trace is not None:
        hooks["request"].append(_request_tracer(trace))
        hooks["response"].append(_response_tracer(trace))
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        verify=ssl_context(ca_bundle) if transport is None else True,
        trust_env=True,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        event_hooks=hooks,
        transport=transport,
    )


def _guard(request: httpx.Request) -> None:
    require_secure_url(str(request.url))


def _request_tracer(trace: Trace) -> Callable[[httpx.Request], None]:
    def hook(request: httpx.Request) -> None:
        request.extensions["xaa_start"] = time.perf_counter()
        trace(f"> {request.method} {request.url.copy_with(query=None)}")
        for name, value in redact_headers(request.headers.items()):
            trace(f"> {name}: {value}")
        body = _traced_body(request.headers.get("content-type", ""), _request_content(request))
        if body:
            trace(f"> {body}")

    return hook


def _response_tracer(trace: Trace) -> Callable[[httpx.Response], None]:
    def hook(response: httpx.Response) -> None:
        response.read()
        start = response.request.extensions.get("xaa_start")
        took = f" ({(time.perf_counter() - start) * 1000:.0f} ms)" if start else ""
        trace(f"< {response.status_code} {response.reason_phrase}{took}")
        for name, value in redact_headers(response.headers.items()):
            trace(f"< {name}: {value}")
        body = _traced_body(response.headers.get("content-type", ""), response.content[:4096])
        if body:
            trace(f"< {body}")

    return hook


def _request_content(request: httpx.Request) -> bytes:
    try:
        return request.content
    except Exception:  # a streaming body that was not read: nothing to show  # noqa: BLE001
        return b""


def _traced_body(content_type: str, content: bytes) -> str:
    """A body for the trace with every token-bearing field redacted.

    Forms and JSON are parsed for secret fields; any other body is summarised by size, because a
    redactor that does not understand the format cannot promise it hides the secrets in it.
    """
    if not content:
        return ""
    text = content.decode("utf-8", "replace")
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return redact_form(text)
    if kind == "application/json" or kind.endswith("+json"):
        return redact_json_text(text)
    if kind.startswith("text/") and not any(w in text.lower() for w in ("token", "secret", "password")):
        return text
    return f"<{len(content)} bytes of {kind or 'unknown type'} not shown>"


def network_error(exc: Exception) -> NetworkError | None:
    """An ``httpx`` transport failure as a ``NetworkError`` a person can act on (``None`` if it is not one).

    A safety net for the CLI's error boundary: protocol code should wrap its own calls with a better hop name.
    """
    import httpx

    if not isinstance(exc, httpx.TransportError):
        return None
    try:
        url = exc.request.url
        where = f"{url.scheme}://{url.host}{f':{url.port}' if url.port else ''}"
    except RuntimeError:  # no request attached
        where = "the server"
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return NetworkError(f"{where} did not answer in time ({type(exc).__name__})", hint=_NETWORK_HINT)
    if "CERTIFICATE_VERIFY_FAILED" in reason or "SSL" in reason:
        return NetworkError(
            f"TLS verification failed for {where}: {reason}",
            hint="behind a TLS-inspecting proxy? point XAA_CA_BUNDLE (or ca_bundle in the config) at its CA",
        )
    return NetworkError(f"cannot reach {where}: {reason}", hint=_NETWORK_HINT)


_NETWORK_HINT = "check the URL, that the server is running, and HTTPS_PROXY/NO_PROXY"
