"""Property tests (hypothesis): URL normalisation and the extractor on any input.

robots.txt matching against Protego is property-tested in ``tests/test_robots.py``
(``test_agrees_with_protego`` and neighbours); the extractor's own never-raise properties on
bytes and HTML-like input are in ``tests/test_extract.py``. Here: the extractor with *any*
content type (charset labels included), and the URL invariants the crawler relies on.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from emaudit.extract import extract
from emaudit.models import PageFacts
from emaudit.urls import InvalidURL, Scope, normalise, origin_of, resolve

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
# Path/query characters, including ones that must be escaped, escapes, dots and non-ASCII.
PATH_CHARS = st.sampled_from(list(UNRESERVED + "!$&'()*+,;=:@/%?#[]{}|\\^` \"<>") + ["%41", "%2f", "%2F", "%7e", "%zz",
                                                                                     "%", "é", "日本", "\u0000", "..", "."])
HOSTS = st.sampled_from([
    "example.com", "EXAMPLE.com", "www.example.com.", "sub.example.co.uk", "127.0.0.1", "10.0.0.1", "[::1]", "[2001:DB8::1]",
    "bücher.de", "xn--bcher-kva.de", "localhost", "a-b.c", "1.2.3.4",
])
SCHEMES = st.sampled_from(["http", "https", "HTTP", "Https"])
PORTS = st.sampled_from(["", ":80", ":443", ":8080", ":0080"])


@st.composite
def urls(draw) -> str:
    scheme, host, port = draw(SCHEMES), draw(HOSTS), draw(PORTS)
    path = "/" + "".join(draw(st.lists(PATH_CHARS, max_size=12)))
    path = path.replace("?", "").replace("#", "")
    query = "".join(draw(st.lists(PATH_CHARS, max_size=8))).replace("#", "")
    fragment = draw(st.sampled_from(["", "#top", "#a?b"]))
    return f"{scheme}://{host}{port}{path}{'?' + query if query else ''}{fragment}"


def _norm(url: str) -> str:
    try:
        return normalise(url)
    except InvalidURL:
        assume(False)
        raise


@SETTINGS
@given(urls())
def test_normalise_is_idempotent(url):
    once = _norm(url)
    assert normalise(once) == once


@SETTINGS
@given(urls())
def test_normalised_url_keeps_the_inputs_origin(url):
    """Whatever the path or query holds (//host, @, \\, ../, escapes), the origin is the input's."""
    parts = urlsplit(url)
    once = _norm(url)
    assert origin_of(once) == origin_of(normalise(f"{parts.scheme}://{parts.netloc}/"))
    assert urlsplit(once).hostname == urlsplit(normalise(f"{parts.scheme}://{parts.netloc}/")).hostname


@SETTINGS
@given(urls(), st.lists(PATH_CHARS, max_size=10))
def test_relative_links_never_leave_the_site(base, pieces):
    """A relative reference (not scheme-relative, no scheme) resolves inside the base's origin."""
    base = _norm(base)
    raw = "".join(pieces).lstrip("/\\")  # "//x" and "\\x" are network-path references: not relative
    assume(not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", raw))
    target = resolve(base, raw)
    assume(target is not None)
    assert origin_of(target) == origin_of(base)
    assert Scope(start_url=base).is_internal(target)


def _reencode(url: str, picks: list[bool], upper: bool) -> str:
    """Percent-encode some unreserved characters of the path and query, and flip escape hex case."""
    parts = urlsplit(url)
    counter = iter(range(10**6))
    flip = str.lower if upper else str.upper

    def token(m: re.Match[str]) -> str:
        text = m.group(0)
        if text.startswith("%"):
            return "%" + flip(text[1:])
        if text in UNRESERVED and picks[next(counter) % len(picks)]:
            return ("%%%02X" if upper else "%%%02x") % ord(text)
        return text

    path, query = (re.sub(r"%[0-9A-Fa-f]{2}|.", token, t, flags=re.DOTALL) for t in (parts.path, parts.query))
    return f"{parts.scheme}://{parts.netloc}{path}{'?' + query if query else ''}"


@SETTINGS
@given(urls(), st.lists(st.booleans(), min_size=1, max_size=8), st.booleans())
def test_normalise_is_stable_under_reencoding(url, picks, upper):
    once = _norm(url)
    assert normalise(_reencode(once, picks, upper)) == once


@SETTINGS
@given(urls())
def test_normalised_url_has_no_fragment_space_or_control(url):
    once = _norm(url)
    assert "#" not in once and " " not in once
    assert not re.search(r"[\x00-\x20\x7f-\uffff]", once)
    assert re.fullmatch(r"https?://[^/?#]+/[^#]*", once)


CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from([
        "text/html", "TEXT/HTML; CHARSET=ISO-8859-1", "text/html; charset=utf-7", "text/html; charset=utf-32",
        "text/html; charset=x-unknown-42", "text/html; charset=", "text/html; charset=\"utf-8", "application/xhtml+xml",
        "text/html; charset=shift_jis", "text/html; charset=utf-16be", "text/html;;charset=gb18030;charset=latin1",
        "image/png", "application/octet-stream", "text/plain; charset=ebcdic-cp-us", "text/html; charset=cp037",
    ]),
    st.text(max_size=60),
)
BOMS = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00"])
HTML_BITS = st.sampled_from([
    b"<html>", b"<head>", b"<meta charset=utf-16>", b"<meta http-equiv=content-type content='text/html; charset=x-bogus'>",
    b"<title>", b"</title>", b"<a href='", b"'>", b"</a>", b"<base href='javascript:1'>", b"<link rel=canonical href=//x>",
    b"<!--", b"-->", b"<![CDATA[", b"<script>", b"</script>", b"\x00", b"\xff\xfe", b"&#0;", b"&#x110000;", b"&#xd800;",
    b"<svg><foreignObject><math>", b"<img src=\"data:,x\">", b"<meta name=robots content=noindex>", b"\xc3\x28", b"\xed\xa0\x80",
])


@SETTINGS
@given(bom=BOMS, body=st.binary(max_size=3000), content_type=CONTENT_TYPES)
def test_extract_never_raises_on_arbitrary_bytes(bom, body, content_type):
    facts = extract(bom + body, "http://example.com/page", content_type=content_type)
    assert isinstance(facts, PageFacts)


@SETTINGS
@given(bom=BOMS, bits=st.lists(HTML_BITS | st.binary(max_size=20), max_size=40), content_type=CONTENT_TYPES)
def test_extract_never_raises_on_html_soup(bom, bits, content_type):
    facts = extract(bom + b"".join(bits), "https://例え.jp/ü?q=1", content_type=content_type,
                    headers={"link": "<//x>; rel=canonical", "x-robots-tag": "noindex"})
    assert isinstance(facts, PageFacts)
    assert all(r.url is None or isinstance(r.url, str) for r in facts.refs)


@SETTINGS
@given(urls(), st.sampled_from(["a", "x.html", ".", "..", "./", "../", "9", "é", "A"]), st.lists(PATH_CHARS, max_size=10))
def test_relative_paths_resolve_the_same_against_the_page_and_its_directory(url, first, rest):
    """The parse cache keys relative paths on the base's directory (urls.directory_of):
    RFC 3986 merges a relative path with the base path up to its last "/", nothing else."""
    from emaudit.urls import directory_of

    base = _norm(url)
    raw = first + "".join(rest)
    assert resolve(base, raw) == resolve(directory_of(base), raw)


REF_STARTS = st.sampled_from(["", "/", "//", "/./", "/..", "x", "x.html", "9", "é", "./", "../", "?", "#", "a:", "mailto:",
                              "http://", "https://", "HTTP://", "http://example.com/", "https://www.example.com:8443/",
                              "http://EXAMPLE.com/", " /", "\t/", "javascript:"])


@SETTINGS
@given(urls(), st.sampled_from(["page", "origin", "directory", "raw"]), REF_STARTS, st.lists(PATH_CHARS, max_size=10),
       st.sampled_from([(), ("utm_*",)]))
def test_resolve_quick_agrees_with_resolve(url, base_form, start, rest, strip_query):
    """The parse cache resolves through urls.resolve_quick: its shortcut (plain concatenation
    checked by the clean-URL test) must give what the general path gives, for any base the
    extractor passes (a page URL, its origin + "/", its directory) and unnormalised ones too."""
    from emaudit.urls import directory_of, resolve_quick

    if base_form == "raw":
        base = url  # not normalised: upper-case scheme, default port, fragment, escapes …
    else:
        page = _norm(url)
        base = {"page": page, "origin": origin_of(page) + "/", "directory": directory_of(page)}[base_form]
    raw = start + "".join(rest)
    assert resolve_quick(base, raw, strip_query) == resolve(base, raw, strip_query)


@pytest.mark.parametrize(
    ("base", "raw", "expected"),
    [
        ("http://h.example/", "/p/x.html#top", "http://h.example/p/x.html"),
        ("http://h.example/a/", "x.html?utm_source=n&k=1", "http://h.example/a/x.html?k=1"),
        ("http://h.example/a/", "mailto:x@h.example", "mailto:x@h.example"),  # a scheme, not a path
        ("http://h.example/a/", "../x.html", "http://h.example/x.html"),
        ("http://h.example?q/a/", "/x", "http://h.example/x"),  # a query before any path
        ("http://h.example/a?b/", "x.html", "http://h.example/x.html"),  # a base whose query ends in "/"
        ("", "http://h.example/x?", "http://h.example/x"),
        ("http://h.example/", "//cdn.example/x.js", "http://cdn.example/x.js"),
    ],
)
def test_resolve_quick_cases(base, raw, expected):
    from emaudit.urls import resolve_quick

    assert resolve_quick(base, raw, ("utm_*",)) == expected
