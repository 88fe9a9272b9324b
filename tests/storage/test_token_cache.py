"""The short-lived token cache: keys, expiry, skew, corruption, file mode."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from xaa_cli.clock import FixedClock
from xaa_cli.storage.token_cache import DEFAULT_SKEW_S, CachedToken, TokenCache, cache_key

AUD = "https://as.example"
RES = "https://api.example"


def token(
    clock: FixedClock, scopes: tuple[str, ...] = ("a", "b"), *, ttl: float = 300, **kw: object
) -> CachedToken:
    fields: dict[str, object] = {
        "profile": "dev",
        "audience": AUD,
        "resource": RES,
        "requested_scopes": scopes,
        "access_token": "at-" + "x" * 20,
        "token_type": "Bearer",
        "expires_at": clock.now() + ttl,
    }
    fields.update(kw)
    return CachedToken(**fields)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def warnings_seen() -> list[str]:
    return []


@pytest.fixture
def cache(tmp_path: Path, clock: FixedClock, warnings_seen: list[str]) -> TokenCache:
    return TokenCache(tmp_path / "state" / "tokens.json", clock, warn=warnings_seen.append)


def test_keyed_by_scope_set_not_order(cache: TokenCache, clock: FixedClock) -> None:
    cache.put(token(clock, ("a", "b")))
    assert cache.get("dev", AUD, RES, ["b", "a"]) is not None
    assert cache.get("dev", AUD, RES, ["a", "b", "a"]) is not None
    assert cache.get("dev", AUD, RES, ["a"]) is None
    assert cache.get("dev", AUD, RES, ["a", "b", "c"]) is None


@pytest.mark.parametrize(
    ("profile", "audience", "resource"),
    [
        ("other", AUD, RES),
        ("dev", "https://other-as.example", RES),
        ("dev", AUD, None),
        ("dev", AUD, RES + "/x"),
    ],
)
def test_every_key_part_matters(
    cache: TokenCache, clock: FixedClock, profile: str, audience: str, resource: str | None
) -> None:
    cache.put(token(clock))
    assert cache.get(profile, audience, resource, ["a", "b"]) is None
    assert cache_key(profile, audience, resource, ["a", "b"]) != cache_key("dev", AUD, RES, ["a", "b"])


def test_expiry_and_skew(cache: TokenCache, clock: FixedClock) -> None:
    cache.put(token(clock, ttl=300))
    assert cache.get("dev", AUD, RES, ["a", "b"]) is not None
    clock.advance(300 - DEFAULT_SKEW_S - 1)
    assert cache.get("dev", AUD, RES, ["a", "b"]) is not None
    clock.advance(2)  # now inside the skew margin: too close to expiry to hand out
    assert cache.get("dev", AUD, RES, ["a", "b"]) is None
    assert cache.get("dev", AUD, RES, ["a", "b"], skew=0) is not None
    assert len(cache.entries()) == 1  # not expired yet, only too close


def test_expired_entries_are_dropped_from_the_file(cache: TokenCache, clock: FixedClock) -> None:
    cache.put(token(clock, ("old",), ttl=10))
    cache.put(token(clock, ("new",), ttl=1000))
    clock.advance(11)
    cache.put(token(clock, ("newest",), ttl=1000))  # any write rewrites without expired entries
    stored = json.loads(cache.path.read_text())["entries"]
    assert sorted(tuple(v["requested_scopes"]) for v in stored.values()) == [("new",), ("newest",)]
    assert [t.requested_scopes for t in cache.entries()] == [("new",), ("newest",)]


def test_revocation_failed_entries_are_kept_but_not_served(cache: TokenCache, clock: FixedClock) -> None:
    t = token(clock, ttl=10)
    cache.put(t)
    cache.mark_revocation_failed(t.key)
    assert cache.get("dev", AUD, RES, ["a", "b"]) is None
    clock.advance(100)
    assert [e.revocation_failed for e in cache.entries()] == [True]


def test_file_is_0600(cache: TokenCache, clock: FixedClock) -> None:
    cache.put(token(clock))
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "content",
    [b"{truncated", b"[]", b'{"entries": {"k": {"profile": "dev"}}}', b'{"entries": {"k": 3}}', b"\xff\xfe"],
)
def test_corrupt_file_is_discarded_with_a_warning(
    cache: TokenCache, clock: FixedClock, warnings_seen: list[str], content: bytes
) -> None:
    cache.path.parent.mkdir(parents=True)
    cache.path.write_bytes(content)
    assert cache.get("dev", AUD, RES, ["a", "b"]) is None
    assert len(warnings_seen) == 1
    assert "corrupt" in warnings_seen[0]
    assert str(cache.path) in warnings_seen[0]
    cache.put(token(clock))  # and the cache works again
    assert cache.get("dev", AUD, RES, ["a", "b"]) is not None
    assert len(warnings_seen) == 1


def test_remove_and_clear(cache: TokenCache, clock: FixedClock) -> None:
    a, b = token(clock, ("a",)), token(clock, ("b",), profile="other")
    cache.put(a)
    cache.put(b)
    assert cache.remove(a.key) is True
    assert cache.remove(a.key) is False
    cache.put(a)
    assert cache.clear(lambda t: t.profile == "other") == 1
    assert [t.profile for t in cache.entries()] == ["dev"]
    assert cache.clear() == 1
    assert cache.entries() == []


def test_clear_without_a_file_creates_none(cache: TokenCache) -> None:
    assert cache.clear(lambda _: True) == 0
    assert not cache.path.exists()
