"""Scoring formula: pass rates, severity weights, categories, overall, importance and impact."""

from __future__ import annotations

import math

import pytest

from emaudit.scoring import RuleTally, compute_scores, impact, importance, pass_rate


def test_pass_rate_is_share_of_passing_units_and_none_without_units():
    assert pass_rate(1, 4) == 0.75
    assert pass_rate(0, 10) == 1.0
    assert pass_rate(5, 5) == 0.0
    assert pass_rate(0, 0) is None
    assert pass_rate(12, 10) == 0.0  # site rules may report more URLs than units: capped


def test_category_score_is_severity_weighted_mean_and_notices_do_not_cost():
    scores = compute_scores([
        RuleTally("content", "error", applicable=10, failing=5),  # 0.5, weight 5
        RuleTally("content", "warning", applicable=10, failing=0),  # 1.0, weight 3
        RuleTally("content", "notice", applicable=10, failing=10),  # 0.0, weight 0
    ])
    assert scores.categories == {"content": round((5 * 0.5 + 3 * 1.0) / 8 * 100, 1)}
    assert scores.overall == 68.8


def test_rules_without_applicable_units_drop_out():
    scores = compute_scores([
        RuleTally("links", "error", applicable=0, failing=0),
        RuleTally("links", "warning", applicable=4, failing=1),
    ])
    assert scores.categories["links"] == 75.0


def test_overall_weights_categories_by_their_total_weight():
    scores = compute_scores([
        RuleTally("content", "error", applicable=2, failing=2),  # 0.0 × 5
        RuleTally("links", "warning", applicable=2, failing=0),  # 1.0 × 3
        RuleTally("indexability", "notice", applicable=2, failing=2),  # weight 0
    ])
    assert scores.categories == {"content": 0.0, "indexability": None, "links": 100.0}
    assert scores.overall == round(3 / 8 * 100, 1)


def test_nothing_to_score_is_null_not_a_flattering_100():
    assert compute_scores([]).overall is None
    assert compute_scores([RuleTally("links", "notice", 3, 0)]).overall is None


@pytest.mark.parametrize(("inlinks", "depth", "sitemap", "expected"), [
    (0, 0, False, 2.0),  # 1 + 0 + depth ≤ 1
    (0, 1, True, 2.5),
    (3, 2, False, 1 + 2 + 0.5),
    (1, 3, False, 1 + 1 + 0.5),
    (7, 4, True, 1 + 3 + 0 + 0.5),
    (0, None, False, 1.0),
])
def test_importance(inlinks, depth, sitemap, expected):
    assert math.isclose(importance(inlinks, depth, sitemap), expected)


def test_impact_weights_notices_one_for_ranking():
    assert impact("error", 2.0) == 10.0
    assert impact("warning", 2.0) == 6.0
    assert impact("notice", 2.0) == 2.0
