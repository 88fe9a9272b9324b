"""``xaa inspect`` without the terminal: decode, recognise, verify with trusted keys only, and explain.

Plain data in and out (``Report``, ``Check``); the CLI renders it. Sub-modules: ``parse`` (text → token
shape), ``kinds`` (what the token is for), ``checks`` and ``idjag`` (claim rules), ``risks`` (warnings),
``trust`` (JWKS and discovery), ``introspect`` (RFC 7662), ``engine`` (puts them together).
"""

from __future__ import annotations

from xaa_cli.core.inspect.engine import DEFAULT_LEEWAY, Options, inspect_report
from xaa_cli.core.inspect.model import KIND_LABELS, Check, Report, TimeInfo, TokenKind
from xaa_cli.core.inspect.parse import ParsedToken, parse_token
from xaa_cli.core.inspect.trust import TrustedKeys

__all__ = [
    "DEFAULT_LEEWAY",
    "KIND_LABELS",
    "Check",
    "Options",
    "ParsedToken",
    "Report",
    "TimeInfo",
    "TokenKind",
    "TrustedKeys",
    "inspect_report",
    "parse_token",
]
