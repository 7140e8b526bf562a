"""emaudit.sitemaps: the parser (safety, caps, checks) — no network except a local trap server."""

from __future__ import annotations

import gzip
import time
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emaudit.sitemaps import (
    INDEX,
    INVALID,
    MAX_PROBLEMS_PER_KIND,
    MAX_URLS,
    URLSET,
    _loc_key,
    gunzip_capped,
    iter_sitemap,
    parse_sitemap,
    parse_w3c_datetime,
)
from emaudit.urls import normalise

NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITE = "https://ex.com/sitemap.xml"
NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)


def urlset(*items: str, ns: str | None = NS, head: str = "") -> bytes:
    xmlns = f' xmlns="{ns}"' if ns else ""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{head}<urlset{xmlns}>\n{"".join(items)}</urlset>\n'.encode()


def url(loc: str, lastmod: str | None = None, extra: str = "") -> str:
    mod = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    return f"<url><loc>{loc}</loc>{mod}{extra}</url>\n"


def kinds(doc) -> list[str]:
    return [p["kind"] for p in doc.problems]


# --------------------------------------------------------------------------- documents


def test_urlset_entries_fields_and_lines() -> None:
    image = '<image:image><image:loc>https://ex.com/i.png</image:loc></image:image>'
    alt = '<xhtml:link rel="alternate" hreflang="de" href="https://ex.com/de/a"/>'
    body = urlset(
        url("https://ex.com/a", "2024-01-02", image + alt + "<changefreq>weekly</changefreq><priority>0.8</priority>"),
        url(" https://ex.com/b ", "2024-03-04T10:00:00+02:00"),
    ).replace(b"<urlset ", b'<urlset xmlns:image="http://www.google.com/schemas/sitemap-image/1.1" xmlns:xhtml="http://www.w3.org/1999/xhtml" ')
    doc = parse_sitemap(body, SITE, now=NOW)
    assert (doc.kind, doc.format, doc.error, doc.problems) == (URLSET, "xml", None, [])
    assert [e.loc for e in doc.entries] == ["https://ex.com/a", "https://ex.com/b"]
    first = doc.entries[0]
    assert (first.line, first.lastmod, first.changefreq, first.priority, first.images, first.alternates) == (3, "2024-01-02", "weekly", "0.8", 1, 1)
    assert (doc.url_count, doc.truncated, doc.namespace) == (2, False, NS)
    assert (doc.lastmod_min, doc.lastmod_max) == ("2024-01-02", "2024-03-04T10:00:00+02:00")
    assert doc.uncompressed_bytes == len(body)


def test_sitemap_index_lists_children() -> None:
    body = (
        f'<sitemapindex xmlns="{NS}"><sitemap><loc>https://ex.com/s1.xml</loc><lastmod>2024-01-01</lastmod></sitemap>'
        "<sitemap><loc>https://ex.com/s2.xml.gz</loc></sitemap></sitemapindex>"
    ).encode()
    doc = parse_sitemap(body, SITE, now=NOW)
    assert doc.kind == INDEX
    assert [(e.loc, e.lastmod) for e in doc.entries] == [("https://ex.com/s1.xml", "2024-01-01"), ("https://ex.com/s2.xml.gz", None)]


def test_gzip_body_is_decompressed() -> None:
    body = urlset(url("https://ex.com/a"), url("https://ex.com/b"))
    doc = parse_sitemap(gzip.compress(body), SITE + ".gz")
    assert doc.compressed and doc.kind == URLSET
    assert [e.loc for e in doc.entries] == ["https://ex.com/a", "https://ex.com/b"]
    assert doc.uncompressed_bytes == len(body)


def test_gunzip_capped_multi_member_and_cap() -> None:
    data = gzip.compress(b"abc") + gzip.compress(b"def")
    assert gunzip_capped(data, 100) == (b"abcdef", False)
    assert gunzip_capped(data, 4) == (b"abcd", True)


def test_corrupt_gzip_is_invalid_not_an_exception() -> None:
    doc = parse_sitemap(gzip.compress(urlset(url("https://ex.com/a")))[:-30], SITE)
    assert doc.kind == INVALID and doc.error


