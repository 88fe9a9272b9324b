"""Migration hints: per provider, what replaces the static secret, from ``data/hints.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from xaa_cli.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Hint:
    provider: str
    name: str
    replacement: str
    xaa: bool  # the replacement is a token the service accepts from your enterprise IdP


@cache
def hints() -> dict[str, Hint]:
    """All hints, keyed by provider id (loaded once; the file ships in the package)."""
    text = resources.files("xaa_cli.scan").joinpath("data/hints.toml").read_text(encoding="utf-8")
    table = tomllib.loads(text).get("providers", {})
    out: dict[str, Hint] = {}
    for key, row in table.items():
        if not isinstance(row, dict) or not isinstance(row.get("replacement"), str):
            raise ConfigError(f"hints.toml: provider {key} needs a replacement line")
        out[key] = Hint(key, str(row.get("name", key)), row["replacement"], bool(row.get("xaa", False)))
    return out


def hint_for(provider: str) -> Hint:
    """The hint for ``provider``, falling back to the generic advice."""
    table = hints()
    return table.get(provider) or table["generic"]
