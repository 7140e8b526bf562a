"""Shared Typer option aliases (``Annotated``) and their conversion to core objects.

``crawl`` and ``audit URL`` accept the same crawl options: both declare them with these
aliases and build :class:`emaudit.crawler.CrawlOptions` with :func:`crawl_options`.
Only light imports here: this module is imported for ``--help``.
"""

from __future__ import annotations

import re
from typing import Annotated

import typer

CRAWL = "Crawl scope and limits"
POLITE = "Politeness and HTTP"
OUT = "Output"

StorePath = Annotated[str | None, typer.Option("--store", "-s", help="Crawl store file to create (default: <host>-<time>.emaudit.db in the current folder).", rich_help_panel=OUT)]
Resume = Annotated[str | None, typer.Option("--resume", help="Continue an interrupted crawl stored in this file (options are read from it; pass --auth/--header again).", rich_help_panel=OUT)]
ListFile = Annotated[str | None, typer.Option("--list", help="List mode: crawl exactly the URLs in this file ('-' = stdin), one per line, following no links.", rich_help_panel=CRAWL)]
Subdomains = Annotated[bool, typer.Option("--subdomains", help="Also crawl subdomains of the start host (and both http and https).", rich_help_panel=CRAWL)]
Include = Annotated[list[str] | None, typer.Option("--include", help="Only crawl URLs matching this regex (repeatable).", rich_help_panel=CRAWL)]
Exclude = Annotated[list[str] | None, typer.Option("--exclude", help="Never crawl URLs matching this regex (repeatable).", rich_help_panel=CRAWL)]
MaxPages = Annotated[int | None, typer.Option("--max-pages", min=1, help="Stop after this many pages.", rich_help_panel=CRAWL)]
MaxDepth = Annotated[int | None, typer.Option("--max-depth", min=0, help="Do not follow links deeper than this many clicks from the start URL.", rich_help_panel=CRAWL)]
MaxUrlLength = Annotated[int, typer.Option("--max-url-length", min=16, help="Skip URLs longer than this.", rich_help_panel=CRAWL)]
MaxTime = Annotated[float | None, typer.Option("--max-time", min=1, help="Stop the whole crawl after this many seconds (saved; resumable).", rich_help_panel=CRAWL)]
MaxPatternChain = Annotated[int, typer.Option("--max-pattern-chain", min=1, help="Crawler-trap guard: skip a URL reached through more than N consecutive links of the same URL shape (calendars, session ids).", rich_help_panel=CRAWL)]
StripQuery = Annotated[list[str] | None, typer.Option("--strip-query", help="Drop this query parameter from URLs (repeatable, globs: 'utm_*').", rich_help_panel=CRAWL)]
NoSitemaps = Annotated[bool, typer.Option("--no-sitemaps", help="Do not read XML sitemaps.", rich_help_panel=CRAWL)]
NoResources = Annotated[bool, typer.Option("--no-resources", help="Do not check internal images, scripts and stylesheets.", rich_help_panel=CRAWL)]
CheckExternal = Annotated[bool, typer.Option("--check-external", help="Check the status of external links (HEAD then GET).", rich_help_panel=CRAWL)]
FollowNofollow = Annotated[bool, typer.Option("--follow-nofollow", help="Follow rel=nofollow links and links of nofollow pages.", rich_help_panel=CRAWL)]
IgnoreRobots = Annotated[bool, typer.Option("--ignore-robots", help="Do not obey robots.txt (blocked URLs are fetched; use only on sites you own).", rich_help_panel=POLITE)]
AllowPrivate = Annotated[bool, typer.Option("--allow-private", help="Follow links and redirects from a public site into private/loopback addresses.", rich_help_panel=POLITE)]
UserAgent = Annotated[str | None, typer.Option("--user-agent", "-A", help="User-Agent header (default: emaudit/<version> (+project URL)).", rich_help_panel=POLITE)]
Concurrency = Annotated[int, typer.Option("--concurrency", "-c", min=1, max=256, help="Requests in flight at once.", rich_help_panel=POLITE)]
Rate = Annotated[float | None, typer.Option("--rate", min=0.01, help="Maximum requests per second per host.", rich_help_panel=POLITE)]
Retries = Annotated[int, typer.Option("--retries", min=0, max=10, help="Retries on connection errors, 429 and 503 (honouring Retry-After).", rich_help_panel=POLITE)]
Timeout = Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds per request.", rich_help_panel=POLITE)]
MaxBytes = Annotated[str, typer.Option("--max-bytes", help="Largest body read per response (e.g. 10MB, 500KB); larger ones are truncated and flagged.", rich_help_panel=POLITE)]
Http2 = Annotated[bool, typer.Option("--http2", help="Use HTTP/2 when the server offers it.", rich_help_panel=POLITE)]
Header = Annotated[list[str] | None, typer.Option("--header", "-H", help="Extra request header 'Name: value' (repeatable; never stored).", rich_help_panel=POLITE)]
Auth = Annotated[str | None, typer.Option("--auth", help="HTTP basic auth 'user:password' (never stored).", rich_help_panel=POLITE)]
Insecure = Annotated[bool, typer.Option("--insecure", help="Do not verify TLS certificates (staging sites).", rich_help_panel=POLITE)]
ParseWorkers = Annotated[int, typer.Option("--parse-workers", min=-1, max=16, help="Processes parsing HTML beside the crawler (-1: two when the machine has a second core; 0: parse in the crawler process).", rich_help_panel=POLITE)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress, logs or summary on stderr/stdout (errors still go to stderr).", rich_help_panel=OUT)]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 10**6, "mb": 10**6, "mib": 1024**2, "g": 10**9, "gb": 10**9, "gib": 1024**3}


def parse_size(value: str) -> int:
    """``'10MB'`` → 10_000_000; raises typer.BadParameter."""
    match = _SIZE.match(value)
    unit = (match.group(2) or "").lower() if match else ""
    if not match or unit not in _UNITS:
        raise typer.BadParameter(f"not a size: {value!r} (examples: 10MB, 500KB, 1048576)")
    return max(1024, int(float(match.group(1)) * _UNITS[unit]))


def parse_auth(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user:
        raise typer.BadParameter("--auth must look like 'user:password'")
    return user, password


def parse_headers(values: list[str] | None) -> dict[str, str]:
    from emaudit.http import parse_header_option

    out: dict[str, str] = {}
    for value in values or []:
        try:
            name, val = parse_header_option(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        out[name] = val
    return out


def read_url_list(source: str) -> list[str]:
    """URLs from a file or stdin ('-'): one per line, blank lines and '#' comments skipped."""
    import sys

    from emaudit.errors import UsageError

    if source == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            with open(source, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError as exc:
            raise UsageError(f"cannot read URL list {source}: {exc.strerror or exc}") from exc
    urls = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not urls:
        raise UsageError(f"the URL list {source} is empty")
    return urls
