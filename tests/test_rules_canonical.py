"""Canonical rules: declaration (missing, multiple, relative) and what the target turned out to be."""

from __future__ import annotations

import pytest
from rulekit import U, bad_good_tests, doc, page, site_from_pages, sites


def canon(href: str) -> str:
    return f'<link rel="canonical" href="{href}">'


SELF_A = doc(head=canon("https://example.com/a"))
NOINDEX = '<meta name="robots" content="noindex">'

FIXTURES = {
    "canonical.missing": (page(doc()), page(doc(head=canon("https://example.com/")))),
    "canonical.multiple": (
        page(doc(head=canon("https://example.com/") + canon("https://example.com/?page=1"))),
        page(doc(head=canon("https://example.com/") + canon("https://example.com/"))),
    ),
    "canonical.relative": (page(doc(head=canon("/"))), page(doc(head=canon("https://example.com/")))),
    "canonical.canonicalised": (page(doc(head=canon("https://example.com/b")), path="/a"), page(SELF_A, path="/a")),
    "canonical.to_non_200": (
        sites(U("/a", doc(head=canon("/old"))), U("/old", status=301, location="/new"), path="/a"),
        sites(U("/a", doc(head=canon("/b"))), U("/b", doc(head=canon("/b"))), path="/a"),
    ),
    "canonical.to_noindex": (
        sites(U("/a", doc(head=canon("/b"))), U("/b", doc(head=NOINDEX)), path="/a"),
        sites(U("/a", doc(head=canon("/b"))), U("/b", doc()), path="/a"),
    ),
    "canonical.chain": (
        sites(U("/a", doc(head=canon("/b"))), U("/b", doc(head=canon("/c"))), U("/c", doc()), path="/a"),
        sites(U("/a", doc(head=canon("/c"))), U("/b", doc(head=canon("/c"))), U("/c", doc()), path="/a"),
    ),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)


def test_link_header_conflicting_with_the_tag() -> None:
    fixture = page(doc(head=canon("https://example.com/a")), path="/a",
                   headers={"Link": '<https://example.com/b>; rel="canonical"'})
    (finding,) = fixture.run("canonical.multiple")
    assert finding.details["canonicals"] == ["https://example.com/b", "https://example.com/a"]
    assert finding.details["sources"] == ["header", "link"]


def test_link_header_agreeing_with_the_tag() -> None:
    fixture = page(SELF_A, path="/a", headers={"Link": '<https://example.com/a>; rel="canonical"'})
    assert fixture.run("canonical.multiple") == []


@pytest.mark.parametrize("href", ["a", "/a", "//example.com/a", "?page=2"])
def test_relative_forms(href: str) -> None:
    (finding,) = page(doc(head=canon(href))).run("canonical.relative")
    assert finding.details["observed"] == href


def test_missing_applies_to_indexable_pages_only() -> None:
    site = page(doc(head=NOINDEX)).build()
    assert not site.applies("canonical.missing", "/")


@pytest.mark.parametrize("target,status", [
    (U("/t", status=404), 404),
    (U("/t", status=500), 500),
    (U("/t", status=None, error_kind="timeout"), "timeout"),
    (U("/t", state="blocked", status=None), "blocked by robots.txt"),
])
def test_to_non_200_target_states(target: U, status: object) -> None:
    site = site_from_pages([U("/a", doc(head=canon("/t"))), target])
    (finding,) = site.run("canonical.to_non_200", "/a")
    assert finding.details == {"target": "https://example.com/t", "status": status}


def test_unfetched_external_canonical_target_is_not_judged() -> None:
    assert page(doc(head=canon("https://other.example.org/a"))).run("canonical.to_non_200") == []


def test_chain_names_the_next_hop() -> None:
    (finding,) = FIXTURES["canonical.chain"][0].run("canonical.chain")
    assert finding.message == "Canonical https://example.com/b is canonicalised again to https://example.com/c"
