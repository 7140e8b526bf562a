"""hreflang rules (beyond the core catalogue): codes, self-reference, alternate targets, return links."""

from __future__ import annotations

import pytest
from rulekit import U, bad_good_tests, doc, page, site_from_pages, sites

from emaudit.rules.hreflang import code_problem


def alt(lang: str, href: str) -> str:
    return f'<link rel="alternate" hreflang="{lang}" href="{href}">'


SET = alt("en", "https://example.com/en/") + alt("fr", "https://example.com/fr/") + alt("x-default", "https://example.com/")

FIXTURES = {
    "hreflang.invalid_code": (page(doc(head=alt("en-UK", "/uk/")), path="/"), page(doc(head=alt("en-GB", "/uk/")))),
    "hreflang.missing_self": (page(doc(head=SET), path="/de/"), page(doc(head=SET), path="/fr/")),
    "hreflang.to_non_200": (
        sites(U("/fr/", doc(head=SET)), U("/en/", status=301, location="/en/home"), path="/fr/"),
        sites(U("/fr/", doc(head=SET)), U("/en/", doc(head=SET)), path="/fr/"),
    ),
    "hreflang.missing_return": (
        sites(U("/", doc(head=SET)), U("/fr/", doc(head=SET)), U("/en/", doc()), path="/fr/"),
        sites(U("/", doc(head=SET)), U("/fr/", doc(head=SET)), U("/en/", doc(head=SET)), path="/fr/"),
    ),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)


@pytest.mark.parametrize("code,problem", [
    ("en", None), ("en-gb", None), ("zh-hant", None), ("zh-hant-tw", None), ("x-default", None),
    ("en_us", "not a language[-script][-region] code"), ("english", "not a language[-script][-region] code"),
    ("es-419", "not a language[-script][-region] code"),
    ("en-uk", "'uk' is not an ISO 3166-1 region (use 'gb')"), ("fr-eu", "'eu' is not an ISO 3166-1 region"),
])
def test_code_problems(code: str, problem: str | None) -> None:
    assert code_problem(code) == problem


def test_link_header_alternates_are_checked_too() -> None:
    fixture = page(doc(), headers={"Link": '<https://example.com/de/>; rel="alternate"; hreflang="de_DE"'})
    (finding,) = fixture.run("hreflang.invalid_code")
    assert finding.details["values"] == [{"hreflang": "de_de", "problem": "not a language[-script][-region] code"}]


def test_to_non_200_once_per_target() -> None:
    site = site_from_pages([U("/fr/", doc(head=SET + alt("en-gb", "https://example.com/en/"))), U("/en/", status=404)])
    (finding,) = site.run("hreflang.to_non_200", "/fr/")
    assert finding.message == "hreflang en alternate https://example.com/en/ answers 404"


def test_missing_return_names_each_one_way_pair_once() -> None:
    # /en/ lists only itself and x-default (/): of the pairs, only /fr/ -> /en/ is one-way. /fr/
    # declares it twice (Link header and <link>): one finding, on /fr/.
    site = site_from_pages([
        U("/", doc(head=SET)),
        U("/fr/", doc(head=SET), headers={"Link": '<https://example.com/en/>; rel="alternate"; hreflang="en"'}),
        U("/en/", doc(head=alt("en", "https://example.com/en/") + alt("x-default", "https://example.com/"))),
    ])
    found = {path: [(f.details["target"], f.details["hreflang"], f.message) for f in site.run("hreflang.missing_return", path)]
             for path in ("/", "/fr/", "/en/")}
    assert found == {"/": [], "/en/": [], "/fr/": [
        ("https://example.com/en/", "en", "hreflang en alternate https://example.com/en/ does not link back to this page")]}


def test_missing_return_ignores_alternates_not_crawled_or_not_200() -> None:
    other_site = alt("de", "https://example.de/")  # another site: not crawled, not judged
    site = site_from_pages([
        U("/fr/", doc(head=alt("fr", "https://example.com/fr/") + alt("en", "https://example.com/en/") + other_site)),
        U("/en/", status=404),
    ])
    assert site.run("hreflang.missing_return", "/fr/") == []
