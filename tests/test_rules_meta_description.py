"""Meta description rules: presence, count, length, duplicates."""

from __future__ import annotations

from rulekit import U, bad_good_tests, doc, page, site_from_pages, sites


def desc(text: str) -> str:
    return f'<meta name="description" content="{text}">'


GOOD = "Waterproof leather hiking boots, tested on 500 km of trails, with free delivery and returns."

FIXTURES = {
    "meta_description.missing": (page(doc(head=desc("  "))), page(doc(head=desc(GOOD)))),
    "meta_description.multiple": (page(doc(head=desc(GOOD) + desc("Acme shop"))), page(doc(head=desc(GOOD)))),
    "meta_description.duplicate": (
        sites(U("/", doc(head=desc(GOOD))), U("/b", doc(head=desc(GOOD.upper())))),
        sites(U("/", doc(head=desc(GOOD))), U("/b", doc(head=desc(GOOD + " Blue edition.")))),
    ),
    "meta_description.too_long": (page(doc(head=desc("x" * 156))), page(doc(head=desc("x" * 155)))),
    "meta_description.too_short": (page(doc(head=desc("x" * 69))), page(doc(head=desc("x" * 70)))),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)


def test_missing_tag_and_empty_content_are_told_apart() -> None:
    assert page(doc()).run("meta_description.missing")[0].message == "No meta description"
    assert page(doc(head=desc(""))).run("meta_description.missing")[0].message == "Meta description is empty"


def test_lengths_state_numbers_and_take_options() -> None:
    site = page(doc(head=desc("y" * 200))).build()
    (finding,) = site.run("meta_description.too_long", "/")
    assert finding.message == "Meta description is 200 characters (max 155)"
    assert site.run("meta_description.too_long", "/", max_chars=200) == []
    assert page(doc(head=desc("short"))).run("meta_description.too_short")[0].message == (
        "Meta description is 5 characters (min 70)")


def test_duplicate_ignores_non_indexable_pages() -> None:
    site = site_from_pages([U("/", doc(head=desc(GOOD))), U("/b", doc(head=desc(GOOD) + '<link rel="canonical" href="/">'))])
    assert site.run("meta_description.duplicate") == []
