"""Status rules: real errors versus bot walls, and robots.txt blocks."""

from __future__ import annotations

import pytest
from rulekit import U, absolute, bad_good_tests, doc, page, site_from_pages, url

OK = url("/ok", status=200, content_type="text/html")

FIXTURES = {
    "status.client_error": (url("/gone", status=404), OK),
    "status.server_error": (url("/fails", status=500), OK),
    "status.no_response": (url("/slow", status=None, error_kind="timeout", error="read timeout after 20 s"), OK),
    "status.bot_protection": (url("/private", status=403), OK),
    "status.blocked_by_robots": (url("/cart", state="blocked", status=None), OK),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)

CHALLENGES = [
    pytest.param(U("/p", status=403, headers={"cf-mitigated": "challenge", "server": "cloudflare"}), id="cf-403"),
    pytest.param(U("/p", status=503, headers={"cf-mitigated": "challenge"}), id="cf-503"),
    pytest.param(U("/p", doc("Just a moment..."), headers={"server": "cloudflare"}), id="cf-title-200"),
    pytest.param(U("/p", doc("Attention Required! | Cloudflare")), id="cf-attention-title"),
    pytest.param(U("/p", doc("Access to this page has been denied.")), id="perimeterx-title"),
    pytest.param(U("/p", doc("Blocked", head='<script src="https://ct.captcha-delivery.com/c.js"></script>')),
                 id="datadome-captcha"),
    # (A real crawl does not record an iframe's target: test_crawl's unrecorded-targets test.)
    pytest.param(U("/p", doc("Blocked", body='<iframe src="https://geo.captcha-delivery.com/captcha/?k=1"></iframe>')),
                 id="datadome-iframe"),
    pytest.param(U("/p", status=405, headers={"x-datadome": "protected"}), id="datadome-405"),
    pytest.param(U("/p", status=400, headers={"server": "AkamaiGHost"}), id="akamai-400"),
]


@pytest.mark.parametrize("challenge", CHALLENGES)
def test_bot_challenge_pages_are_bot_protection_not_errors(challenge: U) -> None:
    site = site_from_pages([challenge])
    (finding,) = site.run("status.bot_protection", "/p")
    assert "challenge" in finding.message or "block" in finding.message or "captcha" in finding.message
    assert finding.details["marker"]
    assert site.run("status.client_error", "/p") == []
    assert site.run("status.server_error", "/p") == []


@pytest.mark.parametrize("status", [401, 403, 429])
def test_refusals_are_bot_protection_not_client_errors(status: int) -> None:
    site = site_from_pages([U("/p", status=status)])
    assert site.run("status.client_error", "/p") == []
    assert site.run("status.bot_protection", "/p")[0].message == f"Answers {status} (access refused or rate-limited)"


@pytest.mark.parametrize("headers", [{"server": "cloudflare", "cf-ray": "8a1b"}, {"x-datadome": "protected"},
                                     {"server": "AkamaiGHost"}])
def test_a_404_behind_a_bot_vendor_is_still_a_404(headers: dict[str, str]) -> None:
    site = site_from_pages([U("/p", status=404, headers=headers)])
    assert [f.message for f in site.run("status.client_error", "/p")] == ["Answers 404"]
    assert site.run("status.bot_protection", "/p") == []


def test_a_500_behind_a_bot_vendor_is_a_server_error() -> None:
    site = site_from_pages([U("/p", status=500, headers={"x-datadome": "protected"})])
    assert site.run("status.server_error", "/p")[0].details["status"] == 500
    assert site.run("status.bot_protection", "/p") == []


def test_vendor_header_on_a_normal_page_is_not_a_challenge() -> None:
    assert page(doc("Boots"), headers={"x-datadome": "protected"}).run("status.bot_protection") == []


def test_client_error_details_count_inlinks() -> None:
    site = site_from_pages([U("/", doc(body='<a href="/gone">a</a><a href="/gone">b</a>')),
                            U("/b", doc(body='<a href="/gone">c</a>')), U("/gone", status=410)])
    (finding,) = site.run("status.client_error", "/gone")
    assert finding.details == {"status": 410, "inlinks": 2,
                               "inlink_sources": [site.start_url, absolute("/b", site.start_url)]}


def test_no_response_states_the_error() -> None:
    (finding,) = url("/x", status=None, error_kind="dns", error="name not resolved").run("status.no_response")
    assert finding.message == "No response (dns: name not resolved)"


def test_status_rules_apply_to_resources_too() -> None:
    site = site_from_pages([U("/logo.png", status=404, kind="resource", content_type="image/png")])
    assert site.run("status.client_error", "/logo.png")[0].details["status"] == 404
