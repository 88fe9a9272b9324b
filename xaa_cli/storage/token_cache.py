"""The short-lived token cache: a 0600 JSON file under the state directory.

Entries are keyed by profile, audience, resource and scope set. Expired entries are dropped on load; a corrupt
file is discarded with a warning (never a crash). Access tokens live here, not in the OS keyring: Windows caps
keyring entries near 1,280 characters (cli-conventions §2.4).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from xaa_cli.clock import Clock
from xaa_cli.storage.files import read_limited, write_atomic

MAX_CACHE_BYTES: Final = 8 * 1024 * 1024
DEFAULT_SKEW_S: Final = 60.0
FORMAT_VERSION: Final = 1


def cache_key(profile: str, audience: str, resource: str | None, scopes: Iterable[str]) -> str:
    """Stable key: the scope *set* matters, not its order."""
    material = json.dumps([profile, audience, resource or "", sorted(set(scopes))])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class CachedToken:
    profile: str
    audience: str  # the app's authorization-server issuer
    resource: str | None
    requested_scopes: tuple[str, ...]
    access_token: str
    token_type: str
    expires_at: float  # UTC epoch seconds
    scope: str | None = None  # granted
    alias: str | None = None
    id_jag_jti: str | None = None
    client_id: str | None = None
    revocation_failed: bool = False  # a revocation was attempted and not confirmed
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        key = cache_key(self.profile, self.audience, self.resource, self.requested_scopes)
        if self.revocation_failed:
            # Kept under a key of its own, so a new token for the same request cannot overwrite (and so
            # lose track of) a token that is still live at its server until `xaa revoke` confirms it.
            return f"{key}-unrevoked-{hashlib.sha256(self.access_token.encode()).hexdigest()[:12]}"
        return key

    def fresh(self, now: float, skew: float = DEFAULT_SKEW_S) -> bool:
        return self.expires_at - skew > now


class TokenCache:
    def __init__(
        self,
        path: Path,
        clock: Clock,
        *,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        self.clock = clock
        self._warn = warn or (lambda _msg: None)

    def _load(self) -> dict[str, CachedToken]:
        try:
            data = read_limited(self.path, MAX_CACHE_BYTES)
        except Exception:  # unreadable or oversized: treat like corrupt  # noqa: BLE001
            data = b"corrupt"
        if data is None:
            return {}
        try:
            raw = json.loads(data)
            entries = {k: _from_json(v) for k, v in raw["entries"].items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            self._warn(f"the token cache {self.path} was corrupt and has been discarded")
            self._save({})
            return {}
        now = self.clock.now()
        return {k: v for k, v in entries.items() if v.expires_at > now or v.revocation_failed}

    def _save(self, entries: dict[str, CachedToken]) -> None:
        doc = {"version": FORMAT_VERSION, "entries": {k: asdict(v) for k, v in entries.items()}}
        write_atomic(self.path, json.dumps(doc, separators=(",", ":")).encode("utf-8"))

    def get(
        self,
        profile: str,
        audience: str,
        resource: str | None,
        scopes: Iterable[str],
        *,
        skew: float = DEFAULT_SKEW_S,
    ) -> CachedToken | None:
        """A cached token that is still valid for at least ``skew`` seconds, else ``None``."""
        entry = self._load().get(cache_key(profile, audience, resource, scopes))
        if entry is None or entry.revocation_failed or not entry.fresh(self.clock.now(), skew):
            return None
        return entry

    def put(self, token: CachedToken) -> None:
        entries = self._load()
        entries[token.key] = token
        self._save(entries)

    def entries(self) -> list[CachedToken]:
        return sorted(self._load().values(), key=lambda t: (t.profile, t.audience, t.expires_at))

    def remove(self, key: str) -> bool:
        entries = self._load()
        if entries.pop(key, None) is None:
            return False
        self._save(entries)
        return True

    def mark_revocation_failed(self, key: str) -> None:
        entries = self._load()
        if key in entries:
            marked = CachedToken(**{**asdict(entries.pop(key)), "revocation_failed": True})
            entries[marked.key] = marked
            self._save(entries)

    def clear(self, predicate: Callable[[CachedToken], bool] | None = None) -> int:
        entries = self._load()
        keep = {k: v for k, v in entries.items() if predicate is not None and not predicate(v)}
        if len(keep) != len(entries):  # nothing to drop: do not create or rewrite the file
            self._save(keep)
        return len(entries) - len(keep)


def _from_json(value: Any) -> CachedToken:
    if not isinstance(value, dict):
        raise TypeError("entry is not an object")
    value = dict(value)
    value["requested_scopes"] = tuple(value.get("requested_scopes", ()))
    return CachedToken(**value)
