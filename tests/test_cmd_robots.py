"""``emaudit robots``: local files, fetched robots.txt (127.0.0.1 only), formats, exit codes, escaping."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from emaudit.cli import app, main
from emaudit.robots import MAX_BYTES

ROBOTS = """\
User-agent: *
Disallow: /private
Allow: /private/ok

User-agent: GPTBot
Disallow: /
Sitemap: https://www.example.com/sitemap.xml
"""

runner = CliRunner()


@pytest.fixture(autouse=True)
def _terminal(monkeypatch):
    """Warnings are printed for a person at a terminal: these tests read them."""
    monkeypatch.setattr("emaudit.commands.robots._stderr_is_terminal", lambda: True)


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0)
    srv.start()
    try:
        yield srv
    finally:
        srv.clear()
        srv.stop()


@pytest.fixture
def site(server: HTTPServer) -> Iterator[HTTPServer]:
    server.clear()
    yield server
    server.clear()


@pytest.fixture
def other_host() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0)
    srv.start()
    try:
        yield srv
    finally:
        srv.clear()
        srv.stop()


@pytest.fixture
def robots_file(tmp_path: Path) -> str:
    path = tmp_path / "robots.txt"
    path.write_text(ROBOTS, encoding="utf-8")
    return str(path)


@pytest.fixture
def no_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """``main()`` reads the real sys.stdin, which pytest forbids: give it an empty pipe."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def invoke(*args: str, input: str = "", env: dict[str, str] | None = None):  # noqa: A002
    return runner.invoke(app, ["robots", *args], input=input, env=env)


def base_url(srv: HTTPServer) -> str:
    return srv.url_for("/").rstrip("/")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- local files


def test_table_shows_verdict_rule_and_line(robots_file: str) -> None:
    result = invoke(robots_file, "/private/x", "/private/ok/1", "-A", "Googlebot", "-A", "GPTBot")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Disallow: /private (line 2)" in out and "Allow: /private/ok (line 3)" in out
    assert "Disallow: / (line 6)" in out
    assert out.count("blocked") == 3 and out.count("allowed") == 1
    assert "\x1b[" not in out and result.stderr == ""


def test_json_document_order_and_default_agents(robots_file: str) -> None:
    result = invoke(robots_file, "/a", "https://other.example/private/x?y=1", "--format", "json")
    doc = json.loads(result.stdout)
    assert (doc["schema_version"], doc["status"], doc["mode"], doc["robots_url"]) == (1, 200, "rules", robots_file)
    assert [(r["url"], r["user_agent"]) for r in doc["results"]] == [
        ("/a", "Googlebot"), ("/a", "emaudit"),
        ("https://other.example/private/x?y=1", "Googlebot"), ("https://other.example/private/x?y=1", "emaudit"),
    ]
    assert doc["results"][2] == {"url": "https://other.example/private/x?y=1", "user_agent": "Googlebot",
                                 "allowed": False, "rule": "Disallow: /private", "line": 2}
    assert doc["results"][0]["rule"] is None and doc["results"][0]["line"] is None
    assert "validation" not in doc


