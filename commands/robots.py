"""``emaudit robots``: which URLs a robots.txt lets each crawler fetch, and what is wrong with it.

Thin: options in, :mod:`emaudit.robots` decides, one of three renderers writes stdout. Everything
that comes from the file, the server or stdin is made inert before it reaches the terminal.
"""

from __future__ import annotations

import enum
import re
import sys
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from emaudit.commands import _options as o

if TYPE_CHECKING:
    from emaudit.robots import Decision, RobotsTxt, ValidationReport

DEFAULT_AGENTS = ("Googlebot", "emaudit")
SCHEMA_VERSION = 1
CSV_HEADER = ("url", "user_agent", "allowed", "rule", "line")
MAX_TABLE_PROBLEMS = 500  # the table stops there; JSON has them all
MAX_TABLE_RULES = 12  # rules shown per group in the table

Result = tuple[str, str, "Decision"]  # (url or path as given, user agent as given, decision)

# ANSI/OSC escape sequences, then any other C0/C1 control character.
_ESCAPE_SEQ_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Format(str, enum.Enum):
    table = "table"
    json = "json"
    csv = "csv"


UserAgents = Annotated[
    Optional[list[str]],
    typer.Option("--user-agent", "-A", show_default=False, rich_help_panel=o.OUT,
                 help="Crawler to check: a product token (GPTBot) or a full User-Agent header "
                      "(repeatable; default: Googlebot and emaudit)."),
]
Validate = Annotated[bool, typer.Option("--validate", rich_help_panel=o.OUT, help="Also report problems by line, groups, crawl-delays, sitemaps, AI-crawler policy and the RFC 9309 rules that applied.")]
OutputFormat = Annotated[Format, typer.Option("--format", "-f", case_sensitive=False, rich_help_panel=o.OUT, help="table (human), json (one document) or csv (one row per URL and agent).")]
FailIfBlocked = Annotated[bool, typer.Option("--fail-if-blocked", rich_help_panel=o.OUT, help="Exit 1 when any URL is blocked for any agent.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", rich_help_panel=o.OUT, help="No warnings on stderr (errors still go there).")]


def robots(
    target: Annotated[str, typer.Argument(metavar="URL_OR_FILE", show_default=False, help="Site URL (its /robots.txt is fetched) or a local robots.txt file.")],
    paths: Annotated[Optional[list[str]], typer.Argument(metavar="PATHS_OR_URLS", show_default=False, help="Paths or URLs to check, in order; '-' reads them from stdin.")] = None,
    user_agent: UserAgents = None,
    validate: Validate = False,
    fmt: OutputFormat = Format.table,
    fail_if_blocked: FailIfBlocked = False,
    timeout: o.Timeout = 20.0,
    header: o.Header = None,
    quiet: Quiet = False,
) -> None:
    """Check robots.txt: may each crawler fetch these URLs, and which rule on which line decided?

    URL_OR_FILE: a site URL, whose <origin>/robots.txt is fetched with emaudit's own user agent (up to 5 redirects followed, even to another host), or a local robots.txt file.
    PATHS_OR_URLS: paths such as /cart?id=1 or full URLs (only path and query count); '-' reads them from stdin, one per line.
    With none given and no --validate, they are read from stdin when it is not a terminal; else the URL's own path (or /) is checked.

    Matching follows RFC 9309 as Google applies it: the crawler's product token picks its group (else the * group), the longest pattern wins, Allow wins a tie, * and $ are wildcards.
    Lines Google would guess at (Dissallow, a missing colon) are not applied; --validate reports them.
    A robots.txt answering 4xx allows everything; 5xx, 429 or no answer at all disallows everything.

    Exit codes: 0 done, blocked URLs included; 1 with --fail-if-blocked, some URL is blocked for some agent (a 5xx robots.txt blocks all); 2 unreadable file, invalid URL or option; 3 robots.txt could not be fetched at all (DNS, connection, timeout): the results are still printed, all blocked as RFC 9309 says, and the error goes to stderr.

    Example: emaudit robots https://www.example.com /cart /search?q=shoes -A Googlebot -A GPTBot --validate
    """
    from emaudit.errors import UnreachableError, UsageError

    if fmt is Format.csv and validate:
        raise UsageError("--validate has no CSV form: use --format json or --format table")
    urls = _targets(target, paths, validate)  # bad input fails before any request is made
    robots_txt = _load(target, timeout, header)
    agents = list(user_agent or DEFAULT_AGENTS)
    results: list[Result] = [(url, agent, robots_txt.decide(url, agent)) for url in urls for agent in agents]
    if not quiet and _stderr_is_terminal():  # warnings are for a person at a terminal
        _warn(robots_txt, target, urls)
    report = robots_txt.validate() if validate else None
    _RENDERERS[fmt](robots_txt, results, agents, report)
    if robots_txt.status is None:
        raise UnreachableError(
            f"could not fetch {_inert(robots_txt.url or target)}: {_inert(robots_txt.error or 'no answer')}; "
            "RFC 9309 treats that as disallow-all, so every URL above is blocked"
        )
    if fail_if_blocked and any(not decision.allowed for _, _, decision in results):
        raise typer.Exit(1)


