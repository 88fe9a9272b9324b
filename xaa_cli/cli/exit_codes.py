"""Exit codes: the one place that maps exceptions to process exit statuses (documented in
docs/exit-codes.md; a test keeps the two in sync)."""

from __future__ import annotations

from enum import IntEnum
from typing import Final

from xaa_cli import errors


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # a requested check failed; scan found secrets; partial revocation
    USAGE = 2  # bad flags, arguments or input
    CONFIG = 3  # configuration, secret store, token cache or audit log
    NETWORK = 4  # could not reach a server: connect, timeout, TLS
    REFUSED = 5  # the server refused (OAuth error) or answered something invalid
    BAD_TOKEN = 6  # the input is not a usable token
    LOGIN_REQUIRED = 7  # no usable sign-in: run `xaa login`
    INTERNAL = 70  # a bug in xaa: rerun with --debug and report it
    INTERRUPTED = 130  # Ctrl-C


EXIT_FOR: Final[tuple[tuple[type[BaseException], ExitCode], ...]] = (
    # Order matters: the first class in the exception's MRO wins.
    (errors.CheckFailed, ExitCode.CHECK_FAILED),
    (errors.UsageError, ExitCode.USAGE),
    (errors.ConfigError, ExitCode.CONFIG),
    (errors.StorageError, ExitCode.CONFIG),
    (errors.NetworkError, ExitCode.NETWORK),
    (errors.RemoteError, ExitCode.REFUSED),
    (errors.TokenError, ExitCode.BAD_TOKEN),
    (errors.LoginRequired, ExitCode.LOGIN_REQUIRED),
    (KeyboardInterrupt, ExitCode.INTERRUPTED),
)


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code for ``exc``, resolved along its MRO; unknown exceptions are INTERNAL."""
    for klass in type(exc).__mro__:
        for known, code in EXIT_FOR:
            if klass is known:
                return code
    return ExitCode.INTERNAL
