"""The xaa exception tree. A leaf module: imports nothing from xaa_cli.

Every error carries a one-sentence ``message`` and an optional ``hint`` (what to do next).
Errors never hold responses, clients or token text, so printing or logging one cannot leak a secret.
The CLI maps these classes to
exit codes in exactly one place (``xaa_cli.cli.exit_codes``)::

    XaaError
    ├── UsageError                 bad arguments or input the user can fix
    │   └── InsecureURLError       plain http:// to a non-loopback host
    ├── ConfigError                config file missing/malformed, unknown profile or app
    ├── StorageError               secret store, token cache, audit log, file permissions
    │   └── SecretStoreUnavailable no usable OS keyring and no opt-in file store
    ├── NetworkError               connect, timeout, TLS failures
    ├── RemoteError                the server refused or answered nonsense
    │   ├── OAuthError             an RFC 6749 §5.2 error response (``error``, ``error_description``)
    │   └── ProtocolError          invalid metadata, JSON or token response
    ├── TokenError                 a token could not be used
    │   ├── TokenFormatError       not a JWT / not decodable
    │   └── TokenVerificationError signature or claim checks failed
    ├── LoginRequired              no usable subject token: run ``xaa login``
    └── CheckFailed                a requested check did not pass (inspect, scan findings)
"""

from __future__ import annotations


class XaaError(Exception):
    """Root of every error xaa raises on purpose."""

    code: str = "xaa_error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(XaaError):
    code = "usage"


class InsecureURLError(UsageError):
    code = "insecure_url"


class ConfigError(XaaError):
    code = "config"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.path = path
        self.line = line


class StorageError(XaaError):
    code = "storage"


class SecretStoreUnavailable(StorageError):
    code = "no_secret_store"


class NetworkError(XaaError):
    code = "network"


class RemoteError(XaaError):
    code = "remote"


class OAuthError(RemoteError):
    """An RFC 6749 §5.2 error answer from an endpoint.

    ``hop`` names the step that failed (e.g. "token exchange at the IdP") so messages can say where.
    """

    code = "oauth_error"

    def __init__(
        self,
        error: str,
        description: str | None = None,
        *,
        status: int | None = None,
        hop: str | None = None,
        hint: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        where = f"{hop}: " if hop else ""
        detail = f" ({description})" if description else ""
        super().__init__(f"{where}the server answered {error}{detail}", hint=hint)
        self.error = error
        self.description = description
        self.status = status
        self.hop = hop
        self.extra = extra or {}


class ProtocolError(RemoteError):
    code = "protocol"


class TokenError(XaaError):
    code = "token"


class TokenFormatError(TokenError):
    code = "token_format"


class TokenVerificationError(TokenError):
    code = "token_verification"


class LoginRequired(XaaError):
    code = "login_required"


class CheckFailed(XaaError):
    code = "check_failed"