# --------------------------------------------------------------------------- input


def _load(target: str, timeout: float, header: list[str] | None) -> RobotsTxt:
    """Fetch the site's robots.txt, or read a local file; bad input is a UsageError."""
    from emaudit import robots as core
    from emaudit.errors import UsageError
    from emaudit.http import HttpSettings
    from emaudit.urls import InvalidURL

    if target.lower().startswith(("http://", "https://")):
        from emaudit.urls import host_of

        # Headers go to the site's host only, not to a host its robots.txt redirects to.
        settings = HttpSettings(timeout=timeout, headers=o.parse_headers(header), credential_hosts=(host_of(target),))
        try:
            return core.fetch_robots(target, settings)
        except InvalidURL as exc:
            raise UsageError(f"invalid URL {_inert(target)}: {_inert(str(exc))}") from exc
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", target):
        raise UsageError(f"only http(s) URLs can be fetched, got {_inert(target)}")
    try:
        return core.read_robots_file(target)
    except OSError as exc:
        hint = f" (a site? use https://{target})" if "." in target and "/" not in target else ""
        raise UsageError(f"cannot read robots.txt file {_inert(target)}: {exc.strerror or exc}{_inert(hint)}") from exc


def _targets(target: str, paths: list[str] | None, validate: bool) -> list[str]:
    """URLs/paths to check, in input order; '-' (or piped stdin when none are given) reads stdin."""
    items: list[str] = []
    for path in paths or []:
        items.extend(_stdin_lines() if path == "-" else [path])
    if not paths and not validate:
        items = _stdin_lines() if _stdin_is_piped() else []
        items = items or [_default_path(target)]
    for item in items:
        _check_item(item)
    return items


def _stdin_is_piped() -> bool:
    return sys.stdin is not None and not sys.stdin.isatty()


def _stdin_lines() -> list[str]:
    """One path per line; blank lines and '#' comments skipped. Ends at EOF."""
    lines = (line.strip() for line in sys.stdin)
    return [line for line in lines if line and not line.startswith("#")]


def _default_path(target: str) -> str:
    """The site URL's own path and query, unless it is / or /robots.txt: then /."""
    from emaudit.robots import request_path

    if not target.lower().startswith(("http://", "https://")):
        return "/"
    path = request_path(target)
    return "/" if path in ("/", "/robots.txt") else path


def _check_item(item: str) -> None:
    from emaudit.errors import UsageError

    if not item.startswith(("/", "*")) and not item.lower().startswith(("http://", "https://")):
        raise UsageError(f"{_inert(item)!r} is neither a path starting with '/' nor an http(s) URL")


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _warn(robots_txt: RobotsTxt, target: str, urls: list[str]) -> None:
    """RFC behaviour that changed the outcome, file-level oddities, URLs of another origin."""
    messages = robots_txt.warnings()
    if target.lower().startswith(("http://", "https://")):
        origin = (robots_txt.url or "").removesuffix("/robots.txt")
        messages += [
            f"{url} is not on {origin}: that robots.txt does not govern it (checked against it anyway)"
            for url in urls
            if url.lower().startswith(("http://", "https://")) and not _same_origin(url, origin)
        ]
    for message in messages:
        typer.echo(f"emaudit: warning: {_inert(message)}", err=True)


def _same_origin(url: str, origin: str) -> bool:
    from emaudit.urls import InvalidURL, normalise, origin_of

    try:
        return origin_of(normalise(url)) == origin
    except InvalidURL:
        return False


# --------------------------------------------------------------------------- output helpers