def test_csv_rows_and_formula_defang(robots_file: str) -> None:
    result = invoke(robots_file, "/private", "-A", "=HYPERLINK(\"http://x\")", "-A", "@SUM(1)", "-A", "+x",
                    "-A", "\tTab", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["url", "user_agent", "allowed", "rule", "line"]
    assert rows[1] == ["/private", "'=HYPERLINK(\"http://x\")", "false", "Disallow: /private", "2"]
    assert [r[1] for r in rows[2:]] == ["'@SUM(1)", "'+x", "'\tTab"]


def test_paths_from_stdin_when_piped_and_dash(robots_file: str) -> None:
    piped = invoke(robots_file, "-f", "json", input="/private\n\n# comment\n/open\n")
    assert [r["url"] for r in json.loads(piped.stdout)["results"]][::2] == ["/private", "/open"]
    dashed = invoke(robots_file, "/first", "-", "/last", "-f", "json", "-A", "x", input="/mid\n")
    assert [r["url"] for r in json.loads(dashed.stdout)["results"]] == ["/first", "/mid", "/last"]


def test_default_path_is_root(robots_file: str) -> None:
    doc = json.loads(invoke(robots_file, "-f", "json", "-A", "GPTBot").stdout)
    assert doc["results"] == [{"url": "/", "user_agent": "GPTBot", "allowed": False, "rule": "Disallow: /", "line": 6}]


def test_fail_if_blocked(robots_file: str) -> None:
    assert invoke(robots_file, "/private", "--fail-if-blocked").exit_code == 1
    assert invoke(robots_file, "/open", "--fail-if-blocked").exit_code == 0
    assert invoke(robots_file, "/private").exit_code == 0


def test_validate_table_and_json(tmp_path: Path) -> None:
    path = tmp_path / "robots.txt"
    path.write_bytes(b"\xef\xbb\xbfUser-agent: *\nDissallow: /x\nCrawl-delay: 7\nDisallow: /y\n"
                     b"Sitemap: https://e.example/s.xml\n")
    table = invoke(str(path), "--validate")
    assert table.exit_code == 0, table.output
    for text in ("Problems (1)", "Dissallow: /x", "Groups (1)", "Disallow: /y", "7", "AI crawlers",
                 "GPTBot", "partly blocked", "https://e.example/s.xml", "byte-order mark"):
        assert text in table.stdout, text
    assert "User-agent" not in table.stdout.split("Groups")[0].split("Problems")[0]  # no results matrix
    doc = json.loads(invoke(str(path), "--validate", "-f", "json").stdout)
    assert doc["results"] == []
    assert doc["validation"]["problems"][0]["line"] == 2
    assert doc["validation"]["groups"] == [{"user_agents": ["*"], "rules": ["Disallow: /y"], "crawl_delay": 7.0}]
    assert {p["purpose"] for p in doc["validation"]["ai_policy"]} == {"training", "retrieval"}


def test_markup_and_escape_sequences_are_inert(tmp_path: Path) -> None:
    path = tmp_path / "robots.txt"
    path.write_text("User-agent: *\nDisallow: /[bold red]boom\x1b[5;35m\x1b]8;;http://evil\x1b\\\n"
                    "Frobnicate: [link=http://evil]x[/link]\x07\n", encoding="utf-8")
    env = {"FORCE_COLOR": "1", "TERM": "xterm-256color"}  # styles on: the file must still not style
    result = invoke(str(path), "-", "--validate", "-A", "[blink]x", input="/[bold red]boom\x1b[5;35m\n", env=env)
    out = result.stdout
    assert result.exit_code == 0, result.output
    assert "[bold red]" in out and "[blink]" in out and "[link=http://evil]" in out
    assert "\x1b[5;35m" not in out and "\x1b]8;" not in out and "\x07" not in out
    assert "\\x1b[5;35m" in out


def test_validate_has_no_csv_form(robots_file: str, no_stdin: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["robots", robots_file, "--validate", "-f", "csv"]) == 2
    assert "no CSV form" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("target", "message"),
    [("/nonexistent/robots.txt", "cannot read robots.txt file"), ("example.com", "use https://example.com"),
     ("ftp://example.com/", "only http(s) URLs"), ("http://exa mple.com:99999/", "invalid URL")],
)
def test_bad_targets_exit_2(target: str, message: str, no_stdin: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["robots", target, "/"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_path_exits_2(robots_file: str, no_stdin: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["robots", robots_file, "example.com/page"]) == 2
    assert "neither a path" in capsys.readouterr().err


def test_help_has_example_and_exit_codes() -> None:
    out = runner.invoke(app, ["robots", "--help"]).stdout
    assert "Example: emaudit robots https://www.example.com" in out
    assert "--fail-if-blocked" in out and "Exit codes" in out


# --------------------------------------------------------------------------- fetched robots.txt


def test_fetch_uses_our_user_agent_and_origin(site: HTTPServer) -> None:
    site.expect_request("/robots.txt").respond_with_data(ROBOTS, content_type="text/plain")
    result = invoke(base_url(site) + "/private/page?x=1", "-f", "json")
    doc = json.loads(result.stdout)
    assert doc["robots_url"] == base_url(site) + "/robots.txt"
    assert doc["results"][0]["url"] == "/private/page?x=1" and not doc["results"][0]["allowed"]
    (request, _), = site.log
    assert request.headers["User-Agent"].startswith("emaudit/")


def test_404_allows_all_with_a_warning(site: HTTPServer) -> None:
    site.expect_request("/robots.txt").respond_with_data("<html>nope</html>", status=404)
    result = invoke(base_url(site), "/anything", "--fail-if-blocked", "-f", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert (doc["status"], doc["mode"]) == (404, "allow_all")
    assert all(r["allowed"] for r in doc["results"])
    assert "HTTP 404" in result.stderr and "allowed" in result.stderr
    assert invoke(base_url(site), "/anything", "-q").stderr == ""


@pytest.mark.parametrize("status", [500, 503, 429])
def test_5xx_disallows_all(site: HTTPServer, status: int) -> None:
    site.expect_request("/robots.txt").respond_with_data("busy", status=status, headers={"Retry-After": "0"})
    result = invoke(base_url(site), "/a", "/robots.txt", "-f", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert (doc["status"], doc["mode"]) == (status, "disallow_all")
    assert [r["allowed"] for r in doc["results"]] == [False, False, True, True]
    assert "everything is disallowed" in result.stderr
    assert invoke(base_url(site), "/a", "--fail-if-blocked").exit_code == 1


def test_redirect_to_another_host_is_followed(site: HTTPServer, other_host: HTTPServer) -> None:
    target = other_host.url_for("/robots-elsewhere.txt")
    site.expect_request("/robots.txt").respond_with_data("", status=301, headers={"Location": target})
    other_host.expect_request("/robots-elsewhere.txt").respond_with_data("User-agent: *\nDisallow: /moved\n")
    result = invoke(base_url(site), "/moved", "-f", "json", "-A", "x")
    doc = json.loads(result.stdout)
    assert (doc["status"], doc["mode"], doc["fetched_url"]) == (200, "rules", target)
    assert doc["results"][0]["rule"] == "Disallow: /moved"
    assert "redirected to" in result.stderr


def test_more_than_five_redirects_means_unavailable(site: HTTPServer) -> None:
    site.expect_request("/robots.txt").respond_with_data("", status=302, headers={"Location": "/r1"})
    for hop in range(1, 8):
        site.expect_request(f"/r{hop}").respond_with_data("", status=302, headers={"Location": f"/r{hop + 1}"})
    doc = json.loads(invoke(base_url(site), "/x", "-f", "json").stdout)
    assert (doc["status"], doc["mode"]) == (302, "allow_all")
    assert len(site.log) == 6  # robots.txt + 5 redirects, no more


def test_ten_megabyte_file_only_500_kib_parsed(site: HTTPServer) -> None:
    head = "User-agent: *\nDisallow: /early\n"
    filler = "# " + "x" * 1022 + "\n"
    body = head + filler * (10 * 1024) + "Disallow: /late\n"
    site.expect_request("/robots.txt").respond_with_data(body, content_type="text/plain")
    result = invoke(base_url(site), "/early", "/late", "-f", "json", "-A", "x")
    doc = json.loads(result.stdout)
    assert doc["body_truncated"] is True
    assert [r["allowed"] for r in doc["results"]] == [False, True]
    assert f"{MAX_BYTES // 1024} KiB" in result.stderr


def test_html_served_as_robots_txt(site: HTTPServer) -> None:
    site.expect_request("/robots.txt").respond_with_data(
        "<!doctype html><html><body><p>Disallow: /x</p></body></html>", content_type="text/html")
    result = invoke(base_url(site), "/x", "--validate", "-f", "json", "-A", "x")
    doc = json.loads(result.stdout)
    assert doc["results"][0]["allowed"] is True
    assert any("HTML" in n for n in doc["validation"]["notices"])
    assert "looks like an HTML page" in result.stderr


def test_bom_over_http(site: HTTPServer) -> None:
    site.expect_request("/robots.txt").respond_with_data(b"\xef\xbb\xbfUser-agent: *\r\nDisallow: /x\r\n")
    doc = json.loads(invoke(base_url(site), "/x", "-f", "json", "-A", "x").stdout)
    assert doc["results"][0]["rule"] == "Disallow: /x"


def test_foreign_origin_urls_are_warned_about(site: HTTPServer) -> None:
    site.expect_request("/robots.txt").respond_with_data(ROBOTS)
    result = invoke(base_url(site), "https://elsewhere.example/private", base_url(site) + "/private", "-A", "x")
    assert result.exit_code == 0
    assert result.stderr.count("is not on") == 1 and "elsewhere.example" in result.stderr


def test_unreachable_host_reports_blocked_and_exits_3(no_stdin: None, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    code = main(["robots", url, "/a", "-f", "json", "--timeout", "2"])
    captured = capsys.readouterr()
    assert code == 3
    doc = json.loads(captured.out)
    assert (doc["status"], doc["mode"]) == (None, "disallow_all") and doc["error"]
    assert [r["allowed"] for r in doc["results"]] == [False, False]
    assert "could not fetch" in captured.err and "disallow-all" in captured.err
    assert "Traceback" not in captured.err


def test_subprocess_json_and_exit_code(robots_file: str) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "emaudit", "robots", robots_file, "/private", "-f", "json", "--fail-if-blocked"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, env=env, check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["results"][0]["allowed"] is False
    assert "\x1b[" not in proc.stdout + proc.stderr


def test_no_warnings_when_stderr_is_not_a_terminal(site: HTTPServer, monkeypatch) -> None:
    site.expect_request("/robots.txt").respond_with_data("", status=404)
    assert "HTTP 404" in invoke(base_url(site), "/x").stderr  # a terminal: told that 404 means allow all
    monkeypatch.setattr("emaudit.commands.robots._stderr_is_terminal", lambda: False)
    result = invoke(base_url(site), "/x")
    assert result.exit_code == 0 and result.stderr == ""
