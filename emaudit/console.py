"""Terminal chatter for long-running commands: live crawl progress and the crawl summary.

Progress goes to stderr and only when stderr is a terminal (and not ``--quiet``); the summary
is the command's output and goes to stdout (text, or one JSON document).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from emaudit.crawler import CrawlSummary, Progress


class CrawlProgress:
    """A rich live line: pages done, queue, pages/s, errors, elapsed (stderr, TTY only)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._live: Any = None
        self._last = 0.0

    def __enter__(self) -> CrawlProgress:
        if self.enabled:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(console=Console(stderr=True), refresh_per_second=4, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def update(self, progress: Progress) -> None:
        if self._live is None:
            return
        now = time.monotonic()
        if now - self._last < 0.2 and progress.phase == "crawling":
            return
        self._last = now
        # Finalising sends no more updates: the line redraws itself so that its clock keeps going.
        self._live.update(progress_line(progress, now) if progress.phase == "crawling" else _Ticking(progress))


class _Ticking:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def __rich__(self) -> Any:
        return progress_line(self.progress, time.monotonic())


def progress_line(progress: Progress, now: float) -> Any:
    """The live line (a rich Text): counters while crawling, then what the wait is for while the
    store is finalised (seconds at 50,000 pages, minutes at a million)."""
    from rich.text import Text

    elapsed = now - progress.started
    if progress.phase == "finalising":
        return Text.assemble(
            ("finalising ", "bold"),
            (f"{progress.pages} pages", "green"),
            f" · building indexes, inlink counts, redirect chains · {elapsed:.0f}s",
        )
    rate = progress.fetched / elapsed if elapsed > 0 else 0.0
    return Text.assemble(
        ("crawling ", "bold"),
        (f"{progress.pages} pages", "green"),
        f" · {progress.fetched} URLs · queue {progress.queued} · {rate:.0f}/s · ",
        (f"{progress.errors} errors", "red" if progress.errors else "dim"),
        f" · {elapsed:.0f}s",
    )


def render_summary(summary: CrawlSummary, fmt: str, *, quiet: bool) -> None:
    """Print the crawl summary: JSON on stdout, or a short text block (suppressed by --quiet)."""
    if fmt == "json":
        sys.stdout.write(json.dumps(summary.to_dict(), indent=2, sort_keys=True) + "\n")
        return
    if quiet:
        return
    classes = ", ".join(f"{k}: {v}" for k, v in sorted(summary.by_status_class.items())) or "none"
    blocked = summary.by_state.get("blocked", 0)
    lines = [
        f"Crawl {summary.state}{' (' + summary.stop_reason + ')' if summary.stop_reason else ''}: {summary.start_url}",
        f"  pages fetched: {summary.pages}; internal URLs by status: {classes}",
        f"  URLs fetched: {summary.fetched}, errors: {summary.errors}, blocked by robots.txt: {blocked}, still queued: {summary.queued}",
        f"  time: {summary.elapsed:.1f} s",
        f"  store: {summary.store}",
    ]
    sys.stdout.write("\n".join(_plain(line) for line in lines) + "\n")


def _plain(text: str) -> str:
    """Drop control characters (a start URL comes from the user, but stay safe)."""
    return "".join(c for c in text if c == "\n" or c >= " " and c != "\x7f")
