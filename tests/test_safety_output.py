"""Hostile text from crawled sites is inert in every output format.

Titles, descriptions, headings, anchors, robots.txt lines and sitemap URLs carry rich markup,
ANSI escapes, control characters, HTML/JS and spreadsheet formulas. Whatever the command
(crawl summary, audit table/json/jsonl/csv/markdown, robots, sitemap) and whatever the format:
no raw control character reaches the output, rich markup is shown literally, HTML is not live
in Markdown, and no CSV cell starts with a formula trigger.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from chaos import ChaosServer, page, run_cli
from sitekit import html

pytestmark = pytest.mark.slow

EVIL = ('[bold red]PWNED[/] \x1b[31mRED\x1b[0m\x1b]8;;http://evil.example\x07link\x1b]8;;\x07 \x07\x08\x0b\x9b31m '
        '=HYPERLINK("http://evil.example","x") <script>alert(1)</script> <img src=x onerror=alert(2)> | `tick` *star*')
FORMULA = '=cmd|\' /C calc\'!A0'
# C0 controls except tab/newline, DEL and C1 controls; a CR only as part of CRLF (csv line ends).
_RAW_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")


def assert_no_controls(text: str, where: str) -> None:
    bad = _RAW_CONTROL.search(text)
    assert bad is None, f"{where}: raw control {bad.group()!r} at {bad.start()}: {text[max(0, bad.start() - 60):bad.start() + 20]!r}"


def assert_markup_literal(text: str, where: str) -> None:
    """When the hostile text is shown, its rich markup is shown as written, not applied."""
    if "PWNED" in text:
        assert re.search(r"\\?\[bold red\\?\]PWNED|\\\[bold red]PWNED", text), f"{where}: rich markup was interpreted"


def assert_csv_defanged(text: str, where: str) -> None:
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert not cell[:1] in ("=", "+", "-", "@", "\t", "\r") or cell.lstrip("-").replace(".", "", 1).isdigit(), \
                f"{where}: CSV cell starts with a formula trigger: {cell[:60]!r}"


def assert_markdown_inert(text: str, where: str) -> None:
    outside_code = re.sub(r"`[^`\n]*`", "", text)
    assert "<script" not in outside_code.lower() and "<img" not in outside_code.lower(), f"{where}: live HTML"


def check(text: str, fmt: str, where: str) -> None:
    assert_no_controls(text, where)
    if fmt in ("json", "jsonl"):
        docs = [json.loads(line) for line in text.splitlines() if line.strip()] if fmt == "jsonl" else [json.loads(text)]
        assert docs
    elif fmt == "csv":
        assert_csv_defanged(text, where)
    elif fmt == "markdown":
        assert_markdown_inert(text, where)
        assert_markup_literal(text, where)
    else:
        assert_markup_literal(text, where)


def _evil_page(title: str) -> object:
    body = (f"<h1>{EVIL}</h1><p>{EVIL}</p><a href='/a'>{EVIL}</a><a href='/b'>click here</a>"
            f"<a href='/c'>{FORMULA}</a><img src='/i.png' alt='{EVIL}'>")
    return page(html(title, body, head=f'<meta name="description" content="{EVIL}">'))


@pytest.fixture(scope="module")
def evil_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("safety-output")
    routes = {"/": _evil_page(EVIL), "/a": _evil_page(EVIL), "/b": _evil_page(FORMULA), "/c": _evil_page(FORMULA),
              "/i.png": page(b"\x89PNG", content_type="image/png"),
              "/canon": page(html(EVIL, "x", head=f'<link rel="canonical" href="{EVIL}">'))}
    routes["/"] = page(html(EVIL, f"<a href='/a'>{EVIL}</a><a href='/b'>b</a><a href='/canon'>{FORMULA}</a>"
                                  f"<a href='/p[bold]x[/]?q=\x1b[31m'>odd url</a>",
                            head=f'<meta name="description" content="{EVIL}">'))
    with ChaosServer(routes) as srv:
        store = str(tmp / "evil.emaudit.db")
        text = run_cli(["crawl", srv.url("/"), "--store", store, "--no-sitemaps"], cwd=str(tmp), deadline=30)
        as_json = run_cli(["crawl", srv.url("/"), "--store", str(tmp / "evil2.emaudit.db"), "--no-sitemaps",
                           "--format", "json"], cwd=str(tmp), deadline=30)
    return tmp, store, text, as_json


def test_crawl_summary_is_inert(evil_store):
    _, _, text, as_json = evil_store
    assert text.code == 0 and as_json.code == 0, text.err + as_json.err
    check(text.out, "text", "crawl summary")
    check(as_json.out, "json", "crawl --format json")
    assert_no_controls(text.err + as_json.err, "crawl stderr")


AUDIT_FORMATS = ["table", "json", "jsonl", "csv", "markdown"]


@pytest.fixture(scope="module")
def audit_outputs(evil_store):
    tmp, store, _, _ = evil_store
    return {fmt: run_cli(["audit", store, "--format", fmt, "--verbose"], cwd=str(tmp), deadline=60) for fmt in AUDIT_FORMATS}


@pytest.mark.parametrize("fmt", AUDIT_FORMATS)
def test_audit_output_is_inert(audit_outputs, fmt):
    run = audit_outputs[fmt]
    assert run.code in (0, 1), run.err
    assert run.out.strip()
    check(run.out, fmt, f"audit --format {fmt}")
    assert_no_controls(run.err, f"audit --format {fmt} stderr")


def test_audit_shows_the_hostile_text_somewhere(audit_outputs):
    """Guard against a vacuous pass: the evil title does reach the reports (escaped)."""
    for fmt in ("json", "table", "markdown", "csv"):
        assert "PWNED" in audit_outputs[fmt].out, fmt


ROBOTS = (f"User-agent: *\nDisallow: /[bold red]x[/]\x1b[31m\nDisallow: {FORMULA}\n"
          f"User-agent: \x1b[2J\x1b[H{EVIL}\nAllow: /\nSitemap: http://127.0.0.1/s.xml\x1b[0m\n# {EVIL}\nDissallow: /typo{EVIL}\n")


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_robots_output_is_inert(tmp_path, fmt):
    with ChaosServer({"/robots.txt": page(ROBOTS, content_type="text/plain")}) as srv:
        validate = ["--validate"] if fmt != "csv" else []  # --validate has no CSV form
        run = run_cli(["robots", srv.url("/"), "/[bold red]x[/]", f"/{FORMULA}", "/\x1b[31mz", *validate,
                       "--format", fmt, "--timeout", "2"], cwd=str(tmp_path), deadline=30)
    assert run.code in (0, 1), run.err
    assert run.out.strip()
    check(run.out, fmt, f"robots --format {fmt}")
    assert_no_controls(run.err, "robots stderr")


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "txt"])
def test_sitemap_output_is_inert(tmp_path, fmt):
    lines = [f"http://127.0.0.1/{EVIL}", f"http://127.0.0.1/ok?{FORMULA}", "http://127.0.0.1/[bold]b[/]",
             f"{FORMULA}", "\x1b[2Jnot a url"]
    with ChaosServer() as srv:
        srv.routes["/sitemap.txt"] = page("\n".join(lines).replace("127.0.0.1", f"127.0.0.1:{srv.port}"),
                                          content_type="text/plain")
        run = run_cli(["sitemap", srv.url("/sitemap.txt"), "--format", fmt], cwd=str(tmp_path), deadline=30)
    assert run.code in (0, 1), run.err
    assert run.out.strip()
    check(run.out, "csv" if fmt == "csv" else ("json" if fmt == "json" else "text"), f"sitemap --format {fmt}")
    assert_no_controls(run.err, "sitemap stderr")
