"""Times as people read them: ``2026-11-28 16:04:05 UTC`` and ``expires in 4m 12s`` / ``expired 3h ago``."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Final

# datetime cannot represent years beyond 9999; a claim past that is nonsense, not a crash.
MAX_TIMESTAMP: Final = 253_402_300_799
_UNITS: Final = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def as_timestamp(value: object) -> float | None:
    """A NumericDate (RFC 7519 §2) as a float, or None when it is not one (bools, strings, NaN…)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number) or not 0 <= number <= MAX_TIMESTAMP:
        return None
    return number


def utc_text(timestamp: float) -> str:
    return datetime.fromtimestamp(int(timestamp), tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float) -> str:
    """``4m 12s``, ``3h``, ``2d 5h``: the two largest non-zero units, rounded down to whole seconds."""
    remaining = int(abs(seconds))
    if remaining == 0:
        return "0s"
    parts: list[str] = []
    for unit, size in _UNITS:
        if remaining >= size:
            parts.append(f"{remaining // size}{unit}")
            remaining %= size
        elif parts:
            break  # keep the two units adjacent: "3h 0m" reads as "3h"
        if len(parts) == 2:
            break
    return " ".join(parts)


def relative(claim: str, timestamp: float, now: float) -> str:
    """How a time claim relates to now, in the verb that claim deserves."""
    delta = timestamp - now
    later = delta > 0
    span = duration(delta)
    if claim == "exp":
        return f"expires in {span}" if later else f"expired {span} ago"
    if claim == "nbf":
        return f"becomes valid in {span}" if later else f"valid since {span} ago"
    if claim in {"iat", "auth_time"}:
        return f"in the future by {span}" if later else f"{span} ago"
    return f"in {span}" if later else f"{span} ago"
