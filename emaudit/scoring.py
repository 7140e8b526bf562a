"""Scores (0–100) and impact ranking.

Scores
    For each rule, the *pass rate* is ``1 − failing / applicable``: ``applicable`` counts the
    units the rule was evaluated on (URLs, pages, HTML pages or indexable pages, as the rule
    declares; one unit for site-wide rules), ``failing`` the units with at least one finding.
    A rule with no applicable unit drops out.

    A *category score* is the mean of its rules' pass rates weighted by severity: error 5,
    warning 3, notice 0 (notices advise, they do not cost). Its *weight* is the sum of those
    weights. The *overall score* is the mean of the category scores weighted by the category
    weights, which is the severity-weighted mean of every rule's pass rate. Scores are reported
    × 100 with one decimal; a category (or the overall score) with nothing weighted to score is
    ``null``/"—" rather than a flattering 100.

Impact
    Issues are ranked by ``severity weight × Σ importance`` over the units a rule fails on,
    with ranking weights error 5, warning 3, notice 1 (a notice still deserves a place in the
    list) and ``importance = 1 + log2(1 + inlinks) + depth bonus + sitemap bonus``, where the
    depth bonus is 1 for depth ≤ 1, 0.5 for depth ≤ 3, 0 deeper, and the sitemap bonus 0.5.
    A broken home page linked from every page thus outranks the same error on an orphan.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

SCORE_WEIGHTS = {"error": 5, "warning": 3, "notice": 0}
RANK_WEIGHTS = {"error": 5, "warning": 3, "notice": 1}


def importance(inlinks: int, depth: int | None, in_sitemap: bool) -> float:
    """How much a URL matters to the site: linked-to, shallow, listed in a sitemap."""
    if depth is None:
        depth_bonus = 0.0
    elif depth <= 1:
        depth_bonus = 1.0
    elif depth <= 3:
        depth_bonus = 0.5
    else:
        depth_bonus = 0.0
    return 1.0 + math.log2(1 + max(inlinks, 0)) + depth_bonus + (0.5 if in_sitemap else 0.0)


def impact(severity: str, importance_sum: float) -> float:
    return round(RANK_WEIGHTS[severity] * importance_sum, 2)


def pass_rate(failing: int, applicable: int) -> float | None:
    """Share of applicable units without a finding; None when nothing was applicable."""
    if applicable <= 0:
        return None
    return 1.0 - min(failing, applicable) / applicable


def as_score(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


@dataclass(frozen=True, slots=True)
class RuleTally:
    """What scoring needs to know of one rule's run."""

    category: str
    severity: str
    applicable: int
    failing: int


@dataclass(frozen=True, slots=True)
class Scores:
    overall: float | None
    categories: dict[str, float | None]


def compute_scores(tallies: Iterable[RuleTally]) -> Scores:
    """Category and overall scores from per-rule tallies (see the module docstring)."""
    sums: dict[str, float] = {}
    weights: dict[str, float] = {}
    for tally in tallies:
        sums.setdefault(tally.category, 0.0)
        weights.setdefault(tally.category, 0.0)
        rate = pass_rate(tally.failing, tally.applicable)
        weight = SCORE_WEIGHTS[tally.severity]
        if rate is not None and weight:
            sums[tally.category] += weight * rate
            weights[tally.category] += weight
    categories = {c: as_score(sums[c] / weights[c]) if weights[c] else None for c in sorted(sums)}
    total = sum(weights.values())
    overall = as_score(sum(sums.values()) / total) if total else None
    return Scores(overall=overall, categories=categories)
