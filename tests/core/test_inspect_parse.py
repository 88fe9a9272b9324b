"""Parsing, kind recognition, time wording, claim checks and warnings of ``xaa_cli.core.inspect``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.indep_jws import encode
from xaa_cli.core.inspect import Options, TokenKind, inspect_report, parse_token
from xaa_cli.core.inspect.checks import lifetime_check, time_checks, typ_check
from xaa_cli.core.inspect.idjag import profile_checks
from xaa_cli.core.inspect.kinds import recognise
from xaa_cli.core.inspect.risks import hide_secrets, risk_warnings
from xaa_cli.core.inspect.timefmt import as_timestamp, duration, relative
from xaa_cli.errors import TokenFormatError

NOW = 1_800_000_000.0


def jwt(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{encode(header)}.{encode(claims)}.c2ln"


# ---------------------------------------------------------------- parsing


def test_parse_strips_bearer_scheme_and_whitespace() -> None:
    token = jwt({"alg": "ES256"}, {"sub": "a"})
    parsed = parse_token(f"  Authorization: Bearer {token}\n")
    assert parsed.text == token
    assert parsed.claims == {"sub": "a"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("two words", "not a token"),
        ('"quoted"', "not a token"),
        (encode({"alg": "ES256"}) + ".e30", "has 2 dot-separated parts"),
        ("ab$.def.ghi", "not base64url"),
        ("abc.def.ghi", "not JSON"),
        (encode({"typ": "JWT"}) + ".e30.c2ln", "no 'alg'"),
        (encode({"alg": "RS256"}) + ".W10.c2ln", "not a JSON object"),
        ("a.b.c.d.e", "not a JWE header"),
        ("x" * (64 * 1024 + 1), "larger than 64 KiB"),
    ],
)
def test_not_a_token_is_a_format_error(text: str, message: str) -> None:
    with pytest.raises(TokenFormatError, match=message):
        parse_token(text)


def test_opaque_and_jwe_shapes() -> None:
    assert parse_token("2YotnFZFEjr1zCsicMWpAA").jws is None
    header = encode({"alg": "dir", "enc": "A128GCM", "cty": "JWT"})
    jwe = parse_token(".".join([header, "", "iv", "ct", "tag"]))
    assert jwe.segments == 5
    assert jwe.header["cty"] == "JWT"


# ---------------------------------------------------------------- kinds

KIND_CASES = [
    ({"typ": "oauth-id-jag+jwt"}, {}, TokenKind.ID_JAG),
    ({"typ": "application/oauth-id-jag+jwt"}, {}, TokenKind.ID_JAG),
    ({"typ": "at+jwt"}, {}, TokenKind.ACCESS_TOKEN),
    ({"typ": "dpop+jwt"}, {}, TokenKind.DPOP_PROOF),
    ({"typ": "logout+jwt"}, {}, TokenKind.LOGOUT_TOKEN),
    ({"typ": "client-authentication+jwt"}, {}, TokenKind.CLIENT_ASSERTION),
    ({}, {"events": {"http://schemas.openid.net/event/backchannel-logout": {}}}, TokenKind.LOGOUT_TOKEN),
    ({"typ": "JWT"}, {"htm": "POST", "htu": "https://x", "jti": "1"}, TokenKind.DPOP_PROOF),
    ({}, {"iss": "c1", "sub": "c1", "aud": "https://as", "jti": "1", "exp": 1}, TokenKind.CLIENT_ASSERTION),
    ({"typ": "JWT"}, {"iss": "i", "sub": "s", "aud": "c", "nonce": "n"}, TokenKind.ID_TOKEN),
    ({}, {"iss": "i", "sub": "s", "aud": "c", "exp": 2, "iat": 1}, TokenKind.ID_TOKEN),
    ({}, {"iss": "i", "sub": "s", "aud": "c", "exp": 2, "iat": 1, "scope": "x"}, TokenKind.JWT),
    ({}, {"foo": "bar"}, TokenKind.JWT),
]


@pytest.mark.parametrize(("header", "claims", "kind"), KIND_CASES)
def test_recognise(header: dict[str, Any], claims: dict[str, Any], kind: TokenKind) -> None:
    assert recognise({"alg": "ES256", **header}, claims)[0] is kind


def test_id_jag_with_non_canonical_typ_fails_the_typ_check() -> None:
    check = typ_check({"typ": "application/oauth-id-jag+jwt"}, TokenKind.ID_JAG)
    assert check.ok is False
    assert "exactly 'oauth-id-jag+jwt'" in check.detail
    assert typ_check({"typ": 5}, TokenKind.JWT).ok is False
    assert typ_check({"typ": "oauth-id-jag+jwt"}, TokenKind.ID_JAG).ok is True


# ---------------------------------------------------------------- time


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (42, "42s"),
        (252, "4m 12s"),
        (3600, "1h"),
        (10_805, "3h"),
        (11_100, "3h 5m"),
        (90_061, "1d 1h"),
    ],
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_relative_wording() -> None:
    assert relative("exp", NOW + 252, NOW) == "expires in 4m 12s"
    assert relative("exp", NOW - 3 * 3600, NOW) == "expired 3h ago"
    assert relative("nbf", NOW + 60, NOW) == "becomes valid in 1m"
    assert relative("iat", NOW - 5, NOW) == "5s ago"


@pytest.mark.parametrize("value", [True, "1800000000", float("nan"), float("inf"), -1, 10**20, None])
def test_non_numeric_dates_are_not_timestamps(value: object) -> None:
    assert as_timestamp(value) is None


def test_exp_boundary_follows_rfc7519_before_rule() -> None:
    def exp_ok(exp: float, leeway: float) -> bool | None:
        return time_checks({"exp": exp}, NOW, leeway)[0].ok

    assert exp_ok(NOW, 0) is False  # "current time MUST be before exp"
    assert exp_ok(NOW + 1, 0) is True
    assert exp_ok(NOW - 59, 60) is True
    assert exp_ok(NOW - 60, 60) is False


def test_nbf_and_iat_edges() -> None:
    rows = time_checks({"nbf": NOW + 60, "iat": NOW + 60}, NOW, 60)
    assert [r.ok for r in rows] == [True, True]
    rows = time_checks({"nbf": NOW + 61, "iat": NOW + 61}, NOW, 60)
    assert [r.ok for r in rows] == [False, False]
    assert "in the future" in rows[1].detail
    bad = time_checks({"exp": "tomorrow"}, NOW, 0)[0]
    assert bad.ok is False
    assert "not a NumericDate" in bad.detail


def test_lifetime_bound() -> None:
    assert lifetime_check({"iat": 0, "exp": 300}, 300).ok is True  # type: ignore[union-attr]
    long = lifetime_check({"iat": 0, "exp": 3600}, 600)
    assert long is not None
    assert long.ok is False
    assert "1h" in long.detail
    assert lifetime_check({"iat": 10, "exp": 5}, 600).ok is False  # type: ignore[union-attr]
    assert lifetime_check({"exp": 5}, None) is None


# ---------------------------------------------------------------- ID-JAG profile


def names_failed(claims: dict[str, Any], bound: float | None = None) -> dict[str, str]:
    return {c.name: c.detail for c in profile_checks(claims, bound) if c.ok is False}


GOOD = {"iss": "i", "sub": "s", "aud": "https://as", "client_id": "c", "jti": "j", "iat": 0, "exp": 300}


def test_good_id_jag_profile() -> None:
    assert names_failed(GOOD) == {}


@pytest.mark.parametrize("claim", ["iss", "sub", "aud", "client_id", "jti", "exp", "iat"])
def test_each_required_claim(claim: str) -> None:
    claims = {k: v for k, v in GOOD.items() if k != claim}
    assert claim in names_failed(claims)["id-jag: required claims"]


def test_profile_rules() -> None:
    assert "2 values" in names_failed({**GOOD, "aud": ["https://a", "https://b"]})["id-jag: aud single value"]
    assert names_failed({**GOOD, "aud": ["https://as"]}) == {}
    assert "id-jag: client_id" in names_failed({**GOOD, "client_id": ""})
    assert "id-jag: lifetime" in names_failed({**GOOD, "exp": 3600})
    assert names_failed({**GOOD, "exp": 3600}, bound=7200) == {}
    assert "id-jag: resource" in names_failed({**GOOD, "resource": "not a uri"})
    assert "id-jag: resource" in names_failed({**GOOD, "resource": ["https://ok", 3]})
    assert "id-jag: scope" in names_failed({**GOOD, "scope": ["a", "b"]})


# ---------------------------------------------------------------- warnings


def test_warnings() -> None:
    assert any("no exp" in w for w in risk_warnings({"alg": "ES256"}, {"sub": "a"}, TokenKind.JWT))
    long = risk_warnings({"alg": "ES256"}, {"iat": 0, "exp": 90 * 86400}, TokenKind.JWT)
    assert any("very long lifetime: 90d" in w for w in long)
    untyped = risk_warnings({"alg": "ES256", "typ": "JWT"}, GOOD, TokenKind.JWT)
    assert any("look like an ID-JAG" in w for w in untyped)
    at_jwt = risk_warnings({"alg": "ES256", "typ": "at+jwt"}, GOOD, TokenKind.ACCESS_TOKEN)
    assert not any("look like an ID-JAG" in w for w in at_jwt)


def test_secret_looking_claims_are_warned_about_and_hidden() -> None:
    pem = "-----BEGIN " + "PRIVATE KEY-----\nMIIB"
    claims = {"exp": 1, "client_secret": "s3cr3t-value", "nested": {"db_password": "pw"}, "note": pem}
    warnings = risk_warnings({"alg": "ES256"}, claims, TokenKind.JWT)
    assert sum("looks like a secret" in w for w in warnings) == 3
    shown = hide_secrets(claims)
    assert "s3cr3t-value" not in str(shown)
    assert "pw'" not in str(shown)
    assert "MIIB" not in str(shown)
    assert shown["exp"] == 1


def test_report_hides_secrets_unless_asked() -> None:
    token = jwt({"alg": "ES256"}, {"api_key": "abc123"})
    hidden = inspect_report(parse_token(token), now=NOW, trust=None, options=Options())
    assert hidden.claims["api_key"].startswith("<redacted")
    shown = inspect_report(parse_token(token), now=NOW, trust=None, options=Options(show_secrets=True))
    assert shown.claims["api_key"] == "abc123"
