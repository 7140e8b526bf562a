"""Index rules: robots directives (meta and header), site-wide noindex, depth, orphans."""

from __future__ import annotations

import pytest
from rulekit import U, bad_good_tests, doc, page, site_from_pages, sites

NOINDEX = '<meta name="robots" content="noindex, follow">'
SM = ("/sitemap.xml",)

FIXTURES = {
    "index.noindex": (page(doc(head=NOINDEX)), page(doc(head='<meta name="robots" content="index, follow">'))),
    "index.nofollow_page": (page(doc(head='<meta name="robots" content="nofollow">')), page(doc(head=NOINDEX))),
    "index.noindex_sitewide": (
        sites(U("/", doc(head=NOINDEX)), U("/a", doc())),
        sites(U("/", doc()), U("/a", doc()), U("/b", doc(head=NOINDEX))),
    ),
    "index.deep_page": (page(doc(), path="/deep", depth=4), page(doc(), path="/deep", depth=3)),
    "index.orphan": (
        sites(U("/", doc()), U("/lonely", doc(), sitemaps=SM)),
        sites(U("/", doc(body='<a href="/lonely">Lonely</a>')), U("/lonely", doc(), sitemaps=SM)),
    ),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)


@pytest.mark.parametrize("head,headers,where", [
    (NOINDEX, {}, ["meta robots"]),
    ('<meta name="googlebot" content="noindex">', {}, ["meta googlebot"]),
    ('<meta name="robots" content="none">', {}, ["meta robots"]),
    ("", {"X-Robots-Tag": "noindex"}, ["X-Robots-Tag"]),
    ("", {"X-Robots-Tag": "googlebot: noindex"}, ["X-Robots-Tag googlebot"]),
])
def test_noindex_sources(head: str, headers: dict[str, str], where: list[str]) -> None:
    (finding,) = page(doc(head=head), headers=headers).run("index.noindex")
    assert finding.details["where"] == where


def test_noindex_for_another_bot_only_does_not_count() -> None:
    assert page(doc(head='<meta name="bingbot" content="noindex">')).run("index.noindex") == []


def test_nofollow_from_header() -> None:
    (finding,) = page(doc(), headers={"X-Robots-Tag": "nofollow"}).run("index.nofollow_page")
    assert finding.message == "Page-level nofollow (X-Robots-Tag)"


def test_noindex_sitewide_states_the_share_on_the_start_url() -> None:
    site = site_from_pages([U("/", doc(head=NOINDEX)), U("/a", doc(head=NOINDEX)), U("/b", doc()),
                            U("/c", status=404), U("/d", status=301, location="/b")])
    (finding,) = site.run("index.noindex_sitewide")
    assert finding.url == "https://example.com/"
    assert finding.message == "67% of HTML pages are noindex (2 of 3; max 50%)"
    assert site.run("index.noindex_sitewide", max_share=0.7) == []


def test_deep_page_message_and_sitemap_only_pages() -> None:
    (finding,) = page(doc(), path="/deep", depth=5).run("index.deep_page")
    assert finding.message == "Page is 5 clicks from the start URL (max 3)"
    assert page(doc(), path="/deep", depth=None).run("index.deep_page") == []


def test_orphan_needs_an_indexable_page_and_never_flags_the_start_url() -> None:
    site = site_from_pages([
        U("/", doc(), sitemaps=SM),
        U("/lonely", doc(), sitemaps=SM),
        U("/hidden", doc(head=NOINDEX), sitemaps=SM),
        U("/gone", status=404, sitemaps=SM),
        U("/unlisted", doc()),
    ])
    (finding,) = site.run("index.orphan")
    assert finding.url == "https://example.com/lonely"
    assert finding.details["sitemaps"] == ["https://example.com/sitemap.xml"]
