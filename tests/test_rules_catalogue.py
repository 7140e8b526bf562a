"""The built-in catalogue against issue #3 §6: ids, severities, scopes, categories, docs, options, fixtures."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import emaudit.rules
from emaudit.api import RULE_ATTRIBUTE, RuleSpec
from emaudit.registry import load_registry, rule_problems

# id: (severity, scope, applies_to) — the §6 table, with the units each rule is evaluated on.
CATALOGUE = {
    "status.client_error": ("error", "page", "url"),
    "status.server_error": ("error", "page", "url"),
    "status.no_response": ("error", "page", "url"),
    "status.bot_protection": ("warning", "page", "url"),
    "status.blocked_by_robots": ("notice", "page", "url"),
    "redirect.internal": ("notice", "page", "url"),
    "redirect.chain": ("warning", "page", "url"),
    "redirect.loop": ("error", "page", "url"),
    "redirect.temporary": ("notice", "page", "url"),
    "redirect.meta_refresh": ("warning", "page", "html"),
    "links.broken": ("error", "page", "html"),
    "links.to_redirect": ("notice", "page", "html"),
    "links.internal_nofollow": ("notice", "page", "html"),
    "links.generic_anchor": ("notice", "page", "html"),
    "links.empty_anchor": ("notice", "page", "html"),
    "links.uncrawlable": ("warning", "page", "html"),
    "links.dead_end": ("notice", "page", "html"),
    "index.noindex": ("notice", "page", "html"),
    "index.nofollow_page": ("notice", "page", "html"),
    "index.noindex_sitewide": ("error", "site", "site"),
    "index.deep_page": ("notice", "page", "indexable"),
    "index.orphan": ("warning", "site", "indexable"),
    "canonical.missing": ("notice", "page", "indexable"),
    "canonical.multiple": ("warning", "page", "html"),
    "canonical.relative": ("notice", "page", "html"),
    "canonical.canonicalised": ("notice", "page", "html"),
    "canonical.to_non_200": ("error", "page", "html"),
    "canonical.to_noindex": ("error", "page", "html"),
    "canonical.chain": ("warning", "page", "html"),
    "title.missing": ("error", "page", "html"),
    "title.multiple": ("warning", "page", "html"),
    "title.duplicate": ("warning", "site", "indexable"),
    "title.too_long": ("warning", "page", "indexable"),
    "title.too_short": ("notice", "page", "indexable"),
    "title.same_as_h1": ("notice", "page", "indexable"),
    "meta_description.missing": ("warning", "page", "indexable"),
    "meta_description.multiple": ("warning", "page", "html"),
    "meta_description.duplicate": ("warning", "site", "indexable"),
    "meta_description.too_long": ("notice", "page", "indexable"),
    "meta_description.too_short": ("notice", "page", "indexable"),
    "h1.missing": ("warning", "page", "html"),
    "h1.multiple": ("notice", "page", "html"),
    "h1.duplicate": ("notice", "site", "indexable"),
    "headings.skipped_level": ("notice", "page", "html"),
    "content.thin": ("warning", "page", "indexable"),
    "content.exact_duplicate": ("warning", "site", "indexable"),
    "content.near_duplicate": ("notice", "site", "indexable"),
    "content.lang_missing": ("notice", "page", "html"),
    "content.viewport_missing": ("warning", "page", "html"),
    "images.alt_missing": ("warning", "page", "html"),
    "images.broken": ("error", "page", "html"),
    "sitemap.missing": ("warning", "site", "site"),
    "sitemap.invalid": ("error", "site", "site"),
    "sitemap.non_indexable": ("warning", "site", "url"),
    "sitemap.not_listed": ("notice", "site", "indexable"),
    "robots.missing": ("notice", "site", "site"),
    "robots.unreachable": ("error", "site", "site"),
    "robots.invalid_line": ("warning", "site", "site"),
}
# Rules beyond the core catalogue.
EXTRA = {
    "hreflang.invalid_code": ("warning", "page", "html"),
    "hreflang.missing_self": ("warning", "page", "html"),
    "hreflang.to_non_200": ("warning", "page", "html"),
    "hreflang.missing_return": ("warning", "page", "html"),
    "security.mixed_content": ("warning", "page", "html"),
    "structured_data.jsonld_invalid": ("error", "page", "html"),
}
CATEGORY_OF_GROUP = {
    **dict.fromkeys(("status", "redirect", "index", "canonical", "sitemap", "robots"), "indexability"),
    **dict.fromkeys(("title", "meta_description", "h1", "headings", "content", "images"), "content"),
    "links": "links",
    "hreflang": "international",
    "security": "security",
    "structured_data": "structured_data",
}
DOC_SECTIONS = ("What it checks", "Why it matters", "Example", "How to fix", "Options", "References")
GROUPS = sorted(CATEGORY_OF_GROUP)

SPECS: list[RuleSpec] = [getattr(f, RULE_ATTRIBUTE) for f in emaudit.rules.RULES]
BY_ID = {s.id: s for s in SPECS}


def test_ids_are_unique() -> None:
    assert len(BY_ID) == len(SPECS)


def test_every_catalogue_rule_exists_as_specified() -> None:
    assert set(BY_ID) == set(CATALOGUE) | set(EXTRA), sorted(set(BY_ID) ^ (set(CATALOGUE) | set(EXTRA)))
    for rule_id, (severity, scope, applies_to) in {**CATALOGUE, **EXTRA}.items():
        spec = BY_ID[rule_id]
        assert (spec.severity, spec.scope, spec.applies_to) == (severity, scope, applies_to), rule_id
        assert spec.category == CATEGORY_OF_GROUP[spec.group], rule_id


def test_rules_live_in_the_module_of_their_group() -> None:
    for spec in SPECS:
        assert spec.module == f"emaudit.rules.{spec.group}", spec.id


def test_package_rules_are_the_modules_rules_in_order() -> None:
    expected = []
    for group in ("status", "redirect", "links", "index", "canonical", "title", "meta_description", "h1",
                  "headings", "content", "images", "sitemap", "robots", "hreflang", "security", "structured_data"):
        expected.extend(importlib.import_module(f"emaudit.rules.{group}").RULES)
    assert list(emaudit.rules.RULES) == expected


@pytest.mark.parametrize("rule_id", sorted(BY_ID))
def test_docs_have_every_section(rule_id: str) -> None:
    doc = BY_ID[rule_id].doc
    assert list(doc) == list(DOC_SECTIONS), rule_id
    assert all(doc[s].strip() for s in DOC_SECTIONS)
    assert "bad" in doc["Example"] and "good" in doc["Example"]
    assert "http" in doc["References"]


@pytest.mark.parametrize("rule_id", sorted(BY_ID))
def test_options_have_sources_and_are_documented(rule_id: str) -> None:
    spec = BY_ID[rule_id]
    for option in spec.options:
        assert option.source.strip() and option.description.strip(), (rule_id, option.name)
        assert f"`{option.name}`" in spec.doc["Options"], (rule_id, option.name)
    if not spec.options:
        assert spec.doc["Options"] == "None."


def test_registry_accepts_the_catalogue() -> None:
    assert all(rule_problems(spec) == [] for spec in SPECS)
    registry = load_registry()
    assert set(BY_ID) <= set(registry.ids)


def test_every_rule_has_a_bad_and_a_good_fixture() -> None:
    tables: dict[str, object] = {}
    for path in sorted(Path(__file__).parent.glob("test_rules_*.py")):
        if path.stem == "test_rules_catalogue":
            continue
        module = importlib.import_module(path.stem)
        overlap = set(tables) & set(module.FIXTURES)
        assert not overlap, f"{path.name} repeats fixtures of {overlap}"
        tables.update(module.FIXTURES)
    assert set(tables) == set(BY_ID)
    assert all(len(pair) == 2 for pair in tables.values())
