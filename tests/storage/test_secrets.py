"""The secret store: the real keyring API (in-memory backend), the no-keyring error, timeouts, the file
store."""

from __future__ import annotations

import json
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from tests.support.memkeyring import MemoryKeyring
from xaa_cli.errors import SecretStoreUnavailable, StorageError
from xaa_cli.storage.secrets import (
    SERVICE,
    FileStore,
    KeyringStore,
    choose_store_kind,
    open_secret_store,
    secret_key,
)

FAKE = "fake-" + "secret-value-123"


def test_secret_key_names() -> None:
    assert secret_key("dev", "client_secret") == "profile/dev/client_secret"
    assert secret_key("dev", "private_key", app="trello") == "profile/dev/app/trello/private_key"


def test_keyring_round_trip_through_the_real_api(memory_keyring: MemoryKeyring) -> None:
    store = KeyringStore()
    assert store.kind == "keyring"
    assert "MemoryKeyring" in store.location
    key = secret_key("dev", "client_secret")
    assert store.get(key) is None
    store.set(key, FAKE)
    assert memory_keyring.data[(SERVICE, key)] == FAKE  # it really went through keyring.set_password
    assert keyring.get_password(SERVICE, key) == FAKE
    assert store.get(key) == FAKE
    assert store.delete(key) is True
    assert store.delete(key) is False
    assert store.get(key) is None


def test_open_secret_store_defaults_to_keyring(tmp_path: Path) -> None:
    store = open_secret_store(None, tmp_path / "secrets.json")
    assert isinstance(store, KeyringStore)
    assert not (tmp_path / "secrets.json").exists()


def test_no_keyring_is_one_sentence_with_both_ways_out(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(SecretStoreUnavailable) as info:
        open_secret_store(None, tmp_path / "secrets.json")
    message = info.value.message
    assert message == "no usable OS keyring was found on this machine"
    assert "\n" not in message
    assert ". " not in message  # one sentence
    hint = info.value.hint or ""
    assert "keyring backend" in hint
    assert "XAA_SECRET_STORE=file" in hint
    assert 'secret_store = "file"' in hint
    assert not (tmp_path / "secrets.json").exists(), "never a silent plaintext fallback"


def test_a_configured_backend_that_cannot_start_is_explained() -> None:
    class Broken(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            raise RuntimeError("Unable to initialize SecretService: no D-Bus")

        def set_password(self, service: str, username: str, password: str) -> None:
            raise RuntimeError("Unable to initialize SecretService: no D-Bus")

        def delete_password(self, service: str, username: str) -> None:
            raise RuntimeError("no D-Bus")

    keyring.set_keyring(Broken())
    with pytest.raises(SecretStoreUnavailable, match="the OS keyring failed: Unable to initialize") as info:
        KeyringStore().get("k")
    assert "XAA_SECRET_STORE=file" in (info.value.hint or "")


class HangingKeyring(KeyringBackend):
    """A locked keyring waiting for an unlock prompt nobody will answer."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(10)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(10)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(10)


@pytest.fixture
def hanging() -> Iterator[HangingKeyring]:
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    yield backend
    backend.release.set()


@pytest.mark.parametrize("operation", ["get", "set", "delete"])
def test_a_hanging_keyring_times_out(hanging: HangingKeyring, operation: str) -> None:
    store = KeyringStore(timeout=0.2)
    call = (lambda: store.set("k", "v")) if operation == "set" else (lambda: getattr(store, operation)("k"))
    with pytest.raises(SecretStoreUnavailable, match=r"did not answer within 0\.2 s") as info:
        call()
    assert "XAA_SECRET_STORE=file" in (info.value.hint or "")


def test_file_store_is_0600_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "state" / "secrets.json"
    store = FileStore(path)
    assert store.get("k") is None
    store.set("k", FAKE)
    store.set("other", "v2")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert FileStore(path).get("k") == FAKE
    assert store.delete("k") is True
    assert store.delete("k") is False
    assert json.loads(path.read_text()) == {"other": "v2"}
    assert "plaintext" in store.location
    assert str(path) in store.location


@pytest.mark.parametrize("content", [b"{not json", b'["a list"]', b'{"k": 3}'])
def test_corrupt_file_store_is_an_error_not_a_reset(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "secrets.json"
    path.write_bytes(content)
    with pytest.raises(StorageError, match=str(path)):
        FileStore(path).get("k")
    with pytest.raises(StorageError):
        FileStore(path).set("k", "v")
    assert path.read_bytes() == content, "a damaged store is never overwritten (other secrets may be in it)"


def test_store_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert choose_store_kind(None) == "keyring"
    assert choose_store_kind("file") == "file"
    monkeypatch.setenv("XAA_SECRET_STORE", "FILE")
    assert choose_store_kind("keyring") == "file"  # the environment beats the config
    assert isinstance(open_secret_store("keyring", tmp_path / "s.json"), FileStore)
    monkeypatch.setenv("XAA_SECRET_STORE", "memory")  # would silently lose secrets between runs
    with pytest.raises(StorageError, match="unknown secret store 'memory'"):
        open_secret_store(None, tmp_path / "s.json")
    monkeypatch.setenv("XAA_SECRET_STORE", "plaintext")
    with pytest.raises(StorageError, match="unknown secret store 'plaintext'"):
        choose_store_kind(None)


def test_file_store_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    FileStore(path).set("k", FAKE)
    path.chmod(0o644)
    with pytest.raises(StorageError, match=r"readable by other users \(mode 0644\)") as info:
        FileStore(path).get("k")
    assert f"chmod 600 {path}" in (info.value.hint or "")
    path.chmod(0o600)
    assert FileStore(path).get("k") == FAKE
