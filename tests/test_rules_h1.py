"""H1 rules: presence, count, duplicates across indexable pages."""

from __future__ import annotations

from rulekit import U, bad_good_tests, doc, page, site_from_pages, sites

FIXTURES = {
    "h1.missing": (page(doc(body='<div class="big">Hiking boots</div><h2>Sizes</h2>')), page(doc(body="<h1>Hiking boots</h1>"))),
    "h1.multiple": (page(doc(body="<h1>Acme</h1><h1>Hiking boots</h1>")), page(doc(body="<h1>Hiking boots</h1><h2>Sizes</h2>"))),
    "h1.duplicate": (
        sites(U("/", doc(body="<h1>Our products</h1>")), U("/b", doc(body="<h1>Our  Products</h1>"))),
        sites(U("/", doc(body="<h1>Red boots</h1>")), U("/b", doc(body="<h1>Blue boots</h1>"))),
    ),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)


def test_empty_h1_is_missing() -> None:
    (finding,) = page(doc(body="<h1> </h1>")).run("h1.missing")
    assert finding.message == "1 H1(s), all empty"


def test_h1_of_an_image_alt_counts_as_text() -> None:
    assert page(doc(body='<h1><img src="/logo.png" alt="Acme boots"></h1>')).run("h1.missing") == []


def test_multiple_lists_the_headings() -> None:
    (finding,) = FIXTURES["h1.multiple"][0].run("h1.multiple")
    assert finding.details["h1s"] == ["Acme", "Hiking boots"] and finding.message == "2 H1 headings"


def test_duplicate_message_names_the_heading() -> None:
    site = site_from_pages([U("/", doc(body="<h1>Shop</h1>")), U("/b", doc(body="<h1>shop</h1>"))])
    assert {f.message for f in site.run("h1.duplicate")} == {"H1 'Shop' is shared by 2 indexable pages"}
