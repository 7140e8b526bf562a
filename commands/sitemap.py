"""``emaudit sitemap``: read a site's sitemaps (indexes, gzip, text files), check them, list their URLs.

The work is done by :mod:`emaudit.sitemaps` (safe streaming parser, loop-safe index walker) and,
for ``--check``, by the crawler in list mode. This module only turns options into those calls
and writes the result: ``txt`` and ``csv`` stream URLs as they are read; ``table`` and ``json``
are written at the end. Everything taken from a sitemap is untrusted: terminal output is
stripped of control characters and markup-escaped, CSV cells are guarded against formulas.
"""

from __future__ import annotations

import os
import re
import sys
from typing import IO, Annotated, Any, Optional

import typer

from emaudit.commands import _options as o

FORMATS = ("table", "json", "csv", "txt")
TABLE_URLS = 50  # URL and duplicate rows shown by --format table (all of them: txt, csv, json)
TABLE_PROBLEMS = 200
CSV_COLUMNS = ("loc", "lastmod", "changefreq", "priority", "sitemap", "line")
CHECK_COLUMNS = ("status", "issues")
LIMITS = "Sitemap limits"
# CSI/OSC/two-byte escape sequences: removed whole, so no stray "[31m" is left behind.
_ANSI_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def sitemap(
    url: Annotated[str, typer.Argument(help="A sitemap or sitemap index URL, a site root or robots.txt URL, or a local file.", show_default=False)],
    output_format: Annotated[str, typer.Option("--format", "-f", help="table, json, csv or txt (txt: one URL per line and nothing else, for 'emaudit crawl --list -').", rich_help_panel=o.OUT)] = "table",
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="Write to this file (atomically: a temporary file renamed at the end).", rich_help_panel=o.OUT)] = None,
    check: Annotated[bool, typer.Option("--check", help="Fetch every listed URL (the crawler in list mode: robots.txt, --rate, --concurrency) and report non-200, redirected, noindex and canonicalised ones.")] = False,
    fail_on_problems: Annotated[bool, typer.Option("--fail-on-problems", help="Exit 1 when any check fails (a problem in a file, or with --check a URL issue).")] = False,
    max_files: Annotated[int, typer.Option("--max-files", min=1, help="Read at most this many sitemap files.", rich_help_panel=LIMITS)] = 1000,
    max_depth: Annotated[int, typer.Option("--max-depth", min=0, help="Follow sitemap indexes this many levels deep.", rich_help_panel=LIMITS)] = 5,
    max_urls: Annotated[int, typer.Option("--max-urls", min=1, help="Stop after this many URLs in all (bounds memory for json/table and --check).", rich_help_panel=LIMITS)] = 500_000,
    ignore_robots: o.IgnoreRobots = False,
    user_agent: o.UserAgent = None,
    concurrency: o.Concurrency = 8,
    rate: o.Rate = None,
    retries: o.Retries = 2,
    timeout: o.Timeout = 20.0,
    header: o.Header = None,
    auth: o.Auth = None,
    insecure: o.Insecure = False,
    quiet: o.Quiet = False,
) -> None:
    """Read sitemaps and report their files, problems, duplicates and URLs.

    URL: a sitemap or sitemap index (read recursively, gzip included), a site root or robots.txt URL (its Sitemap: lines, else /sitemap.xml), or a local file.

    Checks: XML validity, sitemaps.org limits (50,000 URLs, 50 MB), lastmod dates, absolute same-host locs, duplicates within and across files, index loops; with --check, the status, redirects, noindex and canonical of every URL.

    Exit codes: 0 done; 1 problems found, with --fail-on-problems; 2 usage error; 3 sitemap unreachable or disallowed by robots.txt.

    Example: emaudit sitemap https://www.example.com/ --format txt | emaudit crawl --list -
    """
    from emaudit.errors import UsageError

    if output_format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}")
    settings = _http_settings(user_agent, concurrency, retries, timeout, header, auth, insecure)
    failures = _run(
        url, output_format, output, settings=settings, check=check, rate=rate, ignore_robots=ignore_robots,
        limits=(max_files, max_depth, max_urls), quiet=quiet,
    )
    if fail_on_problems and failures:
        raise typer.Exit(1)


