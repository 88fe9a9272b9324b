"""The on-disk cache of discovery documents (RFC 8414 / OIDC / RFC 9728) that core's ``MetadataCache``
protocol asks for: ``<state>/discovery/<sha256(url)>.json``, 0600, kept for an hour. A damaged or foreign
file is only a miss."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from xaa_cli.cli.context import AppContext

DISCOVERY_TTL_S: Final = 3600.0
MAX_DISCOVERY_BYTES: Final = 512 * 1024


class FileMetadataCache:
    """Discovery documents in ``<state>/discovery/<sha256(url)>.json`` for an hour (core's MetadataCache)."""

    def __init__(self, directory: Path, now: float, ttl: float = DISCOVERY_TTL_S) -> None:
        self.directory, self.now, self.ttl = directory, now, ttl

    def _path(self, url: str) -> Path:
        return self.directory / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".json")

    def get(self, url: str) -> dict[str, Any] | None:
        from xaa_cli.storage.files import read_limited

        try:
            raw = read_limited(self._path(url), MAX_DISCOVERY_BYTES)
            entry = json.loads(raw) if raw else None
        except (OSError, ValueError, Exception):  # a damaged cache is only a miss  # noqa: BLE001
            return None
        if not isinstance(entry, dict) or entry.get("url") != url or not isinstance(entry.get("doc"), dict):
            return None
        fetched = entry.get("fetched_at")
        if not isinstance(fetched, int | float) or self.now - fetched > self.ttl:
            return None
        doc: dict[str, Any] = entry["doc"]
        return doc

    def put(self, url: str, document: dict[str, Any]) -> None:
        from xaa_cli.storage.files import write_atomic

        entry = {"url": url, "fetched_at": self.now, "doc": document}
        write_atomic(self._path(url), json.dumps(entry).encode())


def metadata_cache(actx: AppContext, fresh: bool = False) -> FileMetadataCache | None:
    from xaa_cli.storage import paths

    return None if fresh else FileMetadataCache(paths.discovery_cache_dir(), actx.clock.now())
