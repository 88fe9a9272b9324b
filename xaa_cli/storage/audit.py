"""The local audit log: one JSON object per line, appended, mode 0600.

Every token request, exchange, revocation and failure xaa performs is recorded with who/what/where and a token
*fingerprint* (SHA-256 prefix), never the token itself.
``record`` refuses values that look like JWTs so that a
caller's mistake cannot write a token to disk.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from xaa_cli.clock import Clock
from xaa_cli.errors import StorageError
from xaa_cli.storage.files import append_private

FIELDS: Final[tuple[str, ...]] = (
    "time",
    "event",
    "profile",
    "issuer",
    "audience",
    "client_id",
    "scope",
    "jti",
    "token_fingerprint",
    "outcome",
    "error",
)
MAX_LINE_BYTES: Final = 16 * 1024
_SHORT: Final = 512
_JWT_LIKE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.")


def token_fingerprint(token: str) -> str:
    """SHA-256 prefix (16 hex characters) of a token: enough to correlate, useless to replay."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


def _line(entry: dict[str, Any]) -> bytes:
    """One JSON line; an oversized entry has its long strings shortened, so the line stays valid JSON."""
    line = json.dumps(entry, separators=(",", ":"), default=str).encode("utf-8")
    if len(line) <= MAX_LINE_BYTES:
        return line + b"\n"
    short = {k: (v[:_SHORT] + "…" if isinstance(v, str) and len(v) > _SHORT else v) for k, v in entry.items()}
    short["truncated"] = True
    line = json.dumps(short, separators=(",", ":"), default=str).encode("utf-8")
    if len(line) > MAX_LINE_BYTES:  # huge non-string values: keep only the fixed fields
        line = json.dumps({k: short.get(k) for k in FIELDS} | {"truncated": True}, default=str).encode()
    return line + b"\n"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    data: dict[str, Any]

    def get(self, key: str) -> Any:
        return self.data.get(key)


class AuditLog:
    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self.clock = clock

    def record(self, event: str, *, outcome: str = "ok", **fields: Any) -> None:
        """Append one entry. ``fields`` use the names in ``FIELDS`` (others are kept too)."""
        stamp = datetime.fromtimestamp(self.clock.now(), tz=UTC).isoformat(timespec="seconds")
        entry: dict[str, Any] = {"time": stamp, "event": event, "outcome": outcome}
        for key, value in fields.items():
            if value is None:
                continue
            # Serialised first, so a token nested in a list or dict is caught too.
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            if _JWT_LIKE.search(text):
                raise StorageError(f"refusing to write a token into the audit log field {key!r}")
            entry[key] = value
        append_private(self.path, _line(entry))

    def entries(self) -> Iterator[AuditEntry]:
        """Every readable entry, oldest first; a damaged line is skipped, not fatal."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageError(f"cannot read {self.path}: {exc.strerror}") from exc
        with handle:
            for raw in handle:
                if len(raw) > MAX_LINE_BYTES + 1:  # not written by xaa: skip, do not parse
                    continue
                try:
                    data = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(data, dict):
                    yield AuditEntry(data)
