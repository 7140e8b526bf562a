"""Every report format, the JSON Schema, escaping of hostile page text, CSV defanging, atomic -o."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
from storekit import BASE, StoreBuilder

from emaudit.api import Options, rule
from emaudit.audit import run_audit
from emaudit.config import ActiveRule
from emaudit.render import FORMATS, render
from emaudit.render.output import open_output
from emaudit.render.safe import csv_cell, markdown_text, plain, terminal
from emaudit.store import Store

SCHEMA = json.loads((Path(__file__).parents[1] / "emaudit" / "schemas" / "audit-1.json").read_text(encoding="utf-8"))
HOSTILE = "[bold red]x[/] \x1b[31mred\x1b[0m | `code` <script>alert(1)</script> [link](http://evil)\nnext"
FORMULAS = ("=HYPERLINK(\"http://evil\")", "+1+1", "-2", "@SUM(A1)", "\tTab", "\rCR")


@rule(id="echo.title", category="content", severity="warning", scope="page", title="Echo the title")
def echo_title(page, opts):
    """Puts page-derived text in messages and details, as real rules do."""
    title = page.facts.title or ""
    yield page.finding(title, observed=title, snippet=f"<title>{title}</title>")


@rule(id="echo.site", category="links", severity="error", scope="site", title="Site finding")
def echo_site(site, opts):
    yield site.finding(site.start_url, "Site-wide problem", target=BASE + "/x", related=[BASE + "/a"])


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def result(tmp_path):
    b = StoreBuilder(str(tmp_path / "s.db"))
    b.page("/", title=HOSTILE, depth=0, links=["/a"])
    for i, formula in enumerate(FORMULAS):
        b.page(f"/f{i}", title=formula)
    path = b.build()
    rules = [ActiveRule(f.__emaudit_rule__, f.__emaudit_rule__.severity, Options({})) for f in (echo_title, echo_site)]
    with Store.open(path) as store, run_audit(store, rules, target=path) as res:
        yield res


def _render(fmt, result, out=None, verbose=True):
    out = out or io.StringIO()
    render(fmt, result, out, verbose=verbose)
    return out.getvalue()


def test_json_document_validates_against_the_schema(result):
    doc = json.loads(_render("json", result))
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["schema"] == "emaudit.audit/1"
    assert doc["summary"]["findings"] == len(doc["findings"]) == 1 + 1 + len(FORMULAS)
    assert doc["findings"][0]["rule"] == "echo.site"  # errors first
    assert [i["rank"] for i in doc["issues"]] == [1, 2]
    assert doc["issues"][0]["impact"] >= doc["issues"][1]["impact"]
    hostile = next(f for f in doc["findings"] if f["url"] == BASE + "/" and f["rule"] == "echo.title")
    assert hostile["message"] == HOSTILE  # JSON carries the data unchanged: escaping is the reader's job


def test_json_without_findings_is_valid(tmp_path):
    path = StoreBuilder(str(tmp_path / "e.db")).build()
    with Store.open(path) as store, run_audit(store, []) as res:
        doc = json.loads(_render("json", res))
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["findings"] == [] and doc["score"]["overall"] is None


def test_schema_rejects_a_wrong_document(result):
    doc = json.loads(_render("json", result))
    doc["findings"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def test_jsonl_one_finding_per_line(result):
    lines = _render("jsonl", result).splitlines()
    assert len(lines) == result.total
    assert [json.loads(line) for line in lines] == [f.to_dict() for f in result.findings]
    assert all(set(json.loads(line)) == {"rule", "severity", "category", "url", "message", "details", "fingerprint"}
               for line in lines)


def test_csv_rows_and_defanging(result):
    rows = list(csv.reader(io.StringIO(_render("csv", result), newline="")))
    assert rows[0] == ["rule", "severity", "category", "url", "message", "target", "fingerprint", "details"]
    assert len(rows) == 1 + result.total
    messages = {row[4] for row in rows[1:]}
    for formula in FORMULAS:
        assert "'" + formula in messages
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    site_row = next(r for r in rows if r[0] == "echo.site")
    assert site_row[5] == BASE + "/x" and json.loads(site_row[7])["related"] == [BASE + "/a"]


@pytest.mark.parametrize("value", ["=1+1", "+x", "-x", "@x", "\tx", "\rx"])
def test_csv_cell_defangs(value):
    assert csv_cell(value) == "'" + value
    assert csv_cell("plain =") == "plain ="


def test_table_plain_when_not_a_terminal_and_markup_shown_literally(result):
    text = _render("table", result)
    assert "\x1b" not in text
    assert "[bold red]x[/]" in text  # shown, not applied
    assert "red | `code`" in text  # the page's escape sequence is gone, its text kept
    assert "Site-wide problem" in text and "echo.title" in text


def test_table_on_a_terminal_keeps_page_text_inert(result, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    text = _render("table", result, TTY())
    assert "\x1b[" in text  # our own colours are on
    assert "[bold red]x[/]" in text
    assert "\x1b[31mred" not in text and "\x1b[0m |" not in text


def test_no_color_env_turns_colours_off(result, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert ";31m" in _render("table", result, TTY())  # errors are bold red
    monkeypatch.setenv("NO_COLOR", "1")
    assert not re.search(r"\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;)", _render("table", result, TTY()))


def test_table_verbose_lists_every_url_and_summary_shows_examples(result):
    full = _render("table", result, verbose=True)
    short = _render("table", result, verbose=False)
    for i in range(len(FORMULAS)):
        assert f"{BASE}/f{i}" in full
    assert "more (--verbose)" in short


def test_markdown_escapes_page_text(result):
    text = _render("markdown", result)
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\\[bold red\\]x\\[/\\]" in text
    assert "\\| \\`code\\`" in text
    assert "\x1b" not in text
    finding_lines = [line for line in text.splitlines() if line.startswith(f"- <{BASE}/>: \\[bold")]
    assert len(finding_lines) == 1 and finding_lines[0].endswith("next")  # newline folded into the line
    assert "## Scores" in text and "## Issues by impact" in text and "### `echo.title`" in text


def test_every_format_renders(result):
    for fmt in FORMATS:
        assert _render(fmt, result).strip()


def test_safe_helpers():
    assert plain("a\x1b]8;;http://evil\x07link\x1b]8;;\x07b\x00c\u202ed\n") == "alinkb\ufffdc\ufffdd "
    assert terminal("[red]x") == "\\[red]x"
    assert markdown_text("a|b<c>") == "a\\|b&lt;c&gt;"


def test_output_file_is_written_atomically(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("previous", encoding="utf-8")
    with pytest.raises(RuntimeError), open_output(str(target)) as out:
        out.write("half a rep")
        raise RuntimeError("render failed")
    assert target.read_text(encoding="utf-8") == "previous"
    with open_output(str(target)) as out:
        out.write("new report\n")
    assert target.read_text(encoding="utf-8") == "new report\n"
    assert os.listdir(tmp_path) == ["report.json"]  # no temporary file left behind


def test_output_into_a_missing_folder_is_a_usage_error(tmp_path):
    from emaudit.errors import UsageError

    with pytest.raises(UsageError, match="cannot write"), open_output(str(tmp_path / "nope" / "r.json")):
        pass


def test_output_to_a_device_is_written_in_place(tmp_path):
    """``-o /dev/null`` must not rename a temporary file over the device node."""
    import os
    import stat

    from emaudit.render.output import open_output

    with open_output(os.devnull) as out:
        out.write("{}\n")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert not [p for p in os.listdir(os.path.dirname(os.devnull)) if p.startswith(".null.")]


@pytest.mark.parametrize("state, words", [("interrupted", "was interrupted"), ("running", "did not finish"),
                                          ("stopped", "stopped at a limit"), ("finished", None)])
def test_human_reports_say_first_that_a_crawl_is_partial(result, state, words):
    """A partial crawl's audit misses what was not fetched: table and Markdown say so under the
    header (with the resume command when there is one); JSON has crawl.state."""
    result.crawl["state"] = state
    result.crawl["store"] = "/tmp/[bold]x|y`.db"  # the user's path: escaped like page text
    table = _render("table", result, verbose=False)
    markdown = _render("markdown", result, verbose=False)
    table_head = " ".join(table.split("Overall score")[0].split())  # rich wraps long lines
    markdown_head = markdown.split("## Scores")[0]
    if words is None:
        assert "Partial crawl" not in table and "Partial crawl" not in markdown
        return
    assert f"Partial crawl: it {words}" in table_head
    assert f"Partial crawl: it {words}" in markdown_head and "> **Partial crawl" in markdown_head
    resumable = state != "stopped"
    assert ("emaudit crawl --resume /tmp/[bold]x|y`.db" in table_head) == resumable
    assert ("emaudit crawl --resume /tmp/\\[bold\\]x\\|y\\`.db" in markdown_head) == resumable
    assert json.loads(_render("json", result))["crawl"]["state"] == state
