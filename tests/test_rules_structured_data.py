"""Structured data rules (beyond the core catalogue)."""

from __future__ import annotations

from rulekit import bad_good_tests, doc, page


def ld(text: str) -> str:
    return f'<script type="application/ld+json">{text}</script>'


FIXTURES = {
    "structured_data.jsonld_invalid": (
        page(doc(head=ld('{"@type": "Product", "name": "Boots",}'))),
        page(doc(head=ld('{"@type": "Product", "name": "Boots"}'))),
    ),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)


def test_counts_bad_blocks_among_all() -> None:
    (finding,) = page(doc(head=ld("{}") + ld("{oops") + ld("[1, 2"))).run("structured_data.jsonld_invalid")
    assert finding.message.startswith("2 of 3 JSON-LD block(s) do not parse (")
    assert finding.details["count"] == 2
