"""``--format markdown``: a report to paste into a ticket, a wiki or a pull request.

Page-derived text is escaped (:func:`emaudit.render.safe.markdown_text`): a title holding
``|``, backticks, brackets, ``<script>`` or a line break cannot break a table or inject HTML.
"""

from __future__ import annotations

from typing import Any, TextIO

from emaudit.render import crawl_caveat
from emaudit.render.safe import markdown_text, markdown_url

EXAMPLES_SHOWN = 3


def render(result: Any, out: TextIO, *, verbose: bool = False) -> None:
    from emaudit.audit import iso_utc

    crawl = result.crawl
    out.write(f"# emaudit audit: {markdown_url(result.start_url)}\n\n")
    out.write(f"- Store: {markdown_text(result.store_path)}\n")
    out.write(f"- Audited: {iso_utc(result.started_at)} to {iso_utc(result.finished_at)}\n")
    classes = ", ".join(f"{k}: {v}" for k, v in crawl["by_status_class"].items()) or "none"
    out.write(f"- Crawl: {crawl['urls']} URLs, {crawl['pages']} pages ({classes}), {crawl['html_pages']} HTML pages\n")
    out.write(f"- Findings: {result.total} from {len(result.rules)} rules\n\n")
    caveat = crawl_caveat(crawl)
    if caveat:
        out.write(f"> **{markdown_text(caveat)}**\n\n")
    _scores(result, out)
    _issues(result, out)
    _findings(result, out)


def _scores(result: Any, out: TextIO) -> None:
    out.write(f"## Scores\n\n**Overall: {_score(result.scores.overall)} / 100**\n\n")
    out.write("| Category | Score |\n|---|---:|\n")
    out.writelines(f"| {category} | {_score(score)} |\n" for category, score in result.scores.categories.items())
    out.write("\n")


def _issues(result: Any, out: TextIO) -> None:
    out.write("## Issues by impact\n\n")
    if not result.issues:
        out.write("No issues found by the selected rules.\n")
        return
    out.write("| # | Severity | Rule | Title | Pages | Findings | Impact | Examples |\n")
    out.write("|---:|---|---|---|---:|---:|---:|---|\n")
    for rank, r in enumerate(result.issues, 1):
        examples = "<br>".join(markdown_url(u) for u in r.examples[:EXAMPLES_SHOWN])
        out.write(f"| {rank} | {r.severity} | `{r.id}` | {markdown_text(r.title)} | {r.failing} | {r.count}"
                  f" | {r.impact:.1f} | {examples} |\n")
    out.write("\n")


def _findings(result: Any, out: TextIO) -> None:
    if not result.issues:
        return
    out.write("## Findings\n")
    for r in result.issues:
        out.write(f"\n### `{r.id}`: {markdown_text(r.title)} ({r.severity}, {r.count})\n\n")
        out.writelines(f"- {markdown_url(f.url)}: {markdown_text(f.message)}\n" for f in result.findings.for_rule(r.id))


def _score(score: float | None) -> str:
    return "—" if score is None else f"{score:.1f}"
