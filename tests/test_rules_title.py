"""Title rules: bad/good fixtures, thresholds, normalisation and duplicate groups."""

from __future__ import annotations

from rulekit import U, bad_good_tests, doc, page, page_from_html, site_from_pages, sites

NOINDEX = '<meta name="robots" content="noindex">'

FIXTURES = {
    "title.missing": (page(doc(title=" \n ")), page(doc(title="Waterproof hiking boots | Acme"))),
    "title.multiple": (page(doc(head="<title>Second</title>")), page(doc())),
    "title.duplicate": (
        sites(U("/", doc("Hiking  Boots | Acme")), U("/b", doc("hiking boots | ACME"))),
        sites(U("/", doc("Hiking boots | Acme")), U("/b", doc("Trail shoes | Acme"))),
    ),
    "title.too_long": (page(doc("x" * 61)), page(doc("x" * 60))),
    "title.too_short": (page(doc("x" * 29)), page(doc("x" * 30))),
    "title.same_as_h1": (
        page(doc("Hiking boots", body="<h1>Hiking  BOOTS</h1>")),
        page(doc("Waterproof hiking boots for every trail | Acme", body="<h1>Hiking boots</h1>")),
    ),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)


def test_too_long_states_length_and_threshold() -> None:
    site = page(doc("A" * 78)).build()
    (finding,) = site.run("title.too_long", "/")
    assert finding.message == "Title is 78 characters (max 60)"
    assert finding.details["observed"] == 78 and finding.details["threshold"] == 60
    assert site.run("title.too_long", "/", max_chars=80) == []


def test_length_counts_collapsed_whitespace() -> None:
    site = page(doc("   " + "word " * 12 + "  ")).build()  # 59 characters once collapsed
    assert site.run("title.too_long", "/") == []


def test_missing_title_element_and_empty_title_are_told_apart() -> None:
    assert page(doc(title=None)).run("title.missing")[0].message == "No <title> element"
    assert page(doc(title="")).run("title.missing")[0].message == "<title> is empty"


def test_too_short_ignores_empty_titles() -> None:
    assert page(doc(title="")).run("title.too_short") == []


def test_length_rules_apply_to_indexable_pages_only() -> None:
    site = page(doc("x" * 90, head=NOINDEX)).build()
    assert not site.applies("title.too_long", "/")
    assert site.applies("title.missing", "/")


def test_duplicate_reports_each_page_with_the_others() -> None:
    site = site_from_pages([U("/", doc("Same title")), U("/a", doc("same title")), U("/b", doc("Same  Title")),
                            U("/c", doc("Same title", head=NOINDEX)), U("/d", doc("Other"))])
    findings = site.run("title.duplicate")
    assert sorted(f.url for f in findings) == ["https://example.com/", "https://example.com/a", "https://example.com/b"]
    first = next(f for f in findings if f.url == "https://example.com/a")
    assert first.details["others"] == ["https://example.com/", "https://example.com/b"]
    assert first.details["count"] == 3
    assert first.message == "Title 'Same title' is shared by 3 indexable pages"


def test_duplicate_lists_at_most_twenty_others() -> None:
    site = site_from_pages([U(f"/p{i}", doc("Same title")) for i in range(25)])
    finding = site.run("title.duplicate")[0]
    assert len(finding.details["others"]) == 20 and finding.details["count"] == 25


def test_page_from_html_runs_the_real_extractor() -> None:
    view = page_from_html(doc("Boots", body="<h1>Boots</h1>"), inlinks=7)
    assert view.facts.title == "Boots" and view.facts.h1s == ["Boots"] and view.inlinks == 7
