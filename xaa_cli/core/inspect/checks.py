"""Claim checks as data: each returns a ``Check`` row (or None when it does not apply).

Rules follow RFC 7519 §4.1 and RFC 8725: ``exp`` means "before", so a token is valid only while
``now < exp + leeway``; ``nbf`` passes once ``now + leeway >= nbf``; issuers and audiences compare as exact
strings (RFC 8414 §3.3), and the explanation points out a trailing-slash near miss.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xaa_cli.core.inspect.kinds import ID_JAG_TYP
from xaa_cli.core.inspect.model import Check, TimeInfo, TokenKind
from xaa_cli.core.inspect.timefmt import as_timestamp, duration, relative, utc_text
from xaa_cli.core.jose import check_alg
from xaa_cli.errors import TokenVerificationError

TIME_CLAIMS = ("iat", "nbf", "exp", "auth_time")
CLOCK_HINT = "if the token is fresh, this machine's clock or the issuer's may be off (see --leeway)"


def alg_check(header: Mapping[str, Any]) -> Check:
    try:
        alg = check_alg(header)
    except TokenVerificationError as exc:
        return Check("alg", False, exc.message)
    return Check("alg", True, f"{alg} is an asymmetric algorithm on the allow-list")


def typ_check(header: Mapping[str, Any], kind: TokenKind) -> Check:
    typ = header.get("typ")
    if typ is None:
        return Check("typ", True, "no explicit typ (RFC 8725 §3.11 recommends one)")
    if not isinstance(typ, str):
        return Check("typ", False, f"typ must be a string, not {type(typ).__name__}")
    if kind is TokenKind.ID_JAG and typ != ID_JAG_TYP:
        return Check(
            "typ",
            False,
            f"typ is {typ!r}; the ID-JAG draft requires exactly {ID_JAG_TYP!r} "
            "and servers compare it exactly",
        )
    return Check("typ", True, typ)


def _near_miss(actual: str, expected: str) -> str:
    if actual.rstrip("/") == expected.rstrip("/"):
        return " (they differ only by a trailing slash; identifiers compare exactly)"
    if actual.lower() == expected.lower():
        return " (they differ only in letter case; identifiers compare exactly)"
    return ""


def issuer_check(claims: Mapping[str, Any], expected: str | None) -> Check | None:
    if expected is None:
        return None
    iss = claims.get("iss")
    if not isinstance(iss, str):
        return Check("iss", False, f"the token has no iss string; the trusted issuer is {expected}")
    if iss != expected:
        return Check(
            "iss", False, f"iss is {iss}, not the trusted issuer {expected}{_near_miss(iss, expected)}"
        )
    return Check("iss", True, f"{iss} is the trusted issuer")


def audiences(claims: Mapping[str, Any]) -> list[str] | None:
    """``aud`` as a list of strings, or None when it is absent or malformed."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list) and all(isinstance(a, str) for a in aud):
        return list(aud)
    return None


def audience_check(claims: Mapping[str, Any], expected: str | None) -> Check | None:
    if expected is None:
        return None
    auds = audiences(claims)
    if auds is None:
        return Check("aud", False, f"the token has no usable aud claim; expected {expected}")
    if expected in auds:
        return Check("aud", True, f"{expected} is in aud")
    hints = "".join(_near_miss(a, expected) for a in auds)[:200]
    return Check("aud", False, f"aud is {', '.join(auds) or '[]'}, not the expected {expected}{hints}")


def time_infos(claims: Mapping[str, Any], now: float) -> list[TimeInfo]:
    out = []
    for name in TIME_CLAIMS:
        stamp = as_timestamp(claims.get(name))
        if stamp is not None:
            out.append(TimeInfo(name, stamp, utc_text(stamp), relative(name, stamp, now)))
    return out


def time_checks(claims: Mapping[str, Any], now: float, leeway: float) -> list[Check]:
    rows: list[Check] = []
    for name in ("exp", "nbf", "iat"):
        if name not in claims:
            continue
        stamp = as_timestamp(claims[name])
        if stamp is None:
            rows.append(
                Check(name, False, f"{name} is not a NumericDate (seconds since 1970): {claims[name]!r}")
            )
            continue
        rows.append(_time_row(name, stamp, now, leeway))
    return rows


def _time_row(name: str, stamp: float, now: float, leeway: float) -> Check:
    when = f"{relative(name, stamp, now)} ({utc_text(stamp)})"
    slack = f"; leeway {duration(leeway)}" if leeway else ""
    if name == "exp":
        ok = now < stamp + leeway
        return Check("exp", ok, when if ok else f"the token {when}{slack}")
    if name == "nbf":
        ok = now + leeway >= stamp
        return Check("nbf", ok, when if ok else f"not valid yet: {when}{slack}; {CLOCK_HINT}")
    ok = stamp <= now + leeway
    return Check("iat", ok, f"issued {when}" if ok else f"issued {when}{slack}; {CLOCK_HINT}")


def lifetime(claims: Mapping[str, Any]) -> float | None:
    exp, iat = as_timestamp(claims.get("exp")), as_timestamp(claims.get("iat"))
    return None if exp is None or iat is None else exp - iat


def lifetime_check(claims: Mapping[str, Any], bound: float | None) -> Check | None:
    if bound is None:
        return None
    span = lifetime(claims)
    if span is None:
        return Check("lifetime", False, "cannot bound the lifetime: exp or iat is missing")
    if span < 0:
        return Check("lifetime", False, "exp is before iat: the token was never valid")
    if span > bound:
        return Check(
            "lifetime", False, f"lives {duration(span)} (exp - iat), more than the bound {duration(bound)}"
        )
    return Check("lifetime", True, f"lives {duration(span)}, within {duration(bound)}")
