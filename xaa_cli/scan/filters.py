"""Precision filters: placeholders, hashes, UUIDs, lockfile integrity strings, identifiers and the inline
``xaa:allow`` marker. Pure predicates over the secret bytes (or the line), stdlib only."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

ALLOW_MARKER: Final = b"xaa:allow"

_PLACEHOLDER: Final = re.compile(
    rb"""(?ix)
    ^(?:
        \$\{?[\w.:-]+\}?                      # $VAR ${VAR} ${VAR:-x}
      | \$\(.*\)                              # $(command)
      | \{\{.*\}\}                            # {{ template }}
      | \{[\w.\[\]'"-]*\}                      # {name} (format strings, f-strings)
      | \$\{\{.*\}\}                          # ${{ secrets.X }}
      | <[^<>]*>                              # <your-token>
      | %[\w()]*%?[sd]?                       # %VAR% %s %(name)s
      | @[\w.-]+@                             # @VAR@
      | \[[\w\s-]*\]                          # [token]
      | (?:true|false|null|none|nil|undefined|empty)
      | (.)\1*                                # a single repeated character
      | (?:process\.env|os\.environ|env|getenv|secrets)\b.*
    )$
    """
)
_PLACEHOLDER_WORDS: Final = re.compile(
    rb"(?i)xxxx|\*\*\*|\.\.\.|changeme|change[_-]me|replace[_-]?me|example|dummy|placeholder|"
    rb"redacted|your[_-]?(?:api[_-]?)?(?:key|token|secret|pass|password|id)|insert[_-]?|fake|sample|"
    rb"not[_-]?a[_-]?real|notreal|put[_-]?your|passw(?:or)?d|^test[_-]?(?:key|token|secret|password)?$|"
    rb"^(?:password|passwd|secret|token|apikey|api_key|pass)\d*$|1234567|abcdef(?:gh|12)|qwerty|a1b2c3|abc123"
)
_HEX_HASH: Final = re.compile(
    rb"^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$", re.I
)
_UUID: Final = re.compile(rb"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_INTEGRITY: Final = re.compile(rb"^(?:sha(?:1|256|384|512)-)[A-Za-z0-9+/=]{20,}$")
_IDENTIFIER: Final = re.compile(
    rb"""(?x)^(?:
        [A-Za-z_]\w*(?:(?:\.|->|::)[A-Za-z_]\w*)+(?:\(\))?   # self.password, a->b, config.value()
      | [A-Za-z_][\w.]*\([^()]*\)                          # get_token(), os.getenv("X")
      | [a-z]+(?:_[a-z]+)+                                # snake_case
      | [a-z]+(?:-[a-z]+)+                                # kebab-case
      | [a-z]+(?:[A-Z][a-z]+)+                            # camelCase
      | (?:[A-Z][a-z]+){2,}                               # PascalCase
      | _*[A-Z]+(?:_[A-Z]+)+                              # SCREAMING_CASE
      | [A-Za-z_-]+(?:/[A-Za-z_-]+)+                      # resource/path/words
      | (?:arn|https?|s3|file|urn):.*                     # ARNs, URLs, URNs
      | \d{4}-\d{2}-\d{2}(?:[T\s].*)?                     # dates and timestamps
    )$"""
)
_CLASSES: Final = (
    re.compile(rb"[a-z]"),
    re.compile(rb"[A-Z]"),
    re.compile(rb"[0-9]"),
    re.compile(rb"[^A-Za-z0-9]"),
)


def is_placeholder(secret: bytes) -> bool:
    """``${VAR}``, ``<your-token>``, ``changeme``, ``xxxx``, documented example keys (``…EXAMPLE``)."""
    return bool(_PLACEHOLDER.match(secret) or _PLACEHOLDER_WORDS.search(secret))


def is_hash(secret: bytes) -> bool:
    """Hex digests of md5/sha1/sha2 lengths: usually checksums in code, not credentials."""
    return bool(_HEX_HASH.match(secret))


def is_uuid(secret: bytes) -> bool:
    return bool(_UUID.match(secret))


def is_integrity(secret: bytes) -> bool:
    """Subresource/lockfile integrity strings (``sha512-…``)."""
    return bool(_INTEGRITY.match(secret)) or secret.startswith((b"sha512-", b"sha256-", b"sha1-"))


def is_identifier(secret: bytes) -> bool:
    """Code, not a value: ``self.password``, ``get_token()``, ``db_password``, ``camelCaseName``."""
    return bool(_IDENTIFIER.match(secret))


def bad_password_shape(secret: bytes) -> bool:
    """A password candidate needs 8+ characters and at least two character classes."""
    return len(secret) < 8 or sum(1 for c in _CLASSES if c.search(secret)) < 2


FILTER_FUNCS: Final[dict[str, Callable[[bytes], bool]]] = {
    "placeholder": is_placeholder,
    "hash": is_hash,
    "uuid": is_uuid,
    "integrity": is_integrity,
    "identifier": is_identifier,
    "password-shape": bad_password_shape,
}


def line_allows(data: bytes, start: int, end: int) -> bool:
    """True when a line the match touches carries the inline ``xaa:allow`` marker."""
    line_start = data.rfind(b"\n", 0, start) + 1
    line_end = data.find(b"\n", end)
    if line_end < 0:
        line_end = len(data)
    return data.find(ALLOW_MARKER, line_start, line_end) >= 0
