"""``emaudit crawl``: crawl a site politely into a crawl store."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from emaudit.commands import _options as o


def build_crawl_options(
    start_url: str | None,
    *,
    store: str | None = None,
    list_file: str | None = None,
    subdomains: bool = False,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    max_pages: int | None = None,
    max_depth: int | None = None,
    max_url_length: int = 2048,
    max_time: float | None = None,
    max_pattern_chain: int = 100,
    strip_query: list[str] | None = None,
    no_sitemaps: bool = False,
    no_resources: bool = False,
    check_external: bool = False,
    follow_nofollow: bool = False,
    ignore_robots: bool = False,
    allow_private: bool = False,
    user_agent: str | None = None,
    concurrency: int = 8,
    rate: float | None = None,
    retries: int = 2,
    timeout: float = 20.0,
    max_bytes: str = "10MB",
    http2: bool = False,
    header: list[str] | None = None,
    auth: str | None = None,
    insecure: bool = False,
    parse_workers: int = -1,
) -> Any:
    """Command-line values → :class:`emaudit.crawler.CrawlOptions` (shared with ``audit URL``)."""
    from emaudit.crawler import CrawlOptions
    from emaudit.errors import UsageError
    from emaudit.http import DEFAULT_USER_AGENT

    list_urls = o.read_url_list(list_file) if list_file else None
    if start_url is None:
        if not list_urls:
            raise UsageError("give a START_URL (or --list FILE, or --resume STORE)")
        start_url = list_urls[0]
    return CrawlOptions(
        start_url=start_url,
        store_path=store,
        list_urls=list_urls,
        subdomains=subdomains,
        include=list(include or []),
        exclude=list(exclude or []),
        max_pages=max_pages,
        max_depth=max_depth,
        max_url_length=max_url_length,
        max_time=max_time,
        max_pattern_chain=max_pattern_chain,
        strip_query=list(strip_query or []),
        sitemaps=not no_sitemaps and list_urls is None,
        resources=not no_resources,
        check_external=check_external,
        follow_nofollow=follow_nofollow,
        ignore_robots=ignore_robots,
        allow_private=allow_private,
        user_agent=user_agent or DEFAULT_USER_AGENT,
        concurrency=concurrency,
        rate=rate,
        retries=retries,
        timeout=timeout,
        max_bytes=o.parse_size(max_bytes),
        http2=http2,
        headers=o.parse_headers(header),
        auth=o.parse_auth(auth),
        verify_tls=not insecure,
        parse_workers=parse_workers,
    )


def crawl_kwargs(values: dict[str, Any]) -> dict[str, Any]:
    """The crawl options among a command's parameters (``locals()``), for :func:`build_crawl_options`.

    ``crawl`` and ``audit URL`` declare the same options (Typer needs them in each signature);
    this picks them by name instead of repeating the list at every call.
    """
    import inspect

    names = [p.name for p in inspect.signature(build_crawl_options).parameters.values() if p.kind is p.KEYWORD_ONLY]
    return {name: values[name] for name in names if name in values}


def run_with_progress(options: Any, *, resume: str | None, quiet: bool) -> Any:
    """Run the crawl with a live progress line on stderr when it is a terminal."""
    from emaudit.console import CrawlProgress
    from emaudit.crawler import run_crawl

    show = not quiet and sys.stderr.isatty()
    with CrawlProgress(enabled=show) as progress:
        return run_crawl(options, resume=resume, on_progress=progress.update)


def crawl(
    start_url: Annotated[str | None, typer.Argument(help="Where to start, e.g. https://www.example.com/", show_default=False)] = None,
    store: o.StorePath = None,
    resume: o.Resume = None,
    list_file: o.ListFile = None,
    subdomains: o.Subdomains = False,
    include: o.Include = None,
    exclude: o.Exclude = None,
    max_pages: o.MaxPages = None,
    max_depth: o.MaxDepth = None,
    max_url_length: o.MaxUrlLength = 2048,
    max_time: o.MaxTime = None,
    max_pattern_chain: o.MaxPatternChain = 100,
    strip_query: o.StripQuery = None,
    no_sitemaps: o.NoSitemaps = False,
    no_resources: o.NoResources = False,
    check_external: o.CheckExternal = False,
    follow_nofollow: o.FollowNofollow = False,
    ignore_robots: o.IgnoreRobots = False,
    allow_private: o.AllowPrivate = False,
    user_agent: o.UserAgent = None,
    concurrency: o.Concurrency = 8,
    rate: o.Rate = None,
    retries: o.Retries = 2,
    timeout: o.Timeout = 20.0,
    max_bytes: o.MaxBytes = "10MB",
    http2: o.Http2 = False,
    header: o.Header = None,
    auth: o.Auth = None,
    insecure: o.Insecure = False,
    parse_workers: o.ParseWorkers = -1,
    output_format: Annotated[str, typer.Option("--format", "-f", help="Summary format: text or json (json: one document on stdout, nothing else).", rich_help_panel=o.OUT)] = "text",
    quiet: o.Quiet = False,
) -> None:
    """Crawl a site politely into a local crawl store (SQLite).

    Obeys robots.txt, reads sitemaps, records every URL, redirect hop, page fact and link.
    Ctrl-C stops cleanly; continue later with --resume.

    Example: emaudit crawl https://www.example.com/ --max-pages 500 --store example.emaudit.db
    """
    from emaudit.errors import UsageError

    if output_format not in ("text", "json"):
        raise UsageError(f"--format must be text or json, not {output_format!r}")
    if resume and (start_url or list_file):
        raise UsageError("--resume takes the URL and options from the store: give no START_URL or --list")
    if resume:
        from emaudit.crawler import CrawlOptions

        options = CrawlOptions(start_url="", headers=o.parse_headers(header), auth=o.parse_auth(auth))
    else:
        options = build_crawl_options(start_url, **crawl_kwargs(locals()))
    summary = run_with_progress(options, resume=resume, quiet=quiet)
    from emaudit.console import render_summary

    render_summary(summary, output_format, quiet=quiet)
