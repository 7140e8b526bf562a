"""Report renderers: one module per format, each ``render(result, out, *, verbose=False)``.

Renderers read an :class:`emaudit.audit.AuditResult` (counters, scores, and the sorted findings
spool) and write text; page-derived text goes through :mod:`emaudit.render.safe`.
"""

from __future__ import annotations

import importlib
from typing import Any, TextIO

FORMATS = ("table", "json", "jsonl", "csv", "markdown")


def render(fmt: str, result: Any, out: TextIO, *, verbose: bool = False) -> None:
    """Write ``result`` to ``out`` in format ``fmt`` (imported lazily: each format its own deps)."""
    module = importlib.import_module(f"emaudit.render.{fmt}")
    module.render(result, out, verbose=verbose)


def crawl_caveat(crawl: dict[str, Any]) -> str | None:
    """The sentence a human report puts first when the audited crawl is partial (plain text, to
    be escaped by the renderer: the store path is the user's); None for a finished crawl. The
    JSON formats carry ``crawl.state`` instead."""
    state, store = crawl.get("state"), crawl.get("store", "")
    resume = f"; continue it with: emaudit crawl --resume {store}"
    if state == "interrupted":
        return f"Partial crawl: it was interrupted, findings cover only the URLs fetched before that{resume}"
    if state == "running":
        return f"Partial crawl: it did not finish (still running, or killed), findings cover only the URLs fetched so far{resume}"
    if state == "stopped":
        return "Partial crawl: it stopped at a limit (--max-pages or --max-time), findings cover only the URLs fetched"
    return None
