"""Redirect rules: reported where a chain or loop starts, temporary statuses, meta refresh."""

from __future__ import annotations

import pytest
from rulekit import U, bad_good_tests, doc, page, site_from_pages, sites, url

OK = url("/ok", status=200, content_type="text/html")
REFRESH = '<meta http-equiv="refresh" content="{}">'

FIXTURES = {
    "redirect.internal": (url("/old", status=301, location="/new"), OK),
    "redirect.chain": (
        sites(U("/a", status=301, location="/b"), U("/b", status=301, location="/c"), U("/c", doc()), path="/a"),
        sites(U("/a", status=301, location="/c"), U("/c", doc()), path="/a"),
    ),
    "redirect.loop": (
        sites(U("/a", status=301, location="/b", source_kind="a"), U("/b", status=301, location="/a"), path="/a"),
        sites(U("/a", status=301, location="/b"), U("/b", doc()), path="/a"),
    ),
    "redirect.temporary": (url("/old", status=302, location="/new"), url("/old", status=301, location="/new")),
    "redirect.meta_refresh": (page(doc(head=REFRESH.format("0; url=/new"))), page(doc(head=REFRESH.format("300")))),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)

CHAIN = [U("/a", status=301, location="/b"), U("/b", status=301, location="/c"), U("/c", status=301, location="/d"),
         U("/d", doc())]


def test_chain_is_reported_on_its_first_url_with_hops() -> None:
    site = site_from_pages(CHAIN)
    (finding,) = site.run("redirect.chain", "/a")
    assert finding.message == "Redirect chain of 3 hops before the final answer (200)"
    assert finding.details["hops"] == 3
    assert site.run("redirect.chain", "/b") == []  # a hop of /a's chain, not linked from anywhere


def test_a_linked_hop_starts_its_own_chain() -> None:
    site = site_from_pages([*CHAIN, U("/", doc(body='<a href="/b">b</a>'), depth=0)])
    assert site.run("redirect.chain", "/b")[0].details["hops"] == 2


def test_loop_is_an_error_not_a_chain() -> None:
    site = site_from_pages([U("/a", status=301, location="/b", source_kind="a"), U("/b", status=302, location="/c"),
                            U("/c", status=301, location="/a")])
    assert site.run("redirect.loop", "/a")[0].message == "Redirect loop after 3 hops"
    assert site.run("redirect.chain", "/a") == []
    assert site.run("redirect.loop", "/b") == []


def test_chain_threshold_is_an_option() -> None:
    fixture = FIXTURES["redirect.chain"][1].build()
    assert fixture.run("redirect.chain", "/a", min_hops=1)[0].details["observed"] == 1


@pytest.mark.parametrize("status,fires", [(302, True), (303, True), (307, True), (301, False), (308, False)])
def test_temporary_statuses(status: int, fires: bool) -> None:
    assert bool(url("/x", status=status, location="/y").run("redirect.temporary")) is fires


def test_internal_redirect_states_status_and_location() -> None:
    (finding,) = url("/old", status=308, location="/new").run("redirect.internal")
    assert finding.message == "Redirects (308) to /new"


def test_meta_refresh_states_target_and_delay() -> None:
    (finding,) = page(doc(head=REFRESH.format("5;URL='/next'"))).run("redirect.meta_refresh")
    assert finding.message == "Meta refresh redirects to https://example.com/next after 5 s"
    assert finding.details["target"] == "https://example.com/next"


def test_meta_refresh_to_itself_is_a_reload() -> None:
    assert page(doc(head=REFRESH.format("30; url=/")), path="/").run("redirect.meta_refresh") == []


def test_the_start_url_starts_its_loop() -> None:
    site = site_from_pages([U("/", status=301, location="/b"), U("/b", status=301, location="/")])
    assert site.run("redirect.loop", "/")[0].details["hops"] == 2
    assert site.run("redirect.loop", "/b") == []