def test_gzip_bomb_stops_at_the_cap() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (64 * 1024 * 1024) + b"</urlset>", compresslevel=9)
    assert len(bomb) < 200_000
    started = time.monotonic()
    out, cut = gunzip_capped(bomb, 1_000_000)
    assert (len(out), cut) == (1_000_000, True)
    doc = parse_sitemap(bomb, SITE, max_bytes=2_000_000)
    assert doc.truncated and doc.uncompressed_bytes == 2_000_000
    assert "sitemap.too_large" in kinds(doc)
    assert time.monotonic() - started < 5


def test_binary_garbage_is_not_a_sitemap() -> None:
    doc = parse_sitemap(gzip.compress(b"\0" * 1_000_000), SITE)
    assert doc.kind == INVALID and kinds(doc) == ["sitemap.not_a_sitemap"]


# --------------------------------------------------------------------------- safety


def test_external_entity_is_never_read(tmp_path, httpserver) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    head = (
        f'<!DOCTYPE urlset [<!ENTITY file SYSTEM "{secret.as_uri()}">'
        f'<!ENTITY net SYSTEM "{httpserver.url_for("/xxe")}">]>\n'
    )
    body = urlset(url("https://ex.com/a&file;"), url("https://ex.com/b&net;"), head=head)
    doc = parse_sitemap(body, SITE)
    text = repr(doc)
    assert "TOP-SECRET-MARKER" not in text
    assert [e.loc for e in doc.entries] == ["https://ex.com/a", "https://ex.com/b"]
    assert "sitemap.doctype" in kinds(doc)
    assert httpserver.log == []  # no_network: the entity URL was never requested


def test_external_dtd_is_never_loaded(httpserver) -> None:
    head = f'<!DOCTYPE urlset SYSTEM "{httpserver.url_for("/evil.dtd")}">\n'
    doc = parse_sitemap(urlset(url("https://ex.com/a"), head=head), SITE)
    assert [e.loc for e in doc.entries] == ["https://ex.com/a"]
    assert httpserver.log == []


def test_billion_laughs_is_not_expanded() -> None:
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    ]
    head = f"<!DOCTYPE urlset [{''.join(entities)}]>\n"
    started = time.monotonic()
    doc = parse_sitemap(urlset(url("https://ex.com/&lol9;"), head=head), SITE)
    assert time.monotonic() - started < 2
    assert all(len(e.loc) < 100 for e in doc.entries)
    assert doc.uncompressed_bytes < 5000
    assert doc.kind == INVALID or "sitemap.doctype" in kinds(doc)


# --------------------------------------------------------------------------- invalid documents


def test_malformed_xml_keeps_entries_before_the_error() -> None:
    body = urlset(url("https://ex.com/a"), url("https://ex.com/b"), "<url><loc>https://ex.com/c</url>\n", url("https://ex.com/d"))
    doc = parse_sitemap(body, SITE)
    assert doc.kind == INVALID
    assert "line 5" in doc.error and "mismatch" in doc.error
    assert [e.loc for e in doc.entries] == ["https://ex.com/a", "https://ex.com/b"]
    assert kinds(doc) == ["sitemap.invalid_xml"]


def test_unclosed_document_is_invalid() -> None:
    doc = parse_sitemap(urlset(url("https://ex.com/a"))[:-10], SITE)
    assert doc.kind == INVALID and [e.loc for e in doc.entries] == ["https://ex.com/a"]


@pytest.mark.parametrize("body", [b"<html><body><a href='/x'>x</a></body></html>", b'<rss version="2.0"><channel/></rss>'])
def test_wrong_root_is_invalid(body: bytes) -> None:
    doc = parse_sitemap(body, SITE)
    assert doc.kind == INVALID and "root element" in doc.error and doc.entries == []


@pytest.mark.parametrize("body", [b"", b"  \n\t", b"\xef\xbb\xbf\n"])
def test_empty_document(body: bytes) -> None:
    doc = parse_sitemap(body, SITE)
    assert doc.kind == INVALID and kinds(doc) == ["sitemap.empty"]


