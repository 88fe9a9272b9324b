"""base64url without padding (RFC 7515 §2), shared by core and scan."""

from __future__ import annotations

import base64
import binascii

_TO_STANDARD = str.maketrans("-_", "+/")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strictly decode base64url (padding optional); raise ``ValueError`` on any other character."""
    if "+" in text or "/" in text:
        raise ValueError("not base64url")
    body = text.rstrip("=")
    if len(body) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.b64decode(body.translate(_TO_STANDARD) + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