def _http_settings(
    user_agent: str | None, concurrency: int, retries: int, timeout: float,
    header: list[str] | None, auth: str | None, insecure: bool,
) -> Any:
    from emaudit.http import DEFAULT_USER_AGENT, HttpSettings

    # max_bytes stays the page default (used by --check); sitemap files get their own 50 MB cap.
    return HttpSettings(
        user_agent=user_agent or DEFAULT_USER_AGENT, timeout=timeout, headers=o.parse_headers(header),
        auth=o.parse_auth(auth), concurrency=concurrency, retries=retries, verify=not insecure,
    )


def _run(
    url: str, fmt: str, output: str | None, *, settings: Any, check: bool, rate: float | None,
    ignore_robots: bool, limits: tuple[int, int, int], quiet: bool,
) -> int:
    """Walk, optionally check, write; returns the number of failed checks."""
    from emaudit.sitemaps import WalkLimits, read_sitemaps

    walk_limits = WalkLimits(max_files=limits[0], max_depth=limits[1], max_urls=limits[2])
    with _AtomicOutput(output) as out:
        sink = _SINKS[fmt](out, keep_unique=check)
        result = read_sitemaps(
            url, settings=settings, limits=walk_limits, on_entry=sink.entry, rate=rate, obey_robots=not ignore_robots
        )
        checks = None
        if check:
            checks = _check(sink.unique, settings, rate, ignore_robots, quiet) if sink.unique else []
        sink.finish(url, result, checks)
    issues = sum(len(c.issues) for c in checks or [])
    if not quiet and (fmt != "table" or output) and sys.stderr.isatty():  # chatter: a person at a terminal
        _stderr_summary(result, checks, issues)
    return result.problem_total() + issues


def _check(unique: list[Any], settings: Any, rate: float | None, ignore_robots: bool, quiet: bool) -> list[Any]:
    from emaudit.console import CrawlProgress
    from emaudit.sitemaps import check_urls

    with CrawlProgress(enabled=not quiet and sys.stderr.isatty()) as progress:
        return check_urls(
            [u[0] for u in unique], settings=settings, rate=rate, ignore_robots=ignore_robots,
            on_progress=progress.update,
        )


def _stderr_summary(result: Any, checks: list[Any] | None, issues: int) -> None:
    totals = result.totals()
    line = (
        f"sitemap: {totals['files']} file(s), {totals['urls']:,} URLs ({totals['unique_urls']:,} unique), "
        f"{totals['problems']:,} problem(s)"
    )
    if checks is not None:
        line += f"; checked {len(checks):,} URLs, {issues:,} issue(s)"
    sys.stderr.write(plain(line) + "\n")


# --------------------------------------------------------------------------- escaping


def plain(text: object) -> str:
    """``text`` without ANSI escape sequences or other control characters (terminal-safe)."""
    return _CONTROL_RE.sub("", _ANSI_RE.sub("", "" if text is None else str(text)))


def markup(text: object) -> str:
    """Safe inside rich markup: controls stripped, ``[`` escaped."""
    from rich.markup import escape

    return escape(plain(text))


def csv_cell(value: object) -> str:
    """A CSV cell that spreadsheets will not run as a formula (OWASP CSV injection), without controls."""
    text = "" if value is None else plain(value)
    return "'" + text if text.startswith(_CSV_TRIGGERS) else text


# --------------------------------------------------------------------------- output