def _inert(value: object) -> str:
    """Text from the file, the server or stdin, unable to style or move the terminal.

    Escape sequences and control characters become visible ``\\xNN`` text; callers render the
    result as plain ``rich.text.Text`` (or through ``rich.markup.escape``), never as markup.
    """
    text = str(value).replace("\t", " ")
    text = _ESCAPE_SEQ_RE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)
    return _CONTROL_RE.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def _defang(cell: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection), controls made visible."""
    cell = "\t".join(_inert(part) for part in cell.split("\t"))  # tabs kept (a leading one is defanged)
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _reason(decision: Decision, mode: str) -> str:
    if decision.rule is not None:
        return f"{decision.rule} (line {decision.line})"
    if not decision.allowed:
        return "robots.txt unreachable: everything disallowed"
    if mode == "allow_all":
        return "robots.txt unavailable: everything allowed"
    if mode == "disallow_all":
        return "/robots.txt itself is always allowed"
    return "no rule matches"


def _result_dict(result: Result) -> dict[str, Any]:
    url, agent, decision = result
    return {"url": url, "user_agent": agent, "allowed": decision.allowed,
            "rule": decision.rule, "line": decision.line}


# --------------------------------------------------------------------------- renderers


def _render_json(robots_txt: RobotsTxt, results: list[Result], agents: list[str],
                 report: ValidationReport | None) -> None:
    import json

    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "robots_url": robots_txt.url,
        "fetched_url": robots_txt.fetched_url,
        "status": robots_txt.status,
        "mode": robots_txt.mode,
        "error": robots_txt.error,
        "body_truncated": robots_txt.body_truncated,
        "results": [_result_dict(r) for r in results],
    }
    if report is not None:
        doc["validation"] = report.to_dict()
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")  # ensure_ascii: no raw control bytes


def _render_csv(robots_txt: RobotsTxt, results: list[Result], agents: list[str],
                report: ValidationReport | None) -> None:
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for url, agent, decision in results:
        row = (url, agent, "true" if decision.allowed else "false", decision.rule or "",
               "" if decision.line is None else str(decision.line))
        writer.writerow([_defang(cell) for cell in row])


def _render_table(robots_txt: RobotsTxt, results: list[Result], agents: list[str],
                  report: ValidationReport | None) -> None:
    from rich.console import Console

    console = Console(highlight=False, markup=False, emoji=False)
    if results:
        console.print(_matrix(robots_txt, results, agents))
    if report is not None:
        for renderable in _validation_tables(report):
            console.print(renderable)


def _matrix(robots_txt: RobotsTxt, results: list[Result], agents: list[str]) -> Any:
    """Rows: URLs in input order; columns: agents; cells: verdict and the rule and line behind it."""
    from rich.table import Table
    from rich.text import Text

    title = f"{robots_txt.url} (HTTP {robots_txt.status if robots_txt.status is not None else 'no answer'}, {robots_txt.mode})"
    table = Table(title=Text(_inert(title)), show_lines=True)
    table.add_column("URL", overflow="fold")
    for agent in agents:
        table.add_column(Text(_inert(agent)), overflow="fold")
    for start in range(0, len(results), len(agents)):
        row = results[start : start + len(agents)]
        table.add_row(Text(_inert(row[0][0])), *(_cell(d, robots_txt.mode) for _, _, d in row))
    return table


def _cell(decision: Decision, mode: str) -> Any:
    from rich.text import Text

    cell = Text("allowed" if decision.allowed else "blocked", style="green" if decision.allowed else "bold red")
    cell.append("\n" + _inert(_reason(decision, mode)), style="dim")
    return cell


def _validation_tables(report: ValidationReport) -> list[Any]:
    """Problems, groups, sitemaps, AI crawlers, RFC notes: one rich table each, when not empty."""
    tables = [_problems_table(report), _groups_table(report), _ai_table(report)]
    lists = [("Sitemaps", report.sitemaps), ("RFC 9309 behaviour applied", report.rfc_notes),
             ("Notices", report.notices)]
    tables += [_list_table(title, items) for title, items in lists if items]
    return [t for t in tables if t is not None]


def _problems_table(report: ValidationReport) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"Problems ({len(report.problems)})", title_justify="left")
    for name in ("Line", "Problem", "Text"):
        table.add_column(name, overflow="fold")
    for line, message, text in report.problems[:MAX_TABLE_PROBLEMS]:
        table.add_row(str(line), Text(_inert(message)), Text(_inert(text)))
    if len(report.problems) > MAX_TABLE_PROBLEMS:
        table.add_row("", Text(f"… {len(report.problems) - MAX_TABLE_PROBLEMS} more (see --format json)"), "")
    if not report.problems:
        table.add_row("", "none", "")
    return table


def _groups_table(report: ValidationReport) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"Groups ({len(report.groups)})", title_justify="left")
    for name in ("User agents", "Rules", "Crawl-delay"):
        table.add_column(name, overflow="fold")
    for agents, rules, delay in report.groups:
        shown = rules[:MAX_TABLE_RULES] + ([f"… {len(rules) - MAX_TABLE_RULES} more"] if len(rules) > MAX_TABLE_RULES else [])
        table.add_row(Text("\n".join(map(_inert, agents))), Text("\n".join(map(_inert, shown)) or "(none: allows all)"),
                      "" if delay is None else f"{delay:g}")
    return table


def _ai_table(report: ValidationReport) -> Any:
    from rich.table import Table
    from rich.text import Text

    styles = {"blocked": "red", "partly blocked": "yellow", "allowed": "green"}
    table = Table(title="AI crawlers (at /)", title_justify="left")
    for name in ("Crawler", "Operator", "Purpose", "Status", "Group"):
        table.add_column(name, overflow="fold")
    for policy in report.ai_policy:
        group = ", ".join(policy.group) or "(none: allowed)"
        table.add_row(policy.user_agent, policy.operator, policy.purpose,
                      Text(policy.status, style=styles[policy.status]), Text(_inert(group)))
    return table


def _list_table(title: str, items: list[str]) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(overflow="fold")
    for item in items:
        table.add_row(Text(_inert(item)))
    return table


_RENDERERS = {Format.table: _render_table, Format.json: _render_json, Format.csv: _render_csv}
