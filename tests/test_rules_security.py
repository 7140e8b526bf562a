"""Security rules (beyond the core catalogue)."""

from __future__ import annotations

from rulekit import bad_good_tests, doc, page

FIXTURES = {
    "security.mixed_content": (
        page(doc(body='<img src="http://example.com/a.png" alt=""><script src="http://cdn.example.net/a.js"></script>')),
        page(doc(body='<img src="https://example.com/a.png" alt=""><a href="http://example.org/">link</a>')),
    ),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)


def test_mixed_content_lists_urls() -> None:
    (finding,) = FIXTURES["security.mixed_content"][0].run("security.mixed_content")
    assert finding.message == "2 resource(s) loaded over http://"
    assert set(finding.details["urls"]) == {"http://example.com/a.png", "http://cdn.example.net/a.js"}
