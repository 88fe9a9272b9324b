"""Rules as data: parse and validate the TOML rule format, merge user rules over the defaults.

The format is close to gitleaks' (``id, regex, secret_group, entropy, keywords, paths, allow-lists``) plus
``provider``, ``validate`` (offline checksum/structure checks), ``detector`` (a structured parser),
``generic`` (lower priority, stricter filters) and ``positive``/``negative`` examples. Stdlib only.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

from xaa_cli.errors import ConfigError

#: Examples in the shipped rule file carry this mark inside every token, so scanning the rule file itself
#: finds nothing; ``example_text`` removes it before a test runs the example.
EXAMPLE_MARK: Final = "¦"
FILTERS: Final = frozenset({"placeholder", "hash", "uuid", "integrity", "identifier", "password-shape"})
_FIELDS: Final = frozenset(
    {
        "id", "provider", "description", "regex", "secret_group", "keywords", "entropy", "paths",
        "allow_paths", "allow_regexes", "stopwords", "validate", "detector", "generic", "filters",
        "multiline", "positive", "negative", "tags", "example_path",
    }
)  # fmt: skip
_ID: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{1,80}$")


@dataclass(frozen=True, slots=True)
class Rule:
    """One credential kind. ``regex`` is compiled for bytes; ``keywords`` are lower-case prefilter words."""

    id: str
    provider: str
    description: str
    regex: re.Pattern[bytes] | None
    secret_group: int | None = None
    keywords: tuple[str, ...] = ()
    entropy: float = 0.0
    paths: tuple[re.Pattern[str], ...] = ()
    allow_paths: tuple[re.Pattern[str], ...] = ()
    allow_regexes: tuple[re.Pattern[bytes], ...] = ()
    stopwords: tuple[bytes, ...] = ()
    validate: str | None = None
    detector: str | None = None
    generic: bool = False
    filters: frozenset[str] = frozenset({"placeholder"})
    multiline: bool = False
    positive: tuple[str, ...] = field(default=(), repr=False)
    negative: tuple[str, ...] = field(default=(), repr=False)
    example_path: str = "example.txt"  # where the examples "live" (for rules limited by ``paths``)

    @property
    def path_only(self) -> bool:
        """A rule with ``paths`` and no regex reports the file itself (e.g. a ``.p12`` keystore)."""
        return self.regex is None and self.detector is None

    def applies_to(self, path: str) -> bool:
        if self.paths and not any(p.search(path) for p in self.paths):
            return False
        return not any(p.search(path) for p in self.allow_paths)


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[Rule, ...]
    allow_paths: tuple[re.Pattern[str], ...] = ()
    sources: tuple[str, ...] = ()

    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}


def example_text(example: str) -> str:
    """An example as the scanner should see it (the split mark removed)."""
    return example.replace(EXAMPLE_MARK, "")


def default_rules_text() -> str:
    return resources.files("xaa_cli.scan").joinpath("data/rules.toml").read_text(encoding="utf-8")


def load_rules(
    extra_files: Sequence[Path] = (),
    *,
    inline: Sequence[Mapping[str, Any]] = (),
    disabled: Iterable[str] = (),
    use_defaults: bool = True,
) -> RuleSet:
    """Defaults, then each extra file, then inline tables; a later rule with the same id replaces earlier."""
    tables: dict[str, tuple[Mapping[str, Any], str]] = {}
    allow_paths: list[str] = []
    sources: list[str] = []
    docs: list[tuple[Mapping[str, Any], str]] = []
    if use_defaults:
        docs.append((_parse_toml(default_rules_text(), "built-in rules"), "built-in rules"))
    for path in extra_files:
        docs.append((_parse_toml(_read(path), str(path)), str(path)))
    if inline:
        docs.append(({"rules": list(inline)}, "config [scan]"))
    for doc, where in docs:
        sources.append(where)
        allow_paths.extend(_strings(doc.get("global", {}), "allow_paths", where))
        for table in _tables(doc, where):
            tables[str(table.get("id"))] = (table, where)
    off = set(disabled)
    rules = tuple(parse_rule(t, where) for rid, (t, where) in tables.items() if rid not in off)
    return RuleSet(
        rules, tuple(_compile_str(p, "global", "allow_paths") for p in allow_paths), tuple(sources)
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read rules file {path}: {exc}", path=str(path)) from exc


def _parse_toml(text: str, where: str) -> Mapping[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML ({exc})", hint="fix the rules file") from exc


def _tables(doc: Mapping[str, Any], where: str) -> list[Mapping[str, Any]]:
    rules = doc.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise ConfigError(f"{where}: 'rules' must be an array of tables ([[rules]])")
    return rules


def parse_rule(table: Mapping[str, Any], where: str = "rules") -> Rule:
    """Validate one ``[[rules]]`` table; every problem is a ``ConfigError`` naming the rule and field."""
    rid = table.get("id")
    if not isinstance(rid, str) or not _ID.match(rid):
        raise ConfigError(f"{where}: a rule has a missing or invalid id ({rid!r})", hint="use [a-z0-9._-]")
    label = f"{where}: rule {rid}"
    unknown = set(table) - _FIELDS
    if unknown:
        raise ConfigError(f"{label}: unknown field(s) {', '.join(sorted(unknown))}")
    regex = table.get("regex")
    detector = _opt_str(table, "detector", label)
    paths = _strings(table, "paths", label)
    if regex is None and detector is None and not paths:
        raise ConfigError(f"{label}: needs a regex, a detector or paths")
    compiled = _compile_bytes(regex, label, "regex") if regex is not None else None
    group = table.get("secret_group")
    if group is not None and (not isinstance(group, int) or compiled is None or group > compiled.groups):
        raise ConfigError(f"{label}: secret_group must name a group of the regex")
    filters = frozenset(_strings(table, "filters", label) or (["placeholder"]))
    if filters - FILTERS:
        raise ConfigError(f"{label}: unknown filter(s) {', '.join(sorted(filters - FILTERS))}")
    entropy = table.get("entropy", 0.0)
    if not isinstance(entropy, int | float) or not 0 <= entropy <= 8:
        raise ConfigError(f"{label}: entropy must be a number between 0 and 8")
    return Rule(
        id=rid,
        provider=_opt_str(table, "provider", label) or "generic",
        description=_opt_str(table, "description", label) or rid,
        regex=compiled,
        secret_group=group,
        keywords=tuple(k.lower() for k in _strings(table, "keywords", label)),
        entropy=float(entropy),
        paths=tuple(_compile_str(p, label, "paths") for p in paths),
        allow_paths=tuple(
            _compile_str(p, label, "allow_paths") for p in _strings(table, "allow_paths", label)
        ),
        allow_regexes=tuple(
            _compile_bytes(p, label, "allow_regexes") for p in _strings(table, "allow_regexes", label)
        ),
        stopwords=tuple(s.lower().encode() for s in _strings(table, "stopwords", label)),
        validate=_opt_str(table, "validate", label),
        detector=detector,
        generic=bool(table.get("generic", False)),
        filters=filters,
        multiline=bool(table.get("multiline", False)),
        positive=tuple(_strings(table, "positive", label)),
        negative=tuple(_strings(table, "negative", label)),
        example_path=_opt_str(table, "example_path", label) or "example.txt",
    )  # fmt: skip


def _opt_str(table: Mapping[str, Any], key: str, label: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{label}: {key} must be a string")
    return value


def _strings(table: Mapping[str, Any], key: str, label: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{label}: {key} must be a list of strings")
    return value


def _compile_bytes(pattern: object, label: str, key: str) -> re.Pattern[bytes]:
    if not isinstance(pattern, str):
        raise ConfigError(f"{label}: {key} must be a string")
    try:
        return re.compile(pattern.encode("utf-8"))
    except re.error as exc:
        raise ConfigError(f"{label}: {key} is not a valid regular expression ({exc})") from exc


def _compile_str(pattern: str, label: str, key: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{label}: {key} is not a valid regular expression ({exc})") from exc
