"""OAuth errors that render themselves as RFC 6749 §5.2 responses (JSON, ``Cache-Control: no-store``).

A handler raises ``OAuthServerError``; the wire adapter turns it into a response. Descriptions are cut to the
RFC 6749 §5.2 character set and length, so nothing a client sent (an assertion, say) can be echoed back."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

MAX_DESCRIPTION: Final = 300
_NOT_ALLOWED = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")
_JWT_LIKE = re.compile(r"eyJ[A-Za-z0-9_-]{6,}(\.[A-Za-z0-9_-]*){1,4}")


def safe_description(text: str) -> str:
    """RFC 6749 §5.2: printable ASCII without '"' and '\\'; JWT-looking text is replaced."""
    text = _JWT_LIKE.sub("[token]", text)
    return _NOT_ALLOWED.sub("'", text)[:MAX_DESCRIPTION]


class OAuthServerError(Exception):
    """An OAuth error answer: ``error`` code, human description, HTTP status and extra members."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = safe_description(description)
        self.status = status
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> bytes:
        data: dict[str, Any] = {"error": self.error, "error_description": self.description, **self.extra}
        return json.dumps(data, separators=(",", ":")).encode("utf-8")

    def all_headers(self) -> dict[str, str]:
        return {"Cache-Control": "no-store", "Pragma": "no-cache", **self.headers}


def invalid_client(description: str, *, basic: bool) -> OAuthServerError:
    """RFC 6749 §5.2: 401, and ``WWW-Authenticate`` when the client tried the Authorization header."""
    headers = {"WWW-Authenticate": 'Basic realm="xaa-dev", charset="UTF-8"'} if basic else {}
    return OAuthServerError("invalid_client", description, status=401, headers=headers)


def invalid_grant(description: str) -> OAuthServerError:
    return OAuthServerError("invalid_grant", description)


def invalid_request(description: str) -> OAuthServerError:
    return OAuthServerError("invalid_request", description)
