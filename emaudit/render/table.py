"""``--format table``: the human summary (rich) — scores, then issues ranked by impact.

Colour only on a terminal and never with ``NO_COLOR``; on a pipe or in a file it is plain text.
Every page-derived string (URL, title, message) goes through :func:`emaudit.render.safe.terminal`:
rich markup in a page title is shown literally and escape sequences are dropped.
"""

from __future__ import annotations

import os
from typing import Any, TextIO

from emaudit.render import crawl_caveat
from emaudit.render.safe import terminal

EXAMPLES_SHOWN = 3
SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "notice": "cyan"}
PLAIN_WIDTH = 120  # wide enough that URLs rarely wrap when the output is a file or a pipe


def make_console(out: TextIO) -> Any:
    from rich.console import Console

    is_tty = hasattr(out, "isatty") and out.isatty()
    width = None if is_tty else _plain_width()
    # rich itself turns colour off on non-terminals and when NO_COLOR is set.
    return Console(file=out, width=width, highlight=False, emoji=False, force_jupyter=False)


def _plain_width() -> int:
    try:
        return max(60, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return PLAIN_WIDTH


def render(result: Any, out: TextIO, *, verbose: bool = False) -> None:
    console = make_console(out)
    _header(console, result)
    console.print(_scores_table(result))
    if not result.issues:
        console.print("\nNo issues found by the selected rules.")
        return
    console.print(_issues_table(result))
    if verbose:
        for r in result.issues:
            _every_finding(console, result, r)


def _header(console: Any, result: Any) -> None:
    crawl = result.crawl
    classes = " · ".join(f"{k} {v:,}" for k, v in crawl["by_status_class"].items()) or "none fetched"
    console.print(f"[bold]emaudit audit[/] {terminal(result.start_url)}")
    console.print(f"Store {terminal(result.store_path)}: {crawl['urls']:,} URLs, {crawl['pages']:,} pages"
                  f" ({classes}), {crawl['html_pages']:,} HTML pages")
    caveat = crawl_caveat(crawl)
    if caveat:
        console.print(f"[bold yellow]{terminal(caveat)}[/]")
    console.print(f"[bold]Overall score: {_score(result.scores.overall)}[/] / 100"
                  f" — {result.total:,} findings from {len(result.rules)} rules\n")


def _scores_table(result: Any) -> Any:
    from rich.table import Table

    table = Table(title="Scores", title_justify="left", show_edge=False)
    table.add_column("Category")
    table.add_column("Score", justify="right")
    for category, score in result.scores.categories.items():
        table.add_row(category, _score(score))
    return table


def _issues_table(result: Any) -> Any:
    from rich.table import Table

    table = Table(title="\nIssues by impact", title_justify="left", show_edge=False, show_lines=True)
    for name, justify in (("#", "right"), ("Severity", "left"), ("Rule", "left"), ("Pages", "right"),
                          ("Findings", "right"), ("Impact", "right"), ("Examples", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for rank, r in enumerate(result.issues, 1):
        style = SEVERITY_STYLE[r.severity]
        table.add_row(str(rank), f"[{style}]{r.severity}[/]", f"{r.id}\n[dim]{terminal(r.title)}[/]",
                      f"{r.failing:,}", f"{r.count:,}", f"{r.impact:,.1f}", _examples(r))
    return table


def _examples(r: Any) -> str:
    shown = r.examples[:EXAMPLES_SHOWN]
    lines = [terminal(url) for url in shown]
    more = r.failing - len(shown)
    if more > 0:
        lines.append(f"[dim]… and {more:,} more (--verbose)[/]")
    return "\n".join(lines)


def _every_finding(console: Any, result: Any, r: Any) -> None:
    style = SEVERITY_STYLE[r.severity]
    console.print(f"\n[{style}]{r.severity}[/] [bold]{r.id}[/] {terminal(r.title)} ({r.count:,})")
    for f in result.findings.for_rule(r.id):
        console.print(f"  {terminal(f.url)}  {terminal(f.message)}", overflow="fold")


def _score(score: float | None) -> str:
    return "—" if score is None else f"{score:.1f}"
