"""Every built-in rule's positive examples are found by that rule (alone and with all rules loaded) and
its negative examples are not; the shipped rule file itself scans clean."""

from __future__ import annotations

import pytest

from xaa_cli.scan.engine import Engine
from xaa_cli.scan.rules import EXAMPLE_MARK, Rule, default_rules_text, example_text, load_rules

RULES = load_rules().rules
CONTENT_RULES = [r for r in RULES if not r.path_only]
FULL = Engine(RULES)


def _ids(rule: Rule) -> str:
    return rule.id


def test_at_least_80_credential_kinds() -> None:
    assert len(RULES) >= 80
    assert len({r.id for r in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=_ids)
def test_every_rule_has_positive_and_negative_examples(rule: Rule) -> None:
    assert rule.positive, f"{rule.id} has no positive example"
    assert rule.negative, f"{rule.id} has no negative example"


@pytest.mark.parametrize("rule", CONTENT_RULES, ids=_ids)
def test_positive_examples_are_found(rule: Rule) -> None:
    alone = Engine([rule])
    for example in rule.positive:
        text = example_text(example).encode()
        hits = alone.scan(text, rule.example_path)
        assert [h.rule.id for h in hits] == [rule.id], f"{rule.id} missed {example!r}"
        assert hits[0].secret, "the secret group must not be empty"
        # with every rule loaded, something still reports it (a more specific rule may win)
        assert FULL.scan(text, rule.example_path), f"full rule set missed {example!r}"


@pytest.mark.parametrize("rule", CONTENT_RULES, ids=_ids)
def test_negative_examples_are_not_found(rule: Rule) -> None:
    alone = Engine([rule])
    for example in rule.negative:
        hits = alone.scan(example_text(example).encode(), rule.example_path)
        assert hits == [], f"{rule.id} wrongly matched {example!r}"


@pytest.mark.parametrize("rule", [r for r in RULES if r.path_only], ids=_ids)
def test_path_rules_match_example_paths(rule: Rule) -> None:
    assert all(rule.applies_to(p) for p in rule.positive)
    assert not any(rule.applies_to(p) for p in rule.negative)


def test_examples_in_the_rule_file_are_split_so_it_scans_clean() -> None:
    text = default_rules_text()
    assert EXAMPLE_MARK in text
    assert FULL.scan(text.encode(), "xaa_cli/scan/data/rules.toml") == []


def test_removing_the_mark_is_what_makes_examples_live() -> None:
    # guards the test above: the same text with marks removed is full of findings
    assert len(FULL.scan(example_text(default_rules_text()).encode(), "rules.toml")) > 50


def test_every_provider_has_a_migration_hint() -> None:
    from xaa_cli.scan.hints import hints

    table = hints()
    missing = sorted({r.provider for r in RULES} - set(table))
    assert missing == []
    assert all(h.replacement for h in table.values())