@pytest.mark.parametrize("ns, expected", [(None, ["sitemap.namespace"]), ("http://www.google.com/schemas/sitemap/0.84", ["sitemap.namespace"])])
def test_missing_or_wrong_namespace_is_tolerated(ns: str | None, expected: list[str]) -> None:
    doc = parse_sitemap(urlset(url("https://ex.com/a"), ns=ns), SITE)
    assert doc.kind == URLSET and [e.loc for e in doc.entries] == ["https://ex.com/a"]
    assert kinds(doc) == expected


def test_missing_loc() -> None:
    doc = parse_sitemap(urlset("<url><lastmod>2024-01-01</lastmod></url>", url("https://ex.com/a")), SITE)
    assert kinds(doc) == ["sitemap.missing_loc"] and doc.url_count == 1


# --------------------------------------------------------------------------- text sitemaps


def test_text_sitemap() -> None:
    body = b"\xef\xbb\xbfhttps://ex.com/a\r\n\nhttps://ex.com/b\nnot-a-url\nhttps://ex.com/a"
    doc = parse_sitemap(body, "https://ex.com/sitemap.txt")
    assert (doc.kind, doc.format) == (URLSET, "text")
    assert [(e.loc, e.line) for e in doc.entries] == [
        ("https://ex.com/a", 1), ("https://ex.com/b", 3), ("not-a-url", 4), ("https://ex.com/a", 5)
    ]
    assert kinds(doc) == ["sitemap.relative_loc", "sitemap.duplicate_loc"]


def test_text_sitemap_with_an_endless_line_stops() -> None:
    doc = parse_sitemap(b"h" * 1_000_000, "https://ex.com/sitemap.txt")
    assert doc.kind == INVALID and kinds(doc) == ["sitemap.not_a_sitemap"]


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize("value", [
    "2024", "2024-02", "2024-02-29", "2024-02-29T10:00Z", "2024-02-29T10:00+01:00",
    "2024-02-29T10:00:59-05:30", "2024-02-29T10:00:59.123Z",
])
def test_valid_w3c_datetimes(value: str) -> None:
    assert parse_w3c_datetime(value) is not None


@pytest.mark.parametrize("value", [
    "", "24", "2023-02-29", "2024-13-01", "2024-1-1", "2024-01-01T10:00", "2024-01-01 10:00:00Z",
    "2024-01-01T25:00Z", "2024-01-01T10:00:00+0100", "2024-01-01T10:00+24:00", "yesterday", "01/02/2024",
])
def test_invalid_w3c_datetimes(value: str) -> None:
    assert parse_w3c_datetime(value) is None


def test_bad_and_future_lastmod() -> None:
    doc = parse_sitemap(
        urlset(
            url("https://ex.com/a", "2024-13-01"),
            url("https://ex.com/b", "2024-06-01T20:00Z"),  # within a day: clock skew, fine
            url("https://ex.com/c", "2024-06-03"),
            url("https://ex.com/d", "2025"),
        ),
        SITE,
        now=NOW,
    )
    assert kinds(doc) == ["sitemap.invalid_lastmod", "sitemap.future_lastmod", "sitemap.future_lastmod"]
    assert [p["loc"] for p in doc.problems] == ["https://ex.com/a", "https://ex.com/c", "https://ex.com/d"]
    assert doc.problems[0]["line"] == 3


def test_changefreq_and_priority() -> None:
    extra = "<changefreq>sometimes</changefreq><priority>1.5</priority>"
    doc = parse_sitemap(urlset(url("https://ex.com/a", extra=extra)), SITE)
    assert kinds(doc) == ["sitemap.invalid_changefreq", "sitemap.invalid_priority"]


def test_relative_and_cross_host_locs() -> None:
    doc = parse_sitemap(
        urlset(
            url("/relative"), url("ftp://ex.com/x"), url("https://other.com/a"), url("http://ex.com/a"),
            url("https://ex.com:8443/a"), url("https://EX.com/ok"), url("https://ex.com:443/ok2"),
        ),
        SITE,
    )
    assert kinds(doc) == ["sitemap.relative_loc", "sitemap.relative_loc", "sitemap.cross_host", "sitemap.cross_host", "sitemap.cross_host"]
    messages = [p["message"] for p in doc.problems[2:]]
    assert messages == [
        "loc is on other.com, the sitemap on ex.com",
        "loc uses http while the sitemap uses https",
        "loc is on ex.com:8443, the sitemap on ex.com",
    ]


