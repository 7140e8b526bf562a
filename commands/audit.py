"""``emaudit audit``: audit a crawl store (or crawl a URL first) and report findings and scores."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from emaudit.commands import _options as o

RULES_PANEL = "Rules and report"
STORE_SUFFIXES = (".db", ".sqlite", ".sqlite3")

Format = Annotated[str, typer.Option("--format", "-f", help="Report format: table, json, jsonl, csv or markdown.", rich_help_panel=RULES_PANEL)]
OutputFile = Annotated[str | None, typer.Option("--output", "-o", help="Write the report to this file (atomically) instead of stdout.", rich_help_panel=RULES_PANEL)]
FailOn = Annotated[str | None, typer.Option("--fail-on", help="Exit with code 1 when findings of this severity or worse exist: error, warning or notice (default: never).", rich_help_panel=RULES_PANEL)]
Select = Annotated[list[str] | None, typer.Option("--select", help="Only these rules: ids, groups (title) or categories, comma-separated or repeated; replaces the config's select.", rich_help_panel=RULES_PANEL)]
Ignore = Annotated[list[str] | None, typer.Option("--ignore", help="Skip these rules (ids, groups or categories); replaces the config's ignore.", rich_help_panel=RULES_PANEL)]
ConfigFile = Annotated[str | None, typer.Option("--config", help="Configuration file (default: the nearest emaudit.toml, or pyproject.toml with a tool.emaudit table).", rich_help_panel=RULES_PANEL)]
RulePaths = Annotated[list[str] | None, typer.Option("--rules", help="Load extra rules from a .py file or a folder of .py files (repeatable).", rich_help_panel=RULES_PANEL)]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Table: list every finding, not only examples.", rich_help_panel=RULES_PANEL)]
Jobs = Annotated[int | None, typer.Option("--jobs", "-j", min=1, max=64, help="Processes for the page pass (default: one per CPU, up to 8, on sites of 5,000+ HTML pages; 1: no worker processes).", rich_help_panel=RULES_PANEL)]


def audit(
    target: Annotated[str, typer.Argument(help="A crawl store file (re-audit without fetching) or a URL to crawl first.", show_default=False)],
    output_format: Format = "table",
    output: OutputFile = None,
    fail_on: FailOn = None,
    select: Select = None,
    ignore: Ignore = None,
    config: ConfigFile = None,
    rules: RulePaths = None,
    verbose: Verbose = False,
    jobs: Jobs = None,
    quiet: o.Quiet = False,
    store: o.StorePath = None,
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
) -> None:
    """Audit a site: run the rules over a crawl store and report findings, scores and priorities.

    TARGET is an existing crawl store (audit again without refetching: the way to tune the
    configuration) or a URL, crawled first with the crawl options below.

    Example: emaudit audit example.emaudit.db --format json -o audit.json --fail-on error
    """
    from emaudit.audit import audit_store, load_settings
    from emaudit.config import split_csv
    from emaudit.errors import UsageError
    from emaudit.render import FORMATS, render
    from emaudit.render.output import open_output
    from emaudit.store import needs_finalizing

    if output_format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}")
    if fail_on is not None and fail_on not in ("error", "warning", "notice"):
        raise UsageError(f"--fail-on must be error, warning or notice, not {fail_on!r}")
    settings = load_settings(config_path=config, select=split_csv(select), ignore=split_csv(ignore),
                             rule_paths=rules or (), fail_on=fail_on)
    if _is_store(target):
        store_path = target
    else:
        from emaudit.commands.crawl import crawl_kwargs

        crawl_args = crawl_kwargs(locals())
        store_path = _crawl(target, crawl_args, quiet)
    with open_output(output, terminal=output_format == "table") as out:
        sink = _jsonl_sink(out) if output_format == "jsonl" else None
        if not quiet and sys.stderr.isatty():
            if os.path.isfile(store_path) and needs_finalizing(store_path):
                sys.stderr.write(f"emaudit: finalising {store_path} first (left by an interrupted crawl)…\n")
            sys.stderr.write(f"emaudit: auditing {store_path} with {len(settings.rules)} rules…\n")
        result = audit_store(store_path, settings, target=target, sink=sink, workers=jobs)
        with result:
            if sink is None:
                render(output_format, result, out, verbose=verbose)
            failed = result.fails(settings.fail_on)
            summary = f"{result.total} findings, overall score {result.scores.overall}"
    if output and not quiet and sys.stderr.isatty():
        sys.stderr.write(f"emaudit: wrote {output} ({summary})\n")
    raise typer.Exit(1 if failed else 0)


def _is_store(target: str) -> bool:
    """An existing file, or something that can only be meant as one (``x.db``); else a URL."""
    if "://" in target:
        return False
    return os.path.exists(target) or target.endswith(STORE_SUFFIXES) or os.sep in target


def _crawl(target: str, crawl_args: dict[str, Any], quiet: bool) -> str:
    from emaudit.commands.crawl import build_crawl_options, run_with_progress

    options = build_crawl_options(target, **crawl_args)
    summary = run_with_progress(options, resume=None, quiet=quiet)
    if not quiet and sys.stderr.isatty():  # chatter: only for a person at a terminal
        sys.stderr.write(f"emaudit: crawled {summary.pages} pages into {summary.store}\n")
    return summary.store


def _jsonl_sink(out: Any) -> Any:
    from emaudit.render.jsonl import JsonlSink

    return JsonlSink(out)
