"""Link rules: target statuses once per (page, target), anchors, nofollow, crawlability."""

from __future__ import annotations

import pytest
from rulekit import Fixture, U, bad_good_tests, doc, page, site_from_pages


def links(body: str, lang: str | None = "en", others: tuple[U, ...] = ()) -> Fixture:
    return page(doc(body=body, lang=lang), others=others)


GONE = U("/gone", status=404)
OLD = U("/old", status=301, location="/new")

FIXTURES = {
    "links.broken": (links('<a href="/gone">Spring offer</a>', others=(GONE,)), links('<a href="/offer">Spring offer</a>')),
    "links.to_redirect": (links('<a href="/old">About</a>', others=(OLD,)), links('<a href="/new">About</a>', others=(OLD,))),
    "links.internal_nofollow": (
        links('<a href="/pricing" rel="nofollow">Pricing</a>'),
        links('<a href="/pricing">Pricing</a><a href="https://ads.example.net/" rel="nofollow sponsored">Ad</a>'),
    ),
    "links.generic_anchor": (links('<a href="/guide/seo">Read more</a>'), links('<a href="/guide/seo">Read our SEO guide</a>')),
    "links.empty_anchor": (
        links('<a href="/cart"><svg><title>cart</title></svg></a>'),
        links('<a href="/cart" aria-label="Shopping cart"><svg></svg></a><a href="/"><img src="/l.png" alt="Acme home"></a>'),
    ),
    "links.uncrawlable": (links('<a onclick="go(\'/shoes\')">Shoes</a>'), links('<a href="/shoes" onclick="track()">Shoes</a>')),
    "links.dead_end": (
        links('<a href="https://other.example.org/">Partner</a><a href="#top">Top</a>'),
        links('<a href="/shop">Keep shopping</a>'),
    ),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)


def test_broken_is_one_finding_per_source_and_target() -> None:
    site = site_from_pages([
        U("/", doc(body='<a href="/gone">a</a><a href="/gone">b</a><a href="/gone#x">c</a><a href="/down">d</a>')),
        GONE, U("/down", status=503),
    ])
    findings = site.run("links.broken", "/")
    assert [(f.details["target"], f.details["status"]) for f in findings] == [
        ("https://example.com/gone", 404), ("https://example.com/down", 503)]
    assert findings[0].message == "Links to https://example.com/gone which answers 404"
    assert findings[0].details["anchor"] == "a"
    assert len({f.fingerprint for f in findings}) == 2


def test_broken_counts_no_response_and_ignores_refusals() -> None:
    site = site_from_pages([
        U("/", doc(body='<a href="/slow">s</a><a href="/login">l</a><a href="/busy">b</a>')),
        U("/slow", status=None, error_kind="timeout"), U("/login", status=401), U("/busy", status=429),
    ])
    assert [f.details["status"] for f in site.run("links.broken", "/")] == ["timeout"]
    assert len(site.run("links.broken", "/", ignore_statuses=())) == 3


def test_broken_external_links_are_not_judged() -> None:
    assert links('<a href="https://other.example.org/gone">x</a>').run("links.broken") == []


def test_to_redirect_details() -> None:
    (finding,) = FIXTURES["links.to_redirect"][0].run("links.to_redirect")
    assert finding.details["target"] == "https://example.com/old" and finding.details["status"] == 301
    assert finding.details["hops"] == 1 and finding.details["final_status"] == 200


def test_internal_nofollow_lists_targets() -> None:
    (finding,) = links('<a href="/a" rel="nofollow">A</a><a href="/b" rel="ugc nofollow">B</a>').run("links.internal_nofollow")
    assert finding.message == "2 internal link(s) with rel=nofollow"
    assert finding.details["targets"] == ["https://example.com/a", "https://example.com/b"]


@pytest.mark.parametrize("anchor", ["Click here", "  read   MORE  ", "Read more »", "here.", "Learn more →"])
def test_generic_english_anchors(anchor: str) -> None:
    assert links(f'<a href="/guide">{anchor}</a>').run("links.generic_anchor")


@pytest.mark.parametrize("anchor", ["Cliquez ici", "ici", "En savoir plus", "Lire la suite", "Voir plus", "plus"])
def test_generic_french_anchors(anchor: str) -> None:
    assert links(f'<a href="/guide">{anchor}</a>', lang="fr-FR").run("links.generic_anchor")


def test_generic_list_follows_the_page_language() -> None:
    assert links('<a href="/guide">click here</a>', lang="fr").run("links.generic_anchor") == []
    assert links('<a href="/guide">cliquez ici</a>', lang=None).run("links.generic_anchor")  # unknown: every list


def test_generic_anchor_lists_are_an_option() -> None:
    site = links('<a href="/a">hier</a><a href="/b">Read more</a>', lang="de").build()
    (finding,) = site.run("links.generic_anchor", "/", anchors={"de": ["hier", "mehr"]})
    assert finding.details["links"] == [{"target": "https://example.com/a", "anchor": "hier"}]


def test_generic_anchor_ignores_non_web_links() -> None:
    assert links('<a href="mailto:a@example.com">here</a>').run("links.generic_anchor") == []


def test_empty_anchor_counts_links_and_accepts_image_alt() -> None:
    site = links('<a href="/a"><img src="/i.png"></a><a href="/b"> </a><a href="/c"><img src="/j.png" alt="Boots"></a>').build()
    (finding,) = site.run("links.empty_anchor", "/")
    assert finding.details["hrefs"] == ["/a", "/b"]


@pytest.mark.parametrize("html,reason", [
    ('<a href="javascript:void(0)">Shoes</a>', "javascript: href"),
    ('<a href="JavaScript:go()">Shoes</a>', "javascript: href"),
    ('<a href="">Shoes</a>', "empty href"),
    ('<a onclick="go()">Shoes</a>', "no href, onclick"),
])
def test_uncrawlable_reasons(html: str, reason: str) -> None:
    (finding,) = links(html).run("links.uncrawlable")
    assert finding.details["links"][0]["reason"] == reason


def test_anchor_without_href_or_onclick_is_not_a_link() -> None:
    assert links('<a name="top">Top</a><a href="/x">X</a>').run("links.uncrawlable") == []


def test_dead_end_ignores_links_to_itself() -> None:
    (finding,) = links('<a href="/">Home</a>').run("links.dead_end")
    assert finding.message == "No internal links (1 link(s) in total)"
