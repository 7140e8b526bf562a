"""robots.txt rules: missing, unreachable and malformed files, per crawled origin."""

from __future__ import annotations

import pytest
from rulekit import U, Robots, bad_good_tests, doc, site_from_pages, sites

HOME = U("/", doc())
VALID = "User-agent: *\nDisallow: /cart/\n\nSitemap: https://example.com/sitemap.xml\n"

FIXTURES = {
    "robots.missing": (sites(HOME, robots=(Robots(None, status=404),)), sites(HOME, robots=(Robots(VALID),))),
    "robots.unreachable": (sites(HOME, robots=(Robots(None, status=503),)), sites(HOME, robots=(Robots(None, status=404),))),
    "robots.invalid_line": (
        sites(HOME, robots=(Robots("User-agent: *\nDissallow: /cart/\n"),)),
        sites(HOME, robots=(Robots(VALID),)),
    ),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)


def test_findings_are_on_the_robots_url() -> None:
    (finding,) = FIXTURES["robots.missing"][0].run("robots.missing")
    assert finding.url == "https://example.com/robots.txt" and finding.message == "robots.txt answers 404"


@pytest.mark.parametrize("robots,message", [
    (Robots(None, status=None, error="connect: connection refused"), "robots.txt gives no response (connect: connection refused)"),
    (Robots(None, status=500), "robots.txt answers 500"),
    (Robots(None, status=429), "robots.txt answers 429"),
])
def test_unreachable_answers(robots: Robots, message: str) -> None:
    (finding,) = site_from_pages([HOME], robots=[robots]).run("robots.unreachable")
    assert finding.message == message


@pytest.mark.parametrize("status", [200, 401, 403, 404])
def test_answers_that_are_not_unreachable(status: int) -> None:
    assert site_from_pages([HOME], robots=[Robots(None, status=status)]).run("robots.unreachable") == []


def test_invalid_lines_are_numbered() -> None:
    body = "User-agent: *\nDisallow /search\nDisallow: /cart/\nNoindex: /private/\nCrawl-delay: soon\n"
    (finding,) = site_from_pages([HOME], robots=[Robots(body)]).run("robots.invalid_line")
    assert finding.details["line_numbers"] == [2, 4, 5]
    assert finding.details["count"] == 3
    assert finding.message.startswith("3 invalid line(s) in robots.txt (first, line 2: ")
    assert finding.details["lines"][0]["text"] == "Disallow /search"


def test_each_origin_is_checked() -> None:
    site = site_from_pages([HOME], robots=[Robots(None, status=404), Robots(None, status=404, origin="https://shop.example.com")])
    assert sorted(f.url for f in site.run("robots.missing")) == [
        "https://example.com/robots.txt", "https://shop.example.com/robots.txt"]
