"""The secret store: long-lived secrets (client secrets, private keys, ID and refresh tokens).

The OS keyring through ``keyring`` by default. On a machine with no usable keyring xaa stops and says so, with
the two ways out; it never falls back to plaintext silently. The opt-in ``FileStore`` is a 0600 JSON file that
``xaa status`` names. Keyring calls run with a timeout: a locked keyring can hang forever on some desktops.

Secret names are built by ``secret_key`` so every layer agrees on them, e.g. ``profile/dev/client_secret``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final, Protocol, TypeVar

from xaa_cli.errors import SecretStoreUnavailable, StorageError
from xaa_cli.storage.files import read_limited, write_atomic

SERVICE: Final = "xaa"
KEYRING_TIMEOUT_S: Final = 5.0
MAX_FILE_STORE_BYTES: Final = 4 * 1024 * 1024
_T = TypeVar("_T")

NO_KEYRING_HINT: Final = (
    "configure a keyring backend (e.g. run a Secret Service such as gnome-keyring, or set "
    "PYTHON_KEYRING_BACKEND), or opt in to a 0600 file store with XAA_SECRET_STORE=file "
    '(or secret_store = "file" in the config)'
)


def secret_key(profile: str, name: str, app: str | None = None) -> str:
    """The store key for a secret: ``profile/P/name`` or ``profile/P/app/A/name``."""
    if app is None:
        return f"profile/{profile}/{name}"
    return f"profile/{profile}/app/{app}/{name}"


class SecretStore(Protocol):
    """get/set/delete of small string secrets. ``kind`` and ``location`` are shown by ``xaa status``."""

    kind: str
    location: str

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> bool: ...


class MemoryStore:
    """A dict-backed store for tests and for ``xaa demo``."""

    kind = "memory"
    location = "process memory (nothing is written)"

    def __init__(self) -> None:
        self._data: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self._data.get(key)

    def set(self, key: str, value: str) -> None:
        self._data[key] = value

    def delete(self, key: str) -> bool:
        return self._data.pop(key, None) is not None


class FileStore:
    """Opt-in plaintext store: one JSON object in a 0600 file. Honest about what it is."""

    kind = "file"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = f"{path} (plaintext, mode 0600)"

    def _load(self) -> dict[str, str]:
        data = read_limited(self.path, MAX_FILE_STORE_BYTES)
        if data is None:
            return {}
        self._check_private()
        try:
            loaded = json.loads(data)
        except ValueError as exc:
            raise StorageError(
                f"the secret file {self.path} is corrupt",
                hint="move it away and store the secrets again",
            ) from exc
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise StorageError(f"the secret file {self.path} is not a JSON object of strings")
        return loaded

    def _check_private(self) -> None:
        """Refuse a secrets file others can read, as ssh refuses such a private key: it may have leaked."""
        mode = self.path.stat().st_mode & 0o777
        if os.name == "posix" and mode & 0o077:
            raise StorageError(
                f"the secret file {self.path} is readable by other users (mode {mode:04o})",
                hint=f"run `chmod 600 {self.path}`, and rotate its secrets if others could have read them",
            )

    def get(self, key: str) -> str | None:
        return self._load().get(key)

    def set(self, key: str, value: str) -> None:
        data = self._load()
        data[key] = value
        write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True).encode())

    def delete(self, key: str) -> bool:
        data = self._load()
        if data.pop(key, None) is None:
            return False
        write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True).encode())
        return True


class KeyringStore:
    """The OS keyring (macOS Keychain, Windows Credential Manager, Secret Service) via ``keyring``."""

    kind = "keyring"

    def __init__(self, timeout: float = KEYRING_TIMEOUT_S) -> None:
        import keyring  # lazy: ~90 ms

        self._keyring = keyring
        self._timeout = timeout
        backend = self._call(keyring.get_keyring)
        if not _usable(backend):
            raise SecretStoreUnavailable(
                "no usable OS keyring was found on this machine", hint=NO_KEYRING_HINT
            )
        self.location = f"OS keyring ({type(backend).__module__}.{type(backend).__name__})"

    def _call(self, fn: Callable[[], _T]) -> _T:
        return _with_timeout(fn, self._timeout)

    def get(self, key: str) -> str | None:
        value: str | None = self._call(lambda: self._keyring.get_password(SERVICE, key))
        return value

    def set(self, key: str, value: str) -> None:
        self._call(lambda: self._keyring.set_password(SERVICE, key, value))

    def delete(self, key: str) -> bool:
        import keyring.errors

        def _delete() -> bool:
            try:
                self._keyring.delete_password(SERVICE, key)
            except keyring.errors.PasswordDeleteError:
                return False
            return True

        return self._call(_delete)


def _usable(backend: object) -> bool:
    module = type(backend).__module__
    if module in ("keyring.backends.fail", "keyring.backends.null"):
        return False
    backends = getattr(backend, "backends", None)  # ChainerBackend with nothing behind it
    return backends is None or bool(backends)


def _with_timeout(fn: Callable[[], _T], timeout: float) -> _T:
    """Run a keyring call in a daemon thread; a locked keyring can otherwise block forever."""
    result: list[_T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # re-raised in the caller's thread below  # noqa: BLE001
            error.append(exc)

    worker = threading.Thread(target=run, name="xaa-keyring", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise SecretStoreUnavailable(
            f"the OS keyring did not answer within {timeout:g} s (it may be locked or waiting "
            "for a password prompt)",
            hint=NO_KEYRING_HINT,
        )
    if error:
        raise _translate(error[0]) from error[0]
    return result[0]


def _translate(exc: BaseException) -> BaseException:
    # keyring raises KeyringError subclasses, and plain RuntimeError when a configured backend
    # cannot initialise (cli-conventions §2.2).
    if isinstance(exc, RuntimeError):
        return SecretStoreUnavailable(f"the OS keyring failed: {exc}", hint=NO_KEYRING_HINT)
    return exc


def choose_store_kind(configured: str | None) -> str:
    """``XAA_SECRET_STORE`` beats the config's ``secret_store``; default ``keyring``."""
    env = os.environ.get("XAA_SECRET_STORE", "").strip().lower()
    kind = env or (configured or "keyring")
    # No "memory" here on purpose: each xaa run is a new process, so a memory store would lose every
    # secret silently. MemoryStore is only for callers that inject it (tests, embedding).
    if kind not in ("keyring", "file"):
        raise StorageError(f"unknown secret store {kind!r}", hint="use XAA_SECRET_STORE=keyring or file")
    return kind


def open_secret_store(configured: str | None, file_path: Path) -> SecretStore:
    """Open the chosen store. ``SecretStoreUnavailable`` (with both ways out) when the keyring is unusable."""
    kind = choose_store_kind(configured)
    if kind == "file":
        return FileStore(file_path)
    return KeyringStore()
