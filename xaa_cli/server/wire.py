"""The framework-free request/response pair every handler works on (authlib's shape: handlers are pure
``Request -> Response`` functions; only ``app.py`` knows Starlette). Also form parsing with the RFC 6749
rules: UTF-8, size-capped, a parameter at most once unless the spec lets it repeat."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl

from xaa_cli.server.errors import OAuthServerError

MAX_FORM_BYTES: Final = 64 * 1024
MAX_FORM_FIELDS: Final = 64
NO_STORE: Final[Mapping[str, str]] = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# RFC 8707 lets `resource` repeat; every other OAuth parameter MUST NOT (RFC 6749 §3.1, §3.2).
REPEATABLE: Final = frozenset({"resource"})


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    url: str  # absolute, from the configured base URL (no query): what `htu` and `aud` are compared with
    headers: Mapping[str, str]  # lower-case names; a repeated header is joined with ", "
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    client_host: str | None = None
    header_counts: Mapping[str, int] = field(default_factory=dict)
    path_params: Mapping[str, str] = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        """A form parameter that may appear at most once (RFC 6749 §3.2); empty counts as absent."""
        values = self.form.get(name, ())
        if len(values) > 1:
            raise OAuthServerError("invalid_request", f"the parameter {name} is repeated")
        return values[0] if values and values[0] != "" else None

    def require(self, name: str) -> str:
        value = self.param(name)
        if value is None:
            raise OAuthServerError("invalid_request", f"the parameter {name} is missing")
        return value

    def params(self, name: str) -> tuple[str, ...]:
        return tuple(v for v in self.form.get(name, ()) if v != "")


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    media_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class Deferred:
    """A handler's answer whose writes are still to be made: ``commit`` runs inside the next group commit
    (server/batch.py) and returns the response: the success, or an error it recorded as a denial."""

    commit: Callable[[], Response]


Reply = Response | Deferred


def error_response(exc: OAuthServerError) -> Response:
    return Response(exc.status, exc.body(), exc.all_headers())


def json_response(
    data: Any, status: int = 200, *, no_store: bool = True, headers: Mapping[str, str] | None = None
) -> Response:
    merged = {**(NO_STORE if no_store else {}), **(headers or {})}
    body = json.dumps(data, separators=(",", ":")).encode("utf-8")
    return Response(status, body, merged, "application/json")


def html_response(html: str, status: int = 200, *, form_targets: tuple[str, ...] = ()) -> Response:
    """An HTML page with a strict CSP. ``form_targets``: extra origins a form may end up at — browsers
    (Chromium) apply ``form-action`` to the redirect after the POST, so the sign-in page must allow the
    client's loopback redirect origin (RFC 8252 §7.3)."""
    form_action = " ".join(("'self'", *form_targets))
    csp = f"default-src 'none'; style-src 'unsafe-inline'; form-action {form_action}"
    headers = {
        **NO_STORE,
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
    }
    return Response(status, html.encode("utf-8"), headers, "text/html; charset=utf-8")


def redirect(location: str) -> Response:
    return Response(302, b"", {**NO_STORE, "Location": location}, "text/plain")


def parse_form(body: bytes) -> dict[str, tuple[str, ...]]:
    """Parse an ``application/x-www-form-urlencoded`` body; anything malformed is ``invalid_request``."""
    if len(body) > MAX_FORM_BYTES:
        raise OAuthServerError("invalid_request", "the request body is too large", status=413)
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise OAuthServerError("invalid_request", "the form body is not valid UTF-8 form encoding") from None
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return {k: tuple(v) for k, v in form.items()}
