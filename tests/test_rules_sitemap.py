"""Sitemap rules: existence, validity, and agreement between sitemaps and indexable pages."""

from __future__ import annotations

import pytest
from rulekit import U, Robots, Sitemap, bad_good_tests, doc, site_from_pages, sites

SM = ("/sitemap.xml",)
HOME = U("/", doc())
LISTED_HOME = U("/", doc(), sitemaps=SM)

FIXTURES = {
    "sitemap.missing": (
        sites(HOME, robots=(Robots("User-agent: *\nDisallow: /cart/\n"),)),
        sites(LISTED_HOME, robots=(Robots("User-agent: *\nDisallow: /cart/\n"),)),
    ),
    "sitemap.invalid": (
        sites(HOME, sitemaps=(Sitemap("/sitemap.xml", kind="invalid", error="XML error at line 3: mismatched tag"),)),
        sites(LISTED_HOME),
    ),
    "sitemap.non_indexable": (
        sites(LISTED_HOME, U("/old", status=301, location="/new", sitemaps=SM)),
        sites(LISTED_HOME, U("/a", doc(), sitemaps=SM)),
    ),
    "sitemap.not_listed": (
        sites(LISTED_HOME, U("/b", doc())),
        sites(LISTED_HOME, U("/b", doc(), sitemaps=SM)),
    ),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)


def test_missing_is_reported_once_on_the_start_url() -> None:
    (finding,) = FIXTURES["sitemap.missing"][0].run("sitemap.missing")
    assert finding.url == "https://example.com/"
    assert finding.message == "No sitemap found: none declared in robots.txt and /sitemap.xml is missing"


def test_missing_names_declared_sitemaps_that_could_not_be_fetched() -> None:
    site = site_from_pages([HOME], robots=[Robots("Sitemap: https://example.com/sm.xml\n")])
    (finding,) = site.run("sitemap.missing")
    assert finding.details["declared"] == ["https://example.com/sm.xml"]


def test_nothing_is_concluded_when_sitemaps_were_not_read() -> None:
    site = site_from_pages([HOME, U("/b", doc())], sitemaps_read=False)
    assert site.run("sitemap.missing") == []


@pytest.mark.parametrize("row,reason", [
    (Sitemap("/sitemap.xml", kind="invalid", status=500, error="HTTP 500"), "Sitemap HTTP 500"),
    (Sitemap("/sitemap.xml", kind="invalid", error="root element is <html>, expected <urlset> or <sitemapindex>"),
     "Sitemap root element is <html>, expected <urlset> or <sitemapindex>"),
    (Sitemap("/sitemap.xml", url_count=50_001, truncated=True), "Sitemap lists more than 50,000 URLs (50,001 read)"),
    (Sitemap("/sitemap.xml", bytes=52_428_801, truncated=True), "Sitemap is over 52,428,800 bytes (50 MB) uncompressed"),
])
def test_invalid_reasons(row: Sitemap, reason: str) -> None:
    site = site_from_pages([HOME], sitemaps=[row])
    (finding,) = site.run("sitemap.invalid")
    assert finding.url == "https://example.com/sitemap.xml" and finding.message == reason


def test_a_sitemap_with_minor_problems_is_not_invalid() -> None:
    row = Sitemap("/sitemap.xml", problems=[{"kind": "sitemap.invalid_lastmod", "message": "bad date", "line": 4}])
    assert site_from_pages([HOME], sitemaps=[row]).run("sitemap.invalid") == []


@pytest.mark.parametrize("listed,reason", [
    (U("/x", status=301, location="/a"), "redirect"),
    (U("/x", status=404), "error"),
    (U("/x", status=None, error_kind="timeout"), "no_response"),
    (U("/x", state="blocked", status=None), "blocked"),
    (U("/x", doc(head='<meta name="robots" content="noindex">')), "noindex"),
    (U("/x", doc(head='<link rel="canonical" href="https://example.com/a">')), "canonicalised"),
    (U("/x", doc(), disallowed=True), "not_indexable"),
])
def test_non_indexable_reasons(listed: U, reason: str) -> None:
    listed.sitemaps = SM
    site = site_from_pages([HOME, listed, U("/a", doc())])
    (finding,) = site.run("sitemap.non_indexable")
    assert finding.url == "https://example.com/x" and finding.details["reason"] == reason
    assert finding.details["sitemaps"] == ["https://example.com/sitemap.xml"]


def test_non_html_documents_may_be_listed() -> None:
    site = site_from_pages([HOME, U("/guide.pdf", content_type="application/pdf", sitemaps=SM)])
    assert site.run("sitemap.non_indexable") == []


def test_not_listed_needs_a_readable_urlset() -> None:
    broken = Sitemap("/sitemap.xml", kind="invalid", error="XML error")
    assert site_from_pages([HOME, U("/b", doc())], sitemaps=[broken]).run("sitemap.not_listed") == []


def test_not_listed_skips_non_indexable_pages() -> None:
    site = site_from_pages([LISTED_HOME, U("/b", doc(head='<meta name="robots" content="noindex">')), U("/c", status=404)])
    assert site.run("sitemap.not_listed") == []
