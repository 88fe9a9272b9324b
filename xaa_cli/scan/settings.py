"""The ``[scan]`` section of the xaa config, validated into plain values (stdlib only)::

[scan]
rule_files = ["~/.config/xaa/more-rules.toml"]   # extra rule files (same format as --rules)
disabled_rules = ["generic-api-key"]
exclude_paths = ["fixtures/", "docs/examples"]
max_file_size = "10M"
follow_symlinks = false
exit_code = 1

[[scan.rules]]                                    # inline rules, same fields as a rule file
id = "acme-token"
regex = '''\\b(acme_[a-z0-9]{32})\\b'''
keywords = ["acme_"]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xaa_cli.errors import ConfigError, UsageError
from xaa_cli.scan.model import parse_size

_KEYS = frozenset(
    {
        "rule_files",
        "disabled_rules",
        "exclude_paths",
        "max_file_size",
        "follow_symlinks",
        "exit_code",
        "rules",
    }
)


@dataclass(frozen=True, slots=True)
class ScanSettings:
    rule_files: tuple[Path, ...] = ()
    inline_rules: tuple[Mapping[str, Any], ...] = ()
    disabled_rules: tuple[str, ...] = ()
    exclude_paths: tuple[str, ...] = ()
    max_file_size: int | None = None
    follow_symlinks: bool | None = None
    exit_code: int | None = None


def from_config(section: Mapping[str, Any]) -> ScanSettings:
    """Validate the ``[scan]`` table; any problem is a ``ConfigError`` naming the key."""
    unknown = set(section) - _KEYS
    if unknown:
        raise ConfigError(
            f"[scan] has unknown key(s) {', '.join(sorted(unknown))}",
            hint=f"known: {', '.join(sorted(_KEYS))}",
        )
    size = section.get("max_file_size")
    if size is not None and not isinstance(size, int | str):
        raise ConfigError("[scan] max_file_size must be a size like 5M or a number of bytes")
    inline = section.get("rules", [])
    if not isinstance(inline, list) or not all(isinstance(r, dict) for r in inline):
        raise ConfigError("[scan] rules must be an array of tables ([[scan.rules]])")
    follow = section.get("follow_symlinks")
    exit_code = section.get("exit_code")
    if follow is not None and not isinstance(follow, bool):
        raise ConfigError("[scan] follow_symlinks must be true or false")
    if exit_code is not None and (not isinstance(exit_code, int) or not 0 <= exit_code <= 255):
        raise ConfigError("[scan] exit_code must be an integer from 0 to 255")
    try:
        max_size = parse_size(str(size)) if size is not None else None
    except UsageError as exc:
        raise ConfigError(f"[scan] max_file_size: {exc}") from exc
    return ScanSettings(
        rule_files=tuple(Path(p).expanduser() for p in _strings(section, "rule_files")),
        inline_rules=tuple(inline),
        disabled_rules=tuple(_strings(section, "disabled_rules")),
        exclude_paths=tuple(_strings(section, "exclude_paths")),
        max_file_size=max_size,
        follow_symlinks=follow,
        exit_code=exit_code,
    )


def _strings(section: Mapping[str, Any], key: str) -> list[str]:
    value = section.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[scan] {key} must be a list of strings")
    return value
