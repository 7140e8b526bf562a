"""``emaudit audit`` end to end on stores built in the test: exit codes, streams, formats, -o, URL targets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sitekit import Resp, SiteServer, html
from storekit import StoreBuilder

from emaudit import registry as registry_module
from emaudit.cli import main

PLUGINS = str(Path(__file__).parent / "plugins")
# A real process, with the built-in catalogue swapped out (it is written and tested elsewhere).
LAUNCHER = ("import sys, emaudit.registry as r; r._from_entry_points = lambda: iter(()); "
            "from emaudit.cli import main; sys.exit(main(sys.argv[1:]))")


@pytest.fixture(autouse=True)
def no_builtin(monkeypatch):
    monkeypatch.setattr(registry_module, "_from_entry_points", lambda: iter(()))
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def store(tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)  # no stray emaudit.toml from the surroundings
    b = StoreBuilder(str(tmp_path / "site.emaudit.db"))
    b.page("/", title="Home", links=["/a", "/missing"], depth=0, html_lang="en")
    b.page("/a", title="A title much longer than twenty", links=["/"], html_lang="en")
    b.page("/b", title="Home", links=["/"])
    b.url("/missing", status=404)
    return b.build()


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["audit", *args, "--rules", PLUGINS])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_on_stdout_and_nothing_else(store, capsys):
    code, out, err = _run(capsys, store, "--format", "json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["target"] == store and doc["crawl"]["store"] == store
    assert {f["rule"] for f in doc["findings"]} == {"test.broken_link", "test.client_error", "test.duplicate_title",
                                                   "test.long_title", "test.no_lang"}


@pytest.mark.parametrize(("args", "expected"), [
    ((), 0),
    (("--fail-on", "error"), 1),
    (("--fail-on", "warning", "--select", "test.no_lang,test.long_title"), 1),
    (("--fail-on", "error", "--select", "test.no_lang,test.long_title"), 0),
    (("--fail-on", "warning", "--select", "test.no_lang"), 0),
    (("--fail-on", "notice", "--select", "test.no_lang"), 1),
    (("--fail-on", "error", "--ignore", "links,indexability"), 0),
])
def test_fail_on_exit_codes(store, capsys, args, expected):
    assert _run(capsys, store, "--format", "json", *args)[0] == expected


def test_fail_on_from_config_and_command_line_override(store, tmp_path, capsys):
    (tmp_path / "emaudit.toml").write_text('fail_on = "notice"\nselect = ["test.no_lang"]\n', encoding="utf-8")
    assert _run(capsys, store, "-f", "json")[0] == 1
    assert _run(capsys, store, "-f", "json", "--fail-on", "error")[0] == 0
    code, out, _ = _run(capsys, store, "-f", "json", "--select", "test.long_title", "--fail-on", "error")
    assert code == 0 and {r["id"] for r in json.loads(out)["rules"]} == {"test.long_title"}


def test_config_options_change_findings(store, tmp_path, capsys):
    config = tmp_path / "custom.toml"
    config.write_text('[rules."test.long_title"]\nmax_chars = 100\nseverity = "error"\n', encoding="utf-8")
    code, out, _ = _run(capsys, store, "-f", "json", "--config", str(config), "--select", "test.long_title")
    doc = json.loads(out)
    assert code == 0 and doc["findings"] == [] and doc["rules"][0]["severity"] == "error"


def test_output_file(store, tmp_path, capsys, monkeypatch):
    report = tmp_path / "out" / "audit.json"
    report.parent.mkdir()
    code, out, err = _run(capsys, store, "-f", "json", "-o", str(report))
    assert code == 0 and out == ""
    assert json.loads(report.read_text(encoding="utf-8"))["schema"] == "emaudit.audit/1"
    assert err == ""  # stderr is not a terminal: no chatter
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert f"emaudit: wrote {report} (" in _run(capsys, store, "-f", "json", "-o", str(report))[2]
    assert _run(capsys, store, "-f", "csv", "-o", str(report), "--quiet")[2] == ""
    assert report.read_text(encoding="utf-8").startswith("rule,severity,category,url")


def test_table_default_is_plain_text_off_a_terminal(store, capsys):
    code, out, err = _run(capsys, store)
    assert code == 0 and err == ""
    assert "\x1b" not in out
    assert "Overall score" in out and "test.broken_link" in out


def test_jsonl_and_markdown(store, capsys):
    code, out, _ = _run(capsys, store, "-f", "jsonl")
    assert code == 0
    assert len([json.loads(line) for line in out.splitlines()]) == 6
    code, out, _ = _run(capsys, store, "-f", "markdown", "--verbose")
    assert code == 0 and out.startswith("# emaudit audit:")


@pytest.mark.parametrize(("args", "message"), [
    (("--format", "xml"), "--format must be one of table, json, jsonl, csv, markdown"),
    (("--fail-on", "fatal"), "--fail-on must be error, warning or notice"),
    (("--select", "titel"), "--select: unknown rule, group or category 'titel'"),
    (("--config", "/nonexistent.toml"), "--config: no such file"),
])
def test_usage_errors_exit_2_with_one_line(store, capsys, args, message):
    code, out, err = _run(capsys, store, *args)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_missing_store_and_not_a_store(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, "nope.emaudit.db")
    assert code == 2 and "no crawl store at nope.emaudit.db" in err
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    code, _, err = _run(capsys, "junk.db")
    assert code == 2 and "junk.db" in err


def test_broken_rules_path_exits_2(store, tmp_path, capsys):
    bad = tmp_path / "oops.py"
    bad.write_text("raise ValueError('nope')\n", encoding="utf-8")
    code = main(["audit", store, "--rules", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and "rule plugin 'oops'" in err and "ValueError: nope" in err


def test_real_process_streams(store):
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, "audit", store, "--rules", PLUGINS, "-f", "json",
                           "--fail-on", "error"], capture_output=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert proc.stderr == b""
    assert json.loads(proc.stdout.decode("utf-8"))["summary"]["findings"] == 6
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, "audit", store, "--rules", PLUGINS],
                          capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0 and b"\x1b" not in proc.stdout and proc.stderr == b""


def test_url_target_crawls_then_audits(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    routes = {
        "/": Resp(body=html("Home page", '<a href="/gone">gone</a><a href="/about">about</a>')),
        "/about": Resp(body=html("About this fixture site, with a long title", '<a href="/">home</a>')),
        "/robots.txt": Resp(body="User-agent: *\nAllow: /\n", content_type="text/plain"),
    }
    with SiteServer(routes) as site:
        code = main(["audit", site.url("/"), "--store", str(tmp_path / "crawl.db"), "--rules", PLUGINS,
                     "-f", "json", "--no-sitemaps", "--quiet", "--fail-on", "error"])
    out = capsys.readouterr().out
    assert code == 1
    doc = json.loads(out)
    pairs = {(f["rule"], f["url"].removeprefix(site.base)) for f in doc["findings"]}
    assert pairs == {("test.broken_link", "/"), ("test.client_error", "/gone"), ("test.long_title", "/about")}
    assert doc["target"] == site.url("/") and doc["crawl"]["store"] == str(tmp_path / "crawl.db")
    assert (tmp_path / "crawl.db").exists()


def test_jobs_option_gives_the_same_report(store, capsys):
    _, serial, _ = _run(capsys, store, "-f", "jsonl", "--jobs", "1")
    code, parallel, _ = _run(capsys, store, "-f", "jsonl", "-j", "3")
    assert code == 0 and sorted(parallel.splitlines()) == sorted(serial.splitlines())
    assert _run(capsys, store, "--jobs", "0")[0] == 2


def test_ctrl_c_while_an_interrupted_store_is_finalised(tmp_path):
    """The audit of a store left by Ctrl-C finalises it first (seconds to minutes on a big
    store): a signal then stops at once with exit 130 and one line, the store left as it was;
    the next audit finalises it."""
    from storekit import SIGNAL_IN_FINALIZE, build_synthetic

    from emaudit.store import Store

    path = build_synthetic(str(tmp_path / "i.emaudit.db"), pages=200, links_per_page=10)
    with Store.open(path, readonly=False) as store:
        store.requeue_unfinished()
        store.set_run_state("interrupted")
    proc = subprocess.run([sys.executable, "-c", SIGNAL_IN_FINALIZE, "SIGINT", "audit", path, "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 130, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"emaudit: error: interrupted while finalising {path} (left as it was: the next audit finalises it)"]
    with Store.open(path) as store:
        assert not store.finalized
    proc = subprocess.run([sys.executable, "-m", "emaudit", "audit", path, "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["crawl"]["state"] == "interrupted"
    with Store.open(path) as store:
        assert store.finalized
