"""emaudit.extract: HTML bytes → PageFacts, on precise fixtures and on hostile input."""

from __future__ import annotations

import hashlib
import html
import json
import logging
import random

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emaudit import extract as extract_module
from emaudit.extract import (
    ANCHOR_CAP,
    MAX_REFS,
    TEXT_CAP,
    TITLE_CAP,
    decode_html,
    extract,
    parse_link_header,
    parse_robots_directives,
    simhash64,
)
from emaudit.models import PageFacts, Ref

URL = "https://example.com/dir/page.html"


def facts_of(html: str | bytes, url: str = URL, **kwargs) -> PageFacts:
    body = html.encode("utf-8") if isinstance(html, str) else html
    return extract(body, url, **kwargs)


def refs(facts: PageFacts, kind: str) -> list[Ref]:
    return [r for r in facts.refs if r.kind == kind]


def page(head: str = "", body: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


class GuardWatcher(logging.Handler):
    """Records the warnings extract() logs when one of its passes fails."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def guard() -> GuardWatcher:
    watcher = GuardWatcher()
    extract_module.LOGGER.addHandler(watcher)
    yield watcher
    extract_module.LOGGER.removeHandler(watcher)


# ----------------------------------------------------------------------------------- decoding

FRENCH = (
    "<p>Les randonneurs expérimentés savent qu'une bonne chaussure fait toute la différence. "
    "Téléchargez notre guide gratuit : vous y trouverez des conseils pratiques pour choisir la "
    "pointure, l'accroche et la matière. Nos équipes ont testé chaque modèle en été.</p>"
)


def test_decode_bom_wins_over_header():
    text, encoding, source, errors = decode_html(b"\xef\xbb\xbf<p>caf\xc3\xa9</p>", "text/html; charset=iso-8859-1")
    assert (text, encoding, source, errors) == ("<p>café</p>", "utf-8", "bom", False)


def test_decode_utf16_bom():
    text, encoding, source, _ = decode_html("\ufeff<title>Ü</title>".encode("utf-16-le"), None)
    assert (text, encoding, source) == ("<title>Ü</title>", "utf-16-le", "bom")


def test_decode_header_charset_wins_over_meta():
    body = '<meta charset="utf-8"><p>café</p>'.encode("cp1252")
    text, encoding, source, errors = decode_html(body, 'text/html; charset="ISO-8859-1"')
    assert (encoding, source, errors) == ("cp1252", "header", False)  # WHATWG: latin-1 → windows-1252
    assert "café" in text


def test_iso_8859_1_page_with_meta_charset_and_no_header_charset():
    html = f'<html><head><meta charset="ISO-8859-1"><title>Télécharger “le” guide</title></head><body>{FRENCH}</body></html>'
    facts = facts_of(html.encode("cp1252"), content_type="text/html")
    assert (facts.encoding, facts.encoding_source, facts.decode_errors) == ("cp1252", "meta", False)
    assert facts.charset_meta == "ISO-8859-1"
    assert facts.titles == ["Télécharger “le” guide"]


def test_http_equiv_charset_is_a_meta_charset():
    html = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251"><title>Привет</title>'
    facts = facts_of(html.encode("cp1251"))
    assert (facts.encoding, facts.encoding_source, facts.charset_meta) == ("cp1251", "meta", "windows-1251")
    assert facts.titles == ["Привет"]


def test_page_without_any_charset_is_detected():
    body = f"<html><head><title>Télécharger</title></head><body>{FRENCH}</body></html>".encode("latin-1")
    facts = facts_of(body, content_type="text/html")
    assert (facts.encoding, facts.encoding_source, facts.decode_errors) == ("cp1252", "detected", False)
    assert facts.titles == ["Télécharger"]


def test_utf8_without_declaration_is_detected_and_ascii_is_default():
    assert decode_html("<p>été</p>".encode(), None)[1:] == ("utf-8", "detected", False)
    assert decode_html(b"<p>plain</p>", None)[1:] == ("utf-8", "default", False)


def test_broken_bytes_are_replaced_and_flagged():
    body = b"<html><head><title>caf\xe9 \xff ok</title></head><body>\xc3\x28</body></html>"
    facts = facts_of(body, content_type="text/html; charset=utf-8")
    assert facts.decode_errors is True
    assert facts.titles == ["caf\ufffd \ufffd ok"]


@pytest.mark.parametrize("label", ["utf-7", "base64", "rot13", "x-unknown", "utf\x00-8"])
def test_unsafe_or_unknown_declared_charsets_are_ignored(label):
    _, encoding, source, _ = decode_html(b"<p>plain</p>", f"text/html; charset={label}")
    assert (encoding, source) == ("utf-8", "default")


def test_meta_declaring_utf16_means_utf8():
    assert decode_html('<meta charset="utf-16"><p>é</p>'.encode(), None)[1:3] == ("utf-8", "meta")


# ------------------------------------------------------------------------------ head facts


def test_titles_all_whitespace_collapsed_and_svg_titles_ignored():
    facts = facts_of(page("<title>  Mon \n  titre </title><title>Second</title>",
                          "<svg><title>icon</title></svg>"))
    assert facts.titles == ["Mon titre", "Second"]
    assert facts.title == "Mon titre"


def test_title_of_1mb_keeps_its_length_up_to_the_cap():
    facts = facts_of(page("<title>" + "T" * 1_000_000 + "</title>"))
    assert facts.titles == ["T" * TITLE_CAP]


def test_meta_descriptions_all_collapsed_and_capped():
    facts = facts_of(page('<meta name="description" content=" One \n two "><meta name="Description" content="">'
                          f'<meta name="description" content="{"d" * 5000}">'))
    assert facts.meta_descriptions == ["One two", "", "d" * TEXT_CAP]


def test_meta_robots_per_bot_merged_across_tags():
    facts = facts_of(page(
        '<meta name="robots" content="noindex, Follow"><meta name="ROBOTS" content="noarchive, noindex">'
        '<meta name="googlebot" content="nosnippet, max-snippet:50"><meta name="bingbot" content="none">'
        '<meta name="googlebot-news" content="noindex"><meta name="generator" content="WordPress">'
    ))
    assert facts.meta_robots == {
        "robots": ["noindex", "follow", "noarchive"],
        "googlebot": ["nosnippet", "max-snippet:50"],
        "bingbot": ["none"],
        "googlebot-news": ["noindex"],
    }
    assert facts.noindex and facts.robots_directives("bingbot") >= {"noindex", "nofollow"}


def test_x_robots_tag_googlebot_specific_from_list_and_any_case():
    facts = facts_of(page(), headers={"X-ROBOTS-TAG": ["googlebot: noindex, nofollow", "noarchive"]})
    assert facts.x_robots_tag == {"googlebot": ["noindex", "nofollow"], "robots": ["noarchive"]}
    assert facts.robots_directives("googlebot") == {"noindex", "nofollow", "noarchive"}
    assert facts.robots_directives("bingbot") == {"noarchive"}


def test_x_robots_tag_from_httpx_headers_keeps_repeated_headers_apart():
    headers = httpx.Headers([("x-robots-tag", "googlebot: noindex"), ("X-Robots-Tag", "nofollow")])
    assert facts_of(page(), headers=headers).x_robots_tag == {"googlebot": ["noindex"], "robots": ["nofollow"]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("noindex", {"robots": ["noindex"]}),
        ("NOINDEX , NoFollow,", {"robots": ["noindex", "nofollow"]}),
        ("googlebot: noindex, nofollow", {"googlebot": ["noindex", "nofollow"]}),
        ("max-snippet: 50, max-image-preview:large", {"robots": ["max-snippet:50", "max-image-preview:large"]}),
        ("unavailable_after: 25 Jun 2010 15:00:00 PST", {"robots": ["unavailable_after:25 jun 2010 15:00:00 pst"]}),
        ("unavailable_after: Friday, 25-Jun-10 15:00:00 PST, noarchive",
         {"robots": ["unavailable_after:friday, 25-jun-10 15:00:00 pst", "noarchive"]}),
        ("noindex, googlebot: nofollow, otherbot: noarchive",
         {"robots": ["noindex"], "googlebot": ["nofollow"], "otherbot": ["noarchive"]}),
        ("googlebot:", {}),
        ("", {}),
    ],
)
def test_parse_robots_directives(value, expected):
    assert parse_robots_directives(value) == expected


def test_parse_link_header():
    value = ('<https://e.com/a>; rel="canonical", <https://e.com/fr>; rel=alternate; hreflang="FR-fr"; '
             'title="a, b \\"c\\"", garbage, <//e.com/n>;rel="next prev";rel=ignored;url_raw=x')
    assert parse_link_header(value) == [
        {"url_raw": "https://e.com/a", "rel": "canonical", "hreflang": None},
        {"url_raw": "https://e.com/fr", "rel": "alternate", "hreflang": "fr-fr", "title": 'a, b "c"'},
        {"url_raw": "//e.com/n", "rel": "next prev", "hreflang": None},
    ]
    assert parse_link_header("") == [] and parse_link_header("no links here") == []


def test_canonicals_in_head_and_body_raw_and_resolved():
    facts = facts_of(page('<link rel="canonical" href="other.html?x=1#top">',
                          '<link rel="Canonical" href="/body-canonical">'))
    assert facts.canonicals == [
        {"raw": "other.html?x=1#top", "url": "https://example.com/dir/other.html?x=1", "source": "link", "in_head": True},
        {"raw": "/body-canonical", "url": "https://example.com/body-canonical", "source": "link", "in_head": False},
    ]
    assert [(r.url, r.extra) for r in refs(facts, "canonical")] == [
        ("https://example.com/dir/other.html?x=1", {"source": "link"}),
        ("https://example.com/body-canonical", {"source": "link"}),
    ]


def test_link_header_canonical_and_hreflang_resolve_against_the_page_not_the_base():
    headers = {"link": '</canon>; rel="canonical", <de.html>; rel="alternate"; hreflang="DE"'}
    facts = facts_of(page('<base href="https://cdn.example.net/x/">'), headers=headers)
    assert facts.canonicals == [
        {"raw": "/canon", "url": "https://example.com/canon", "source": "header", "in_head": None},
    ]
    assert facts.hreflangs == [
        {"lang": "de", "raw": "de.html", "url": "https://example.com/dir/de.html", "source": "header", "in_head": None},
    ]
    assert [(r.kind, r.anchor, r.extra) for r in facts.refs] == [
        ("canonical", "", {"source": "header"}), ("hreflang", "de", {"source": "header"}),
    ]


def test_hreflangs_lower_cased_with_x_default():
    facts = facts_of(page('<link rel="alternate" hreflang=" FR-be " href="/be/">'
                          '<link rel="alternate" hreflang="x-default" href="https://example.com/">'
                          '<link rel="alternate" href="/feed" type="application/rss+xml">'))
    assert [(h["lang"], h["url"], h["in_head"]) for h in facts.hreflangs] == [
        ("fr-be", "https://example.com/be/", True), ("x-default", "https://example.com/", True),
    ]
    assert [r.anchor for r in refs(facts, "hreflang")] == ["fr-be", "x-default"]


def test_simple_head_facts():
    facts = facts_of('<html lang=" fr-FR "><head><meta charset="UTF-8">'
                     '<meta name="viewport" content="width=device-width, initial-scale=1"></head></html>')
    assert (facts.html_lang, facts.charset_meta, facts.viewport) == ("fr-FR", "UTF-8", "width=device-width, initial-scale=1")
    assert (facts_of(page()).html_lang, facts_of('<html lang=""></html>').html_lang) == (None, "")
    assert facts_of('<html xml:lang="en"><p>x</p></html>').html_lang == "en"


@pytest.mark.parametrize(
    ("content", "delay", "url"),
    [
        ("5; url=/x", 5.0, "https://example.com/x"),
        ("0;URL='https://other.example/y'", 0.0, "https://other.example/y"),
        ("3.5, url = next.html", 3.5, "https://example.com/dir/next.html"),
        ("10", 10.0, None),
        ("url=/only", None, "https://example.com/only"),
        ('1; "quoted.html" trailing', 1.0, "https://example.com/dir/quoted.html"),
    ],
)
def test_meta_refresh_forms(content, delay, url):
    facts = facts_of(page(f'<meta http-equiv="Refresh" content="{html.escape(content)}">'))
    assert facts.meta_refresh == {"delay": delay, "raw": content, "url": url}
    assert [r.url for r in refs(facts, "refresh")] == ([url] if url else [])


def test_rel_next_prev_and_their_refs():
    facts = facts_of(page('<link rel="next" href="?page=3"><link rel="prev" href="?page=1">'))
    assert (facts.rel_next, facts.rel_prev) == ("https://example.com/dir/page.html?page=3",
                                                "https://example.com/dir/page.html?page=1")
    assert [(r.kind, r.raw) for r in facts.refs] == [("next", "?page=3"), ("prev", "?page=1")]


def test_opengraph_and_twitter_first_value_wins():
    facts = facts_of(page('<meta property="og:title" content="First"><meta property="OG:Title" content="Second">'
                          '<meta property="og:image" content="/a.png"><meta name="twitter:card" content="summary">'
                          '<meta name="twitter:card" content="player"><meta property="twitter:site" content="@ex">'))
    assert facts.opengraph == {"og:title": "First", "og:image": "/a.png"}
    assert facts.twitter == {"twitter:card": "summary", "twitter:site": "@ex"}


# ----------------------------------------------------------------------------- base href


def test_base_href_is_honoured_for_every_relative_url():
    facts = facts_of(page(
        '<base href="/assets/v2/"><link rel="stylesheet" href="s.css"><script src="app.js"></script>'
        '<link rel="canonical" href="canon"><meta http-equiv="refresh" content="9;url=later">',
        '<a href="a.html">a</a><img src="i.png" alt=""><form action="send"></form><iframe src="f.html"></iframe>'
        '<a href="/root">root</a><a href="//cdn.example.org/x">proto</a>'
    ))
    assert facts.base_href == "/assets/v2/"
    resolved = {(r.kind, r.raw): r.url for r in facts.refs}
    base = "https://example.com/assets/v2/"
    assert resolved == {
        ("css", "s.css"): base + "s.css", ("script", "app.js"): base + "app.js",
        ("canonical", "canon"): base + "canon", ("refresh", "later"): base + "later",
        ("a", "a.html"): base + "a.html", ("img", "i.png"): base + "i.png", ("form", "send"): base + "send",
        ("iframe", "f.html"): base + "f.html", ("a", "/root"): "https://example.com/root",
        ("a", "//cdn.example.org/x"): "https://cdn.example.org/x",
    }


def test_first_base_with_href_wins_even_in_body():
    facts = facts_of(page("<base target=_blank>", '<base href="https://other.example/b/"><a href="x">x</a>'
                                                  '<base href="/ignored/">'))
    assert refs(facts, "a")[0].url == "https://other.example/b/x"


def test_form_without_action_submits_to_the_page_not_the_base():
    facts = facts_of(page('<base href="/elsewhere/">', '<form method=" POST "></form><form action="">'))
    assert facts.forms == [{"raw": None, "url": URL, "method": "post"}, {"raw": "", "url": URL, "method": "get"}]


# --------------------------------------------------------------------------------- body facts


def test_headings_in_document_order_with_img_alt():
    facts = facts_of(page(body='<h2>Before</h2><h1>Télécharger <img src="l.png" alt="Logo"> <b>le</b>\n guide</h1>'
                               "<div><h3>Deep <span>one</span></h3></div><h6>Six<br>lines</h6>"))
    assert facts.headings == [(2, "Before"), (1, "Télécharger Logo le guide"), (3, "Deep one"), (6, "Six lines")]
    assert facts.h1s == ["Télécharger Logo le guide"]


def test_heading_text_is_capped():
    assert facts_of(page(body="<h2>" + "h" * 5000 + "</h2>")).headings == [(2, "h" * TEXT_CAP)]


def test_word_count_counts_french_words_and_skips_code():
    facts = facts_of(page(
        "<title>Not counted</title><style>p { color: red }</style>",
        "<p>Télécharger le guide de l'été</p><script>var notCounted = 1;</script>"
        "<noscript>not counted</noscript><template><p>not counted</p></template>"
        "<svg><title>not counted</title><text>nope</text></svg><p>Où ça ?</p>",
    ))
    assert facts.word_count == 8  # télécharger le guide de l été où ça


def test_decomposed_accents_are_one_word():
    assert facts_of(page(body="<p>Te\u0301le\u0301charger</p>")).word_count == 1


def test_minified_blocks_do_not_glue_words():
    facts = facts_of(page(body="<ul><li><a href=/a>Home</a></li><li><a href=/b>Shop</a></li></ul>"
                               "<p>One</p><p>Two<br>Three</p><table><tr><td>Four</td><td>Five</td></tr></table>"))
    assert facts.word_count == 7
    assert [r.anchor for r in refs(facts, "a")] == ["Home", "Shop"]


def test_chrome_is_excluded_only_when_main_or_article_exists():
    chrome = "<header>Site banner</header><nav>Menu items</nav><aside>Side stuff</aside><footer>Legal notice</footer>"
    assert facts_of(page(body=chrome + "<div>Main words here</div>")).word_count == 11
    assert facts_of(page(body=chrome + "<main>Main words here</main>")).word_count == 3
    in_article = "<article><header>Article title</header><p>Body text</p><footer>By me</footer></article>"
    assert facts_of(page(body=chrome + in_article)).word_count == 6


def test_content_hash_and_simhash_of_the_main_text():
    facts = facts_of(page(body="<main><p>Hello   World</p><p>Second  line</p></main><footer>x</footer>"))
    assert facts.content_hash == hashlib.sha1(b"hello world second line").hexdigest()
    assert facts.simhash == simhash64(["hello", "world", "second", "line"])
    same = facts_of(page(body="<main>HELLO world\n\nsecond LINE</main>"))
    assert (same.content_hash, same.simhash) == (facts.content_hash, facts.simhash)
    empty = facts_of(page(body="<p> — · — </p>"))
    assert (empty.word_count, empty.content_hash, empty.simhash) == (0, None, None)


def test_simhash_properties():
    words = [f"w{i % 97}" for i in range(600)]
    near = words[:300] + ["changed"] * 5 + words[305:]
    shuffled = list(reversed(words))
    distance = lambda a, b: bin((a ^ b) & (2**64 - 1)).count("1")  # noqa: E731
    assert simhash64([]) is None
    assert simhash64(words) == simhash64(list(words))  # deterministic
    assert simhash64(["deux", "mots"]) == 4605348933469362813  # stable across processes and versions
    assert distance(simhash64(words), simhash64(near)) <= 6
    assert distance(simhash64(words), simhash64(shuffled)) >= 16
    assert all(-(2**63) <= simhash64(w) < 2**63 for w in (["a"], words, [str(i) for i in range(5000)]))


def test_text_digested_in_slices_gives_the_same_facts(monkeypatch):
    html = page(body="<p>" + " ".join(f"mot{i % 50} été" for i in range(3000)) + "</p>")
    whole = facts_of(html)
    monkeypatch.setattr(extract_module, "TEXT_SLICE", 1000)
    sliced = facts_of(html)
    assert (sliced.word_count, sliced.content_hash, sliced.simhash) == (whole.word_count, whole.content_hash, whole.simhash)
    assert whole.word_count == 6000


def test_jsonld_types_graph_errors_and_cap():
    facts = facts_of(page(
        '<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"x"}</script>'
        '<script type="application/ld+json">[{"@type":["Organization","Brand"]},'
        '{"@graph":[{"@type":"WebSite"},{"@type":"BreadcrumbList"},{"@type":"Organization"}]}]</script>'
        '<script type="application/ld+json">{"name": "trailing comma",}</script>'
        '<script type="application/ld+json">{"text": "raw\nnewline"}</script>'
        '<script type="Application/LD+JSON; charset=utf-8">{"@type": "Event"}</script>'
        f'<script type="application/ld+json">{{"big": "{"x" * 1_000_001}"}}</script>'
    ))
    assert [j["types"] for j in facts.jsonld] == [["Product"], ["Organization", "Brand", "WebSite", "BreadcrumbList"],
                                                  [], [], ["Event"], []]
    assert facts.jsonld[0]["data"] == {"@context": "https://schema.org", "@type": "Product", "name": "x"}
    assert facts.jsonld[0]["error"] is None
    assert facts.jsonld[2]["data"] is None and facts.jsonld[2]["error"].startswith("Expecting property name")
    assert facts.jsonld[3]["data"] == {"text": "raw\nnewline"}  # control characters tolerated, as Google does
    assert facts.jsonld[5]["error"] == "block of 1,000,012 characters exceeds 1,000,000"


def test_microdata_itemtypes():
    facts = facts_of(page(body='<div itemscope itemtype="https://schema.org/Product  https://schema.org/Thing">'
                               '<span itemprop="offers" itemscope itemtype="https://schema.org/Offer"></span></div>'
                               '<div itemscope itemtype="https://schema.org/Product"></div>'))
    assert facts.microdata_types == ["https://schema.org/Product", "https://schema.org/Thing", "https://schema.org/Offer"]


def test_forms_and_iframes():
    facts = facts_of(page(body='<form action="/search?q=" method="get"></form><form action="https://pay.example/x" '
                               'method="post"></form><iframe src="https://www.youtube.com/embed/x"></iframe><iframe></iframe>'))
    assert facts.forms == [
        {"raw": "/search?q=", "url": "https://example.com/search?q=", "method": "get"},
        {"raw": "https://pay.example/x", "url": "https://pay.example/x", "method": "post"},
    ]
    assert facts.iframes == 2
    assert [(r.kind, r.url) for r in facts.refs if r.kind in ("form", "iframe")] == [
        ("form", "https://example.com/search?q="), ("form", "https://pay.example/x"),
        ("iframe", "https://www.youtube.com/embed/x"),
    ]


def test_mixed_content_only_on_https_pages():
    body = ('<img src="http://img.example/a.png"><script src="http://js.example/a.js"></script>'
            '<link rel="stylesheet" href="http://css.example/a.css"><iframe src="http://frame.example/"></iframe>'
            '<video src="http://v.example/v.mp4"><source src="http://v.example/v.webm"></video>'
            '<audio src="http://a.example/a.mp3"></audio><img src="https://ok.example/b.png">'
            '<img src="http://img.example/a.png"><a href="http://link.example/">links are not resources</a>')
    assert facts_of(page(body=body)).mixed_content == [
        "http://js.example/a.js", "http://img.example/a.png", "http://css.example/a.css", "http://frame.example/",
        "http://v.example/v.mp4", "http://v.example/v.webm", "http://a.example/a.mp3",
    ]
    assert facts_of(page(body=body), url="http://example.com/").mixed_content == []


# --------------------------------------------------------------------------- tracking, CMPs


def script(src: str = "", inline: str = "") -> str:
    return f'<script src="{src}"></script>' if src else f"<script>{inline}</script>"


TRACKERS = [
    (script(src="https://www.googletagmanager.com/gtag/js?id=G-1A2B3C4D5E"), "ga4", "G-1A2B3C4D5E"),
    (script(inline="gtag('config', 'UA-12345678-1');"), "universal_analytics", "UA-12345678-1"),
    (script(inline="})(window,document,'script','dataLayer','GTM-ABC1234');"), "gtm", "GTM-ABC1234"),
    (script(src="https://www.googletagmanager.com/gtm.js?id=GTM-K9XZ7Q"), "gtm", "GTM-K9XZ7Q"),
    (script(inline="gtag('config', 'AW-987654321');"), "google_ads", "AW-987654321"),
    (script(inline="var _paq = window._paq = window._paq || []; _paq.push(['setSiteId', '7']);"
                   "g.src=u+'matomo.js';"), "matomo", "7"),
    (script(src="//stats.example.com/piwik.js"), "matomo", ""),
    (script(inline="s.src='https://connect.facebook.net/en_US/fbevents.js'; fbq('init', '1234567890123');"),
     "meta_pixel", "1234567890123"),
    (script(inline='_linkedin_partner_id = "1234567"; b.src = "https://snap.licdn.com/li.lms-analytics/insight.min.js";'),
     "linkedin_insight", "1234567"),
    (script(src="https://snap.licdn.com/li.lms-analytics/insight.min.js"), "linkedin_insight", ""),
    (script(inline="h._hjSettings={hjid:3456789,hjsv:6}; r.src=t+h._hjSettings.hjid; 'https://static.hotjar.com/c/hotjar-'"),
     "hotjar", "3456789"),
    (script(src="https://static.hotjar.com/c/hotjar-3456789.js?sv=6"), "hotjar", "3456789"),
    (script(inline='(function(c,l,a,r,i,t,y){})(window, document, "clarity", "script", "abcdef1234");'),
     "clarity", "abcdef1234"),
    (script(src="https://www.clarity.ms/tag/xyz987"), "clarity", "xyz987"),
    (script(inline="ttq.load('C4ABCDEF1234567890'); ttq.page();"), "tiktok_pixel", "C4ABCDEF1234567890"),
    (script(src="https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=C5XYZ&lib=ttq"), "tiktok_pixel", "C5XYZ"),
    (script(inline="!function(e){}('https://s.pinimg.com/ct/core.js'); pintrk('load', '2612345678901');"),
     "pinterest_tag", "2612345678901"),
    (script(inline='(function(w,d,t,r,u){var o={ti:"12345678", enableAutoSpaPageTracking: true};'
                   'n.src="//bat.bing.com/bat.js";})'), "bing_uet", "12345678"),
    (script(src="https://plausible.io/js/script.js"), "plausible", ""),
    (script(src="//tag.aticdn.net/123456/smarttag.js"), "at_internet", "123456"),
    (script(inline='pa.setConfigurations({ site: 654321, collectDomain: "https://x.pa-cd.com" });'),
     "at_internet", "654321"),
    (script(inline="var tag = new ATInternet.Tracker.Tag({log: 'logs', site: 555555});"), "at_internet", "555555"),
]


@pytest.mark.parametrize(("html", "vendor", "tag_id"), TRACKERS, ids=[f"{v}-{i}" for i, (_, v, _) in enumerate(TRACKERS)])
def test_tracking_vendor(html, vendor, tag_id):
    assert facts_of(page(html)).tracking == [{"vendor": vendor, "id": tag_id}]


def test_tracking_deduplicated_across_sources():
    html = (script(src="https://www.googletagmanager.com/gtag/js?id=G-1A2B3C4D5E")
            + script(inline="gtag('config', 'G-1A2B3C4D5E'); gtag('config', 'G-ZZZZZZ9999');")
            + script(inline="gtag('config','G-1A2B3C4D5E')"))
    assert facts_of(page(html)).tracking == [{"vendor": "ga4", "id": "G-1A2B3C4D5E"},
                                             {"vendor": "ga4", "id": "G-ZZZZZZ9999"}]


def test_tracking_ids_need_boundaries_and_big_json_only_gets_google_ids():
    assert facts_of(page(script(inline="var x = 'SG-ABCDEFGH'; var y = 'G-ABCDEFGHIJKLMNOP';"))).tracking == []
    blob = '{"gtmId": "GTM-BIG1234", "pixel": "fbq(\'init\', \'1\')", "pad": "' + "x" * 20_000 + '"}'
    facts = facts_of(page(f'<script id="__NEXT_DATA__" type="application/json">{blob}</script>'))
    assert facts.tracking == [{"vendor": "gtm", "id": "GTM-BIG1234"}]


CMPS = [
    (script(src="https://sdk.privacy-center.org/abc/loader.js?target=example.com"), "didomi"),
    (script(inline="window.didomiConfig = {};"), "didomi"),
    (script(src="https://cdn.cookielaw.org/scripttemplates/otSDKStub.js"), "onetrust"),
    (script(inline="function OptanonWrapper() { }"), "onetrust"),
    (script(inline='window.axeptioSettings = {clientId: "x"}; e.src = "//static.axept.io/sdk.js";'), "axeptio"),
    (script(src="https://consent.cookiebot.com/uc.js"), "cookiebot"),
    (script(src="/tarteaucitron/tarteaucitron.js"), "tarteaucitron"),
    (script(src="https://app.usercentrics.eu/browser-ui/latest/loader.js"), "usercentrics"),
    (script(inline="var url = 'https://cmp.quantcast.com'.concat('/choice/', 'abc', '/', host, '/choice.js');"),
     "quantcast"),
    (script(src="https://cache.consentframework.com/js/pa/12345/c/abc/stub"), "sirdata"),
    (script(src="https://cdn-cookieyes.com/client_data/abc/script.js"), "cookieyes"),
    (script(src="https://cdn.iubenda.com/cs/iubenda_cs.js"), "iubenda"),
    (script(src="https://consent.trustarc.com/notice?domain=example.com"), "trustarc"),
    (script(src="/wp-content/plugins/complianz-gdpr/cookiebanner/js/complianz.min.js"), "complianz"),
]


@pytest.mark.parametrize(("html", "cmp"), CMPS, ids=[f"{c}-{i}" for i, (_, c) in enumerate(CMPS)])
def test_consent_management_platform(html, cmp):
    facts = facts_of(page(html))
    assert (facts.cmps, facts.tracking) == ([cmp], [])


def test_no_tracking_and_no_cmp_on_a_plain_page():
    facts = facts_of(page(script(inline="console.log('hello');"), "<p>didomi in text is not a script</p>"))
    assert (facts.tracking, facts.cmps) == ([], [])


# ----------------------------------------------------------------------------------- refs


def test_links_every_a_in_order_with_their_attributes():
    facts = facts_of(page(body=(
        '<a href="/x">  Click \n here </a><a href="/x">Again</a><a name="top">No href</a>'
        '<a href="javascript:void(0)">JS</a><a href="mailto:a@example.com">Mail</a>'
        '<a href="https://e.org/p" rel="NoFollow  UGC" aria-label=" Label " title="T" onclick="go()">'
        '<img src="a.png" alt="First"><img src="b.png"><img src="c.png" alt="Second">text</a>'
        '<a href="/s" rel="sponsored ugc">Sponsored</a><a href="/i"><img src="i.png"></a>'
        '<a href="/svg"><svg><title>Icon</title></svg>Shop</a>'
    )))
    assert [(r.url, r.raw, r.anchor, r.rel, r.nofollow, r.alt, r.extra) for r in refs(facts, "a")] == [
        ("https://example.com/x", "/x", "Click here", "", False, None, None),
        ("https://example.com/x", "/x", "Again", "", False, None, None),
        (None, None, "No href", "", False, None, None),
        (None, "javascript:void(0)", "JS", "", False, None, None),
        ("mailto:a@example.com", "mailto:a@example.com", "Mail", "", False, None, None),
        ("https://e.org/p", "https://e.org/p", "text", "nofollow ugc", True, "First Second",
         {"aria_label": "Label", "title": "T", "onclick": True}),
        ("https://example.com/s", "/s", "Sponsored", "sponsored ugc", False, None, None),
        ("https://example.com/i", "/i", "", "", False, "", None),
        ("https://example.com/svg", "/svg", "Shop", "", False, None, None),
    ]


@pytest.mark.parametrize(("attrs", "extra"), [
    ('aria-label="A"', {"aria_label": "A"}),
    ('title=" T  t "', {"title": "T t"}),
    ("onclick=\"go()\"", {"onclick": True}),
    ('class="c" id="i" data-x="1"', None),
    ('rel="  "', None),
])
def test_link_extra_holds_each_attribute_alone(attrs, extra):
    ref = refs(facts_of(page(body=f'<a href="/x" {attrs}>x</a>')), "a")[0]
    assert (ref.extra, ref.rel, ref.nofollow) == (extra, "", False)


def test_anchor_is_capped():
    assert refs(facts_of(page(body=f'<a href="/">{"a" * 1000}</a>')), "a")[0].anchor == "a" * ANCHOR_CAP


def test_images_scripts_and_stylesheets():
    facts = facts_of(page(
        '<script async src="/a.js"></script><script defer src="/b.js"></script><script src="/c.js"></script>'
        '<link rel="stylesheet" href="/s.css"><link rel="preload stylesheet" href="/p.css">',
        '<img src="/x.png" alt=" A  photo " width="400" height="300" loading="lazy"><img src="/y.png" alt="">'
        '<img src="/z.png"><img alt="no src">'
    ))
    assert [(r.raw, r.extra) for r in refs(facts, "script")] == [
        ("/a.js", {"async": True}), ("/b.js", {"defer": True}), ("/c.js", None),
    ]
    assert [r.url for r in refs(facts, "css")] == ["https://example.com/s.css", "https://example.com/p.css"]
    assert [(r.url, r.alt, r.anchor, r.extra) for r in refs(facts, "img")] == [
        ("https://example.com/x.png", "A photo", "A photo", {"width": "400", "height": "300", "loading": "lazy"}),
        ("https://example.com/y.png", "", "", None),
        ("https://example.com/z.png", None, "", None),
        (None, "no src", "no src", None),
    ]


def test_strip_query_applies_to_every_url():
    facts = facts_of(page('<link rel="canonical" href="/p?utm_source=x&id=1">', '<a href="/q?utm_medium=y">q</a>'),
                     strip_query=("utm_*",))
    assert [r.url for r in facts.refs] == ["https://example.com/p?id=1", "https://example.com/q"]


def test_refs_are_capped_and_the_cap_is_reported():
    facts = facts_of(page(body="".join(f'<a href="/p/{i}">{i}</a>' for i in range(MAX_REFS + 50))))
    assert len(facts.refs) == MAX_REFS and facts.refs_truncated
    assert facts.refs[-1].raw == f"/p/{MAX_REFS - 1}"
    assert not facts_of(page(body='<a href="/">x</a>')).refs_truncated


def test_facts_survive_a_json_round_trip():
    facts = facts_of(page('<title>T</title><script type="application/ld+json">{"@type":"Thing"}</script>',
                          "<h1>H</h1><p>words here</p>"))
    again = PageFacts.from_json_dict(json.loads(json.dumps(facts.to_json_dict())), refs=facts.refs)
    assert again == facts


# ---------------------------------------------------------------------------- robustness


def nested(depth: int) -> bytes:
    return b"<html><head><title>deep</title></head><body>" + b"<div>" * depth + b"x" + b"</div>" * depth + b"</body></html>"


HOSTILE = {
    "empty": b"",
    "zero-bytes": b"\x00" * 10_000,
    "nul-inside": b"<title>a\x00b</title><p>x\x00y</p>",
    "invalid-utf8": b"<meta charset=utf-8><title>caf\xe9 \xff\xfe\xc3\x28</title><body>\xa0\xa1 text \xed\xa0\x80",
    "binary": random.Random(1).randbytes(200_000),
    "pdf-as-html": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + random.Random(2).randbytes(50_000),
    "nested-100k": nested(100_000),
    "nested-a-100k": b"<a href=/x>" * 100_000,
    "nested-h1-100k": b"<h1>" * 100_000 + b"x",
    "broken-jsonld": b'<script type="application/ld+json">{"a": [1, 2,</script><script type="application/ld+json">'
    + b"[" * 100_000 + b"</script>",
    "unclosed": b"<html><head><title>unclosed</title><body><div><p><a href='/y'>y<table><tr><td>z",
    "xhtml": b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
    b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html xmlns="http://www.w3.org/1999/xhtml" '
    b'xml:lang="en"><head><title>X</title></head><body><h1>Hi</h1><svg:svg xmlns:svg="http://www.w3.org/2000/svg">'
    b'<svg:title>icon</svg:title></svg:svg><a href="/z">z</a></body></html>',
    "no-html": b"<title>T</title><p>Just text <a href=/q>q</a>",
    "control-chars": b"<p>one\x01two</p><p>three\x0bfour</p><p>five\x1fsix</p>seven\x02",
    "utf16-no-bom": "<title>x</title>".encode("utf-16-le"),
    "huge-attributes": b'<a href="/' + b"x" * 2_000_000 + b'" title="' + b"t" * 1_000_000 + b'">a</a>',
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_never_raises(name, guard):
    facts = extract(HOSTILE[name], URL, content_type="text/html")
    assert isinstance(facts, PageFacts)
    assert guard.records == []
    assert len(facts.refs) <= MAX_REFS and all(len(t) <= TITLE_CAP for t in facts.titles)


def test_hostile_pages_keep_what_can_be_learned():
    assert facts_of(HOSTILE["nested-100k"]).titles == ["deep"]  # libxml2 drops what is deeper than 255
    assert facts_of(HOSTILE["unclosed"]).titles == ["unclosed"]
    assert [r.url for r in facts_of(HOSTILE["unclosed"]).refs] == ["https://example.com/y"]
    xhtml = facts_of(HOSTILE["xhtml"])
    assert (xhtml.titles, xhtml.html_lang, xhtml.h1s, [r.raw for r in xhtml.refs]) == (["X"], "en", ["Hi"], ["/z"])
    assert facts_of(HOSTILE["no-html"]).titles == ["T"] and facts_of(HOSTILE["no-html"]).word_count == 3
    assert facts_of(HOSTILE["nul-inside"]).titles == ["a\ufffdb"]
    control = facts_of(HOSTILE["control-chars"])
    # No text is lost: lxml refuses control characters, so a tail holding one keeps no separator
    # ("six" + "seven\x02" glue); everything else is counted.
    assert control.word_count == 6
    assert [j["error"] is not None for j in facts_of(HOSTILE["broken-jsonld"]).jsonld] == [True, True]
    invalid = facts_of(HOSTILE["invalid-utf8"], content_type="text/html")
    assert invalid.decode_errors and invalid.titles[0].startswith("caf\ufffd")


def test_100k_links_are_capped():
    body = b"<html><body>" + b" ".join(b'<a href="/p/%d">link %d</a>' % (i, i) for i in range(100_000)) + b"</body></html>"
    facts = extract(body, URL)
    assert len(refs(facts, "a")) == MAX_REFS and facts.refs_truncated
    assert facts.word_count == 200_000


def test_10mb_single_line():
    body = b"<html><head><title>line</title></head><body><p>" + b"word " * 1_900_000
    facts = extract(body, URL, content_type="text/html")
    assert (facts.titles, facts.word_count) == (["line"], 1_900_000)


def test_a_bug_in_a_pass_keeps_the_facts_learned_so_far(monkeypatch, guard):
    def broken(self, el):
        raise RuntimeError("boom")

    monkeypatch.setitem(extract_module._HANDLERS, "img", broken)
    facts = facts_of(page("<title>T</title>", '<img src="/x.png">'), headers={"X-Robots-Tag": "noindex"})
    assert (facts.encoding, facts.x_robots_tag) == ("utf-8", {"robots": ["noindex"]})
    assert [r.getMessage() for r in guard.records] == [f"extraction failed on {URL}; keeping the facts found so far"]


HTML_PIECES = st.sampled_from([
    "<a href='", "'>", "<a href=/x rel=nofollow>", "</a>", "<img src=", " alt=", "<title>", "</title>",
    "<script>", "</script>", "<script type='application/ld+json'>", '{"@type":', '"Thing"}', "[", "]",
    "<meta name=robots content='", "<meta http-equiv=refresh content='", "noindex, googlebot: nofollow",
    "<base href=", "<link rel=canonical href=", "<link rel=alternate hreflang=", "<h1>", "</h1>", "<svg>",
    "<noscript>", "<main>", "<nav>", "<article>", "<header>", "<form action=", "<iframe src=", "<br>", "<p>",
    "</p>", " ", "mot", "été", "\x00", "\x01", "\ufeff", "G-ABCDEF1234", "fbq('init','1')", "didomi",
    "http://", "https://", "//", "#", "?", "javascript:", "mailto:", "&amp;", "&#0;", "<!--", "-->", "<?xml",
    "<![CDATA[", "]]>", '"', "'", ">", "<", "\n", "\t", "\udcff",
])


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=2_000), content_type=st.sampled_from([None, "text/html", "text/html; charset=utf-16"]))
def test_property_arbitrary_bytes_never_raise(body, content_type):
    watcher = GuardWatcher()
    extract_module.LOGGER.addHandler(watcher)
    try:
        facts = extract(body, URL, content_type=content_type, headers={"link": body.decode("latin-1")})
    finally:
        extract_module.LOGGER.removeHandler(watcher)
    assert isinstance(facts, PageFacts) and watcher.records == []  # no pass failed, not even silently


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(HTML_PIECES, max_size=60), url=st.sampled_from([URL, "http://example.com/", "https://例え.jp/ü?q"]))
def test_property_html_like_input_never_raises(pieces, url):
    watcher = GuardWatcher()
    extract_module.LOGGER.addHandler(watcher)
    try:
        facts = extract("".join(pieces).encode("utf-8", "surrogatepass"), url,
                        headers={"X-Robots-Tag": "".join(pieces), "Link": "".join(pieces)})
    finally:
        extract_module.LOGGER.removeHandler(watcher)
    assert isinstance(facts, PageFacts) and watcher.records == []


@settings(max_examples=200, deadline=None)
@given(value=st.text(max_size=200))
def test_property_header_parsers_never_raise(value):
    assert isinstance(parse_robots_directives(value), dict)
    assert all(isinstance(link["url_raw"], str) for link in parse_link_header(value))
