"""Property tests: whatever text, header or claims arrive, ``xaa inspect`` never raises an uncaught exception
and always exits with a documented code (0 decoded, 1 check failed, 2 usage, 6 not a token)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.support.indep_jws import b64u, encode, make_signer
from xaa_cli.cli.app import app
from xaa_cli.cli.context import AppContext
from xaa_cli.clock import FixedClock

DOCUMENTED = {0, 1, 2, 6}
RUNNER = CliRunner()
SIGNER = make_signer("EdDSA", "k", seed=7)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
interesting_keys = st.sampled_from(
    ["alg", "typ", "kid", "crit", "jwk", "jku", "iss", "sub", "aud", "exp", "nbf", "iat", "client_id",
     "scope", "resource", "events", "htm", "htu", "nonce", "password", "[bold]", "[/]"]
)  # fmt: skip
objects = st.dictionaries(interesting_keys | st.text(max_size=12), json_values, max_size=8)


def run(args: list[str], stdin: str | None = None) -> Any:
    result = RUNNER.invoke(app, args, obj=AppContext(clock=FixedClock(1_800_000_000.0)), input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in DOCUMENTED, (result.exit_code, result.output)
    return result


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    run(["inspect", "-"], stdin=text)


@SETTINGS
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_arbitrary_argument(text: str) -> None:
    if "\x00" not in text:
        run(["inspect", "--", text])


@SETTINGS
@given(objects, objects, st.sampled_from(["table", "json"]))
def test_arbitrary_header_and_claims(header: dict[str, Any], claims: dict[str, Any], mode: str) -> None:
    token = f"{encode(header)}.{encode(claims)}.{b64u(b'sig')}"
    result = run(["inspect", token, "-o", mode])
    if result.exit_code == 0 and mode == "json":
        assert json.loads(result.stdout)["verified"] is False


@SETTINGS
@given(objects, objects)
def test_arbitrary_signed_tokens_with_trust(
    tmp_path_factory: Any, header: dict[str, Any], claims: dict[str, Any]
) -> None:
    path: Path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps(SIGNER.jwks()))
    header = {k: v for k, v in header.items() if k not in ("alg", "kid", "typ")}
    token = SIGNER.token(claims, **header)
    result = run(["inspect", token, "--jwks", str(path), "-o", "json", "--leeway", "0"])
    if result.exit_code == 0:
        assert json.loads(result.stdout)["verified"] is True


@SETTINGS
@given(st.text(max_size=400))
def test_parse_raises_only_token_format_error(text: str) -> None:
    from xaa_cli.core.inspect import parse_token
    from xaa_cli.errors import TokenFormatError

    with contextlib.suppress(TokenFormatError):  # anything else escapes and fails the test
        parse_token(text)


@SETTINGS
@given(objects)
def test_decoded_claims_round_trip(claims: dict[str, Any]) -> None:
    from xaa_cli.core.inspect import Options, inspect_report, parse_token

    token = SIGNER.token(claims)
    report = inspect_report(
        parse_token(token), now=1_800_000_000.0, trust=None, options=Options(show_secrets=True)
    )
    assert report.claims == claims
    assert report.verified is False
