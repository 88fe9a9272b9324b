"""Test isolation: every test gets its own XAA_HOME, no colour, a fixed width and an in-memory keyring
reached through the real ``keyring`` API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from typer.testing import CliRunner

from tests.support.memkeyring import MemoryKeyring


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xaa-home"
    monkeypatch.setenv("XAA_HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("TERM", "dumb")
    for var in ("XAA_PROFILE", "XAA_SECRET_STORE", "XAA_CONFIG", "XAA_DEBUG", "XAA_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


_RSA_POOL: dict[str, list[dict[str, object]]] = {}
_RSA_POOL_SIZE = 16
_rsa_turn = [0]


@pytest.fixture(autouse=True)
def pooled_server_rsa_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference server makes an RSA key (its ID-token key, RS256 by default) for every in-process
    server a test starts: ~50 ms each. Its keys come from a pool of 16 instead, handed out in turn, so two
    servers made one after the other never share a key. Only the server's key factory is swapped; tests
    that make keys themselves (``xaa_cli.core.keys.generate_private_jwk``) still get fresh ones, and
    servers in subprocesses make theirs as in production."""
    import xaa_cli.server.keys as server_keys
    from xaa_cli.core.keys import generate_private_jwk

    def pooled(alg: str = "ES256", *, kid: str | None = None) -> dict[str, object]:
        if not alg.startswith(("RS", "PS")) or kid is not None:
            return generate_private_jwk(alg, kid=kid)
        pool = _RSA_POOL.setdefault(alg, [])
        if len(pool) < _RSA_POOL_SIZE:
            pool.append(generate_private_jwk(alg))
            return dict(pool[-1])
        _rsa_turn[0] += 1
        return dict(pool[_rsa_turn[0] % _RSA_POOL_SIZE])

    monkeypatch.setattr(server_keys, "generate_private_jwk", pooled)
