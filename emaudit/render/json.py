"""``--format json``: one versioned document (schema ``emaudit.audit/1``, ``emaudit/schemas/audit-1.json``).

Written with the standard library, never through rich. The findings array is streamed from
the spool one line per finding, so a million findings never sit in memory as one list.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from emaudit import __version__
from emaudit.render.safe import json_text

SCHEMA = "emaudit.audit/1"


def document_head(result: Any) -> dict[str, Any]:
    """Everything but the findings (shared with other renderers that want the same numbers)."""
    from emaudit.audit import iso_utc

    return {
        "schema": SCHEMA,
        "tool": {"name": "emaudit", "version": __version__},
        "target": result.target,
        "started_at": iso_utc(result.started_at),
        "finished_at": iso_utc(result.finished_at),
        "crawl": result.crawl,
        "score": {"overall": result.scores.overall, "categories": result.scores.categories},
        "summary": {"findings": result.total, "rules": len(result.rules), "issues": len(result.issues)},
        "rules": [_rule(r) for r in result.rules],
        "issues": [_issue(rank, r) for rank, r in enumerate(result.issues, 1)],
    }


def _rule(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "severity": r.severity,
        "category": r.category,
        "title": r.title,
        "count": r.count,
        "applicable": r.applicable,
        "failing": r.failing,
        "score": r.score,
    }


def _issue(rank: int, r: Any) -> dict[str, Any]:
    return {
        "rank": rank,
        "rule": r.id,
        "severity": r.severity,
        "category": r.category,
        "title": r.title,
        "impact": r.impact,
        "count": r.count,
        "pages": r.failing,
        "examples": list(r.examples),
    }


def render(result: Any, out: TextIO, *, verbose: bool = False) -> None:
    head = json_text(json.dumps(document_head(result), indent=2, ensure_ascii=False))
    out.write(head[: head.rindex("}")].rstrip())
    out.write(',\n  "findings": [')
    separator = "\n    "
    for line in result.findings.iter_json():
        out.write(separator)
        out.write(json_text(line))
        separator = ",\n    "
    out.write("\n  ]\n}\n" if separator != "\n    " else "]\n}\n")