def test_cross_host_allowed_through_robots_origin() -> None:
    doc = parse_sitemap(urlset(url("https://www.ex.com/a")), "https://cdn.ex.net/sitemap.xml", allowed_origins=["https://www.ex.com"])
    assert doc.problems == []


def test_local_file_has_no_host_to_compare() -> None:
    assert parse_sitemap(urlset(url("https://ex.com/a")), "/tmp/sitemap.xml").problems == []


def test_duplicates_are_compared_normalised() -> None:
    doc = parse_sitemap(urlset(url("https://ex.com/a"), url("https://EX.com:443/a#top"), url("https://ex.com/b")), SITE)
    assert kinds(doc) == ["sitemap.duplicate_loc"] and doc.problems[0]["line"] == 4


def test_too_long_loc() -> None:
    doc = parse_sitemap(urlset(url("https://ex.com/" + "a" * 2100)), SITE)
    assert kinds(doc) == ["sitemap.loc_too_long"]


def test_problems_are_capped_per_kind_but_counted() -> None:
    doc = parse_sitemap(urlset(*(url(f"https://ex.com/{i}", "bad") for i in range(150))), SITE)
    assert len(doc.problems) == MAX_PROBLEMS_PER_KIND
    assert doc.problem_counts == {"sitemap.invalid_lastmod": 150} and doc.problem_total == 150


def test_60k_urls_are_counted_but_capped() -> None:
    body = urlset(*(f"<url><loc>https://ex.com/p{i}</loc></url>" for i in range(60_000)))
    started = time.monotonic()
    doc = parse_sitemap(body, SITE)
    assert time.monotonic() - started < 10
    assert doc.url_count == MAX_URLS + 1 and len(doc.entries) == MAX_URLS and doc.truncated
    assert doc.entries[-1].loc == "https://ex.com/p49999"
    assert kinds(doc) == ["sitemap.too_many_urls"]
    assert doc.problems[0]["message"] == "Sitemap lists more than 50,000 URLs"


def test_max_entries_stops_reading() -> None:
    body = urlset(*(url(f"https://ex.com/{i}") for i in range(20)))
    doc = parse_sitemap(body, SITE, max_entries=5)
    assert (doc.url_count, len(doc.entries), doc.truncated, doc.problems) == (5, 5, True, [])
    assert parse_sitemap(body, SITE, max_entries=20).truncated is False
    text = parse_sitemap(b"https://ex.com/1\nhttps://ex.com/2\nhttps://ex.com/3\n", SITE, max_entries=2)
    assert (text.url_count, text.truncated) == (2, True)


def test_over_50_mb_is_flagged() -> None:
    padding = " " * 1000
    body = urlset(*(url(f"https://ex.com/{i}") + padding for i in range(2000)))
    doc = parse_sitemap(body, SITE, max_bytes=1_000_000)
    assert doc.truncated and kinds(doc) == ["sitemap.too_large"] and doc.kind == URLSET
    assert 900 < doc.url_count < 1000


def test_iter_sitemap_streams_without_keeping() -> None:
    body = urlset(*(url(f"https://ex.com/{i}") for i in range(10)))
    stream = iter_sitemap(body, SITE)
    assert next(stream).loc == "https://ex.com/0"
    assert [e.loc for e in stream][-1] == "https://ex.com/9"


# --------------------------------------------------------------------------- duplicate keys

_URL_CHARS = "abcAB09-._~!$&'()*+,;=:@/?%#. é"


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([
        "https://ex.com/", "http://a-b.c.d/x/", "https://ex.com", "https://Ex.com/", "https://ex.com:443/", "http://ex.com:80/",
        "https://ex.com:80/", "http://localhost:8080/", "http://127.0.0.1:99999/", "http://ex.com:0443/",
    ]),
    st.text(_URL_CHARS, max_size=25),
)
def test_loc_key_fast_path_agrees_with_normalise(prefix: str, tail: str) -> None:
    loc = prefix + tail
    try:
        expected = normalise(loc)
    except ValueError:
        expected = loc
    assert _loc_key(loc) == expected
