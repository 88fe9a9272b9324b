from __future__ import annotations

from pathlib import Path

from xaa_cli.cli.discovery_cache import FileMetadataCache

URL = "https://as.example/.well-known/oauth-authorization-server/x"
DOC = {"issuer": "https://as.example/x", "token_endpoint": "https://as.example/x/token"}


def test_round_trip_within_ttl(tmp_path: Path) -> None:
    FileMetadataCache(tmp_path, now=1000.0).put(URL, DOC)
    assert FileMetadataCache(tmp_path, now=1000.0 + 3599).get(URL) == DOC


def test_expired_entries_are_misses(tmp_path: Path) -> None:
    FileMetadataCache(tmp_path, now=1000.0).put(URL, DOC)
    assert FileMetadataCache(tmp_path, now=1000.0 + 3601).get(URL) is None


def test_damaged_or_foreign_files_are_misses(tmp_path: Path) -> None:
    cache = FileMetadataCache(tmp_path, now=1000.0)
    cache.put(URL, DOC)
    (path,) = tmp_path.iterdir()
    path.write_text("{not json")
    assert cache.get(URL) is None
    path.write_text('{"url": "https://elsewhere.example", "fetched_at": 1000, "doc": {}}')
    assert cache.get(URL) is None
    assert cache.get("https://never.example") is None


def test_files_are_private(tmp_path: Path) -> None:
    FileMetadataCache(tmp_path / "d", now=1.0).put(URL, DOC)
    (path,) = (tmp_path / "d").iterdir()
    assert path.stat().st_mode & 0o077 == 0