class _AtomicOutput:
    """stdout, or a temporary file next to ``path`` renamed over it only when all went well."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._tmp: str | None = None
        self._handle: IO[str] | None = None

    def __enter__(self) -> IO[str]:
        if self.path is None:
            return sys.stdout
        import tempfile

        folder = os.path.dirname(os.path.abspath(self.path))
        fd, self._tmp = tempfile.mkstemp(prefix=".emaudit-", suffix=".tmp", dir=folder)
        self._handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        return self._handle

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if self._handle is None or self._tmp is None:
            sys.stdout.flush()
            return
        self._handle.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)  # type: ignore[arg-type]
        else:
            os.unlink(self._tmp)


class _Sink:
    """Receives URL entries while the walk reads them; writes the output at the end (or as it goes)."""

    def __init__(self, out: IO[str], *, keep_unique: bool) -> None:
        self.out = out
        self.keep_unique = keep_unique
        self.unique: list[tuple[str, Any, str]] = []  # (loc, entry, sitemap) of first sightings, for --check

    def entry(self, entry: Any, file: Any, first: bool) -> None:
        from emaudit.sitemaps import is_url

        if self.keep_unique and first and is_url(entry.loc):
            self.unique.append((entry.loc, entry, file.url))
        self.take(entry, file, first)

    def take(self, entry: Any, file: Any, first: bool) -> None:
        """One URL as read (``first``: not met before in this walk)."""

    def finish(self, source: str, result: Any, checks: list[Any] | None) -> None:
        """The walk (and the check) is over."""


class _TxtSink(_Sink):
    """One absolute URL per line, each once, streamed: ready for ``emaudit crawl --list -``."""

    def take(self, entry: Any, file: Any, first: bool) -> None:
        from emaudit.sitemaps import is_url

        if first and is_url(entry.loc):
            self.out.write(plain(entry.loc) + "\n")


class _CsvSink(_Sink):
    """One row per URL entry, streamed; with ``--check`` one row per unique URL, at the end."""

    def __init__(self, out: IO[str], *, keep_unique: bool) -> None:
        import csv

        super().__init__(out, keep_unique=keep_unique)
        self.writer = csv.writer(out, lineterminator="\n")
        self.writer.writerow(CSV_COLUMNS + (CHECK_COLUMNS if keep_unique else ()))

    def take(self, entry: Any, file: Any, first: bool) -> None:
        if not self.keep_unique:
            self.writer.writerow(_csv_row(entry, file.url))

    def finish(self, source: str, result: Any, checks: list[Any] | None) -> None:
        for (_, entry, sitemap_url), check in zip(self.unique, checks or []):
            issues = "; ".join(i["kind"] for i in check.issues)
            self.writer.writerow(_csv_row(entry, sitemap_url) + [csv_cell(check.status), csv_cell(issues)])


def _csv_row(entry: Any, sitemap_url: str) -> list[str]:
    values = (entry.loc, entry.lastmod, entry.changefreq, entry.priority, sitemap_url, entry.line)
    return [csv_cell(v) for v in values]


class _JsonSink(_Sink):
    """One JSON document (schema ``emaudit.sitemap/1``), written raw at the end."""

    def __init__(self, out: IO[str], *, keep_unique: bool) -> None:
        super().__init__(out, keep_unique=keep_unique)
        self.urls: list[dict[str, Any]] = []

    def take(self, entry: Any, file: Any, first: bool) -> None:
        self.urls.append({"loc": entry.loc, "lastmod": entry.lastmod, "sitemap": file.url})

    def finish(self, source: str, result: Any, checks: list[Any] | None) -> None:
        import json

        from emaudit.sitemaps import build_report

        from emaudit.render.safe import json_text  # C1 controls as \u escapes (json.dump leaves them raw)

        self.out.write(json_text(json.dumps(build_report(source, result, self.urls, checks), indent=2, ensure_ascii=False)))
        self.out.write("\n")


class _TableSink(_Sink):
    """Rich tables: files, problems, duplicates, the first URLs, check issues, totals."""

    def __init__(self, out: IO[str], *, keep_unique: bool) -> None:
        super().__init__(out, keep_unique=keep_unique)
        self.first_urls: list[tuple[str, str | None, str]] = []

    def take(self, entry: Any, file: Any, first: bool) -> None:
        if len(self.first_urls) < TABLE_URLS:
            self.first_urls.append((entry.loc, entry.lastmod, file.url))

    def finish(self, source: str, result: Any, checks: list[Any] | None) -> None:
        from rich.console import Console

        wide = self.out.isatty() or "COLUMNS" in os.environ  # rich sizes these itself
        console = Console(file=self.out, highlight=False, width=None if wide else 120)
        for renderable in _tables(result, self.first_urls, checks):
            console.print(renderable)


def _tables(result: Any, first_urls: list[tuple[str, str | None, str]], checks: list[Any] | None) -> list[Any]:
    parts: list[Any] = [_files_table(result)]
    problems = list(result.iter_problems())
    if problems:
        parts.append(_problems_table(problems))
    if result.duplicates:
        parts.append(_duplicates_table(result))
    parts.append(_urls_table(result, first_urls))
    if checks is not None:
        parts.append(_checks_table(checks))
    parts.append(_totals_line(result, checks))
    return parts


def _table(title: str, *columns: str) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=False)
    for name in columns:
        numeric = name in ("#", "status", "URLs", "bytes", "problems", "line")
        table.add_column(name, justify="right" if numeric else "left", overflow="fold")
    return table


def _files_table(result: Any) -> Any:
    table = _table("Sitemap files", "#", "sitemap", "kind", "status", "URLs", "bytes", "lastmod", "problems")
    for number, file in enumerate(result.files, 1):
        doc = file.doc
        status = "file" if file.via == "file" else (str(file.status) if file.status is not None else "-")
        lastmod = f"{doc.lastmod_min} … {doc.lastmod_max}" if doc is not None and doc.lastmod_min else ""
        table.add_row(
            str(number), markup(file.url), markup(file.kind), status, f"{doc.url_count:,}" if doc else "",
            f"{doc.uncompressed_bytes:,}" if doc else "", markup(lastmod), f"{file.problem_total():,}",
        )
    return table


def _problems_table(problems: list[dict[str, Any]]) -> Any:
    table = _table("Problems", "sitemap", "line", "problem", "message", "loc")
    for problem in problems[:TABLE_PROBLEMS]:
        table.add_row(
            markup(problem.get("sitemap", "")), str(problem.get("line") or ""), markup(problem["kind"]),
            markup(problem["message"]), markup(problem.get("loc", "")),
        )
    if len(problems) > TABLE_PROBLEMS:
        table.caption = f"{len(problems) - TABLE_PROBLEMS:,} more: use --format json"
    return table


def _duplicates_table(result: Any) -> Any:
    table = _table("URLs listed in more than one sitemap", "loc", "sitemaps")
    for loc, files in list(result.duplicates.items())[:TABLE_URLS]:
        table.add_row(markup(loc), "\n".join(map(markup, files)))
    if result.duplicate_count > TABLE_URLS:
        table.caption = f"{result.duplicate_count:,} in all: use --format json"
    return table


def _urls_table(result: Any, first_urls: list[tuple[str, str | None, str]]) -> Any:
    table = _table("URLs", "loc", "lastmod", "sitemap")
    for loc, lastmod, sitemap_url in first_urls:
        table.add_row(markup(loc), markup(lastmod or ""), markup(sitemap_url))
    if result.url_count > len(first_urls):
        table.caption = f"first {len(first_urls)} of {result.url_count:,}: all of them with --format txt, csv or json"
    return table


def _checks_table(checks: list[Any]) -> Any:
    flagged = [c for c in checks if c.issues]
    table = _table(f"Check: {len(flagged):,} of {len(checks):,} URLs with issues", "loc", "status", "issues")
    for check in flagged[:TABLE_PROBLEMS]:
        issues = "\n".join(markup(i["message"]) for i in check.issues)
        table.add_row(markup(check.loc), str(check.status if check.status is not None else "-"), issues)
    if len(flagged) > TABLE_PROBLEMS:
        table.caption = f"{len(flagged) - TABLE_PROBLEMS:,} more: use --format json or csv"
    return table


def _totals_line(result: Any, checks: list[Any] | None) -> str:
    t = result.totals()
    text = (
        f"[bold]Totals[/bold]: {t['files']} file(s) ({t['urlsets']} urlset, {t['indexes']} index, "
        f"{t['invalid']} invalid, {t['unread']} unread), {t['urls']:,} URLs ({t['unique_urls']:,} unique, "
        f"{t['duplicates_across_files']:,} in several files), {t['bytes']:,} bytes, {t['problems']:,} problem(s)"
    )
    if t["truncated"]:
        text += ", stopped at --max-urls"
    if checks is not None:
        text += f"; checked {len(checks):,} URLs, {sum(bool(c.issues) for c in checks):,} with issues"
    return text


_SINKS: dict[str, type[_Sink]] = {"txt": _TxtSink, "csv": _CsvSink, "json": _JsonSink, "table": _TableSink}
