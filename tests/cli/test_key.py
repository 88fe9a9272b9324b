"""`xaa key generate|show`: the private key stays in the store; stdout is a usable public JWKS."""

from __future__ import annotations

import json

import pytest
from joserfc import jwt
from joserfc.jwk import import_key
from typer.testing import CliRunner

from tests.support.memkeyring import MemoryKeyring
from xaa_cli.cli.app import app
from xaa_cli.cli.commands.key import KEY_ALGS
from xaa_cli.core import keys
from xaa_cli.core.jose import decode_unverified, verify_signature
from xaa_cli.storage.secrets import SERVICE, secret_key

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}


@pytest.fixture
def profile(runner: CliRunner) -> str:
    result = runner.invoke(
        app, ["profile", "add", "dev", "--issuer", "https://idp.example", "--client-id", "agent"]
    )
    assert result.exit_code == 0
    return "dev"


def test_algorithms_mirror_core() -> None:
    assert KEY_ALGS == keys.KEY_ALGS


@pytest.mark.parametrize("alg", KEY_ALGS)
def test_generate_prints_public_jwks_and_stores_the_private_key(
    runner: CliRunner, profile: str, memory_keyring: MemoryKeyring, alg: str
) -> None:
    result = runner.invoke(app, ["key", "generate", "--alg", alg])
    assert result.exit_code == 0, result.stderr
    jwks = json.loads(result.stdout)
    [public] = jwks["keys"]
    assert not PRIVATE_MEMBERS & public.keys(), "no private member on stdout"
    assert public["alg"] == alg
    assert public["use"] == "sig"
    stored = json.loads(memory_keyring.data[(SERVICE, secret_key(profile, "private_key"))])
    assert stored["kid"] == public["kid"]
    assert "d" in stored
    assert stored["d"] not in result.stdout + result.stderr
    assert "register the public key above" in result.stderr
    # The printed JWKS verifies what the stored key signs: it is the key an IdP would register.
    assertion = keys.sign_jwt({"iss": "agent", "sub": "agent"}, stored)
    used = verify_signature(decode_unverified(assertion), jwks["keys"])
    assert used["kid"] == public["kid"]
    assert jwt.decode(assertion, import_key(public), algorithms=[alg]).claims["sub"] == "agent"


def test_generate_refuses_to_overwrite_without_force(
    runner: CliRunner, profile: str, memory_keyring: MemoryKeyring
) -> None:
    first = json.loads(runner.invoke(app, ["key", "generate"]).stdout)["keys"][0]
    again = runner.invoke(app, ["key", "generate"])
    assert again.exit_code == 2
    assert f"already has a client key (kid {first['kid']})" in again.stderr
    assert again.stdout == ""
    assert (
        json.loads(memory_keyring.data[(SERVICE, secret_key(profile, "private_key"))])["kid"] == first["kid"]
    )
    forced = runner.invoke(app, ["key", "generate", "--force", "--alg", "Ed25519"])
    assert forced.exit_code == 0
    assert json.loads(forced.stdout)["keys"][0]["kid"] != first["kid"]


def test_show_prints_the_same_public_key(runner: CliRunner, profile: str) -> None:
    generated = runner.invoke(app, ["key", "generate"]).stdout
    shown = runner.invoke(app, ["key", "show"])
    assert shown.exit_code == 0
    assert shown.stdout == generated  # same bytes: stable member order
    bare = json.loads(runner.invoke(app, ["key", "show", "--jwk"]).stdout)
    assert bare == json.loads(generated)["keys"][0]


def test_show_without_key(runner: CliRunner, profile: str) -> None:
    result = runner.invoke(app, ["key", "show"])
    assert result.exit_code == 3
    assert "has no client key" in result.stderr
    assert "xaa key generate --profile dev" in result.stderr


def test_app_key_and_fallback_to_profile_key(
    runner: CliRunner, profile: str, memory_keyring: MemoryKeyring
) -> None:
    runner.invoke(app, ["app", "add", "jira", "--issuer", "https://jira.example", "--client-id", "c",
                        "--client-auth", "private_key_jwt"])  # fmt: skip
    profile_key = runner.invoke(app, ["key", "generate"]).stdout
    shown = runner.invoke(app, ["key", "show", "--app", "jira"])
    assert shown.stdout == profile_key
    assert "no key of its own" in shown.stderr
    app_key = runner.invoke(app, ["key", "generate", "--app", "jira", "--alg", "ES384"])
    assert app_key.exit_code == 0
    assert (SERVICE, secret_key(profile, "private_key", app="jira")) in memory_keyring.data
    assert runner.invoke(app, ["key", "show", "--app", "jira"]).stdout == app_key.stdout
    unknown = runner.invoke(app, ["key", "generate", "--app", "nope"])
    assert unknown.exit_code == 3
    assert "has no app 'nope'" in unknown.stderr


def test_warns_when_the_profile_does_not_use_keys(runner: CliRunner) -> None:
    runner.invoke(
        app,
        [
            "profile",
            "add",
            "s",
            "--issuer",
            "https://idp.example",
            "--client-id",
            "c",
            "--client-auth",
            "none",
        ],
    )
    result = runner.invoke(app, ["key", "generate"])
    assert result.exit_code == 0
    assert "authenticates with none" in result.stderr


def test_bad_alg(runner: CliRunner, profile: str) -> None:
    result = runner.invoke(app, ["key", "generate", "--alg", "HS256"])
    assert result.exit_code == 2
    assert "unsupported key algorithm 'HS256'" in result.stderr


def test_file_store(
    runner: CliRunner, profile: str, monkeypatch: pytest.MonkeyPatch, isolated_home: object
) -> None:
    monkeypatch.setenv("XAA_SECRET_STORE", "file")
    result = runner.invoke(app, ["key", "generate"])
    assert result.exit_code == 0
    assert "file secret store" in result.stderr
