"""Injected time and randomness, so protocol code and tests never patch globals."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """Seconds since the epoch, UTC."""

    def now(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class FixedClock:
    """A clock tests can move by hand."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


IdFactory = Callable[[], str]
"""Makes unguessable identifiers (jti, state, nonce, codes)."""


def random_id(nbytes: int = 24) -> str:
    """A URL-safe random identifier with ``nbytes`` bytes of entropy."""
    import secrets  # lazy: secrets pulls in random, hashlib and hmac; most commands never need an id

    return secrets.token_urlsafe(nbytes)
