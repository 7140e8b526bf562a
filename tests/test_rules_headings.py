"""Heading outline rule."""

from __future__ import annotations

from rulekit import bad_good_tests, doc, page

from emaudit.rules.headings import skipped_levels

FIXTURES = {
    "headings.skipped_level": (
        page(doc(body="<h1>Boots</h1><h2>Sizes</h2><h4>Width</h4>")),
        page(doc(body="<h1>Boots</h1><h2>Sizes</h2><h3>Width</h3><h2>Care</h2><h3>Wax</h3><h4>Which wax</h4>")),
    ),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)


def test_going_back_up_is_fine_going_down_two_is_not() -> None:
    assert skipped_levels([(1, "a"), (3, "b"), (2, "c"), (5, "d"), (1, "e")]) == [
        {"from": "h1", "to": "h3", "text": "b"}, {"from": "h2", "to": "h5", "text": "d"}]


def test_first_heading_may_start_below_h1() -> None:
    assert skipped_levels([(2, "a"), (3, "b")]) == []


def test_message_counts_jumps() -> None:
    (finding,) = page(doc(body="<h2>a</h2><h4>b</h4><h3>c</h3><h6>d</h6>")).run("headings.skipped_level")
    assert finding.message == "Heading level skipped 2 time(s), first h2 → h4"
