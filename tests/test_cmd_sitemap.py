"""``emaudit sitemap`` end to end against pytest-httpserver on 127.0.0.1 (no internet)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import socket

import pytest

from emaudit.cli import main

NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def urlset(*locs: str, lastmod: str | None = None) -> bytes:
    mod = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    items = "".join(f"<url><loc>{loc}</loc>{mod}</url>\n" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NS}">\n{items}</urlset>\n'.encode()


def index(*locs: str) -> bytes:
    items = "".join(f"<sitemap><loc>{loc}</loc></sitemap>\n" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{NS}">\n{items}</sitemapindex>\n'.encode()


@pytest.fixture
def site(httpserver):
    """Register routes {path: body | (status, body) | (status, body, headers)}.

    Unknown paths answer 404 (robots.txt included, unless given: allow all).
    """
    saved = httpserver.no_handler_status_code
    httpserver.no_handler_status_code = 404

    def serve(routes: dict[str, object]) -> None:
        for path, spec in routes.items():
            status, body, headers = 200, spec, {}
            if isinstance(spec, tuple):
                status, body, headers = (spec + ({},))[:3]
            headers = dict(headers)
            default = "application/x-gzip" if path.endswith(".gz") else "application/xml"
            content_type = headers.pop("Content-Type", default)
            httpserver.expect_request(path).respond_with_data(body, status=status, headers=headers, content_type=content_type)

    serve.url = httpserver.url_for  # type: ignore[attr-defined]
    serve.server = httpserver  # type: ignore[attr-defined]
    yield serve
    httpserver.no_handler_status_code = saved


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["sitemap", *args])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *args: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, *args, "--format", "json")
    return code, json.loads(out)


def kinds(report: dict) -> list[str]:
    return [p["kind"] for p in report["problems"]]


def paths(server) -> list[str]:
    return [request.path for request, _ in server.log]


# --------------------------------------------------------------------------- walking


def test_nested_index_with_gzip_child(site, capsys) -> None:
    u = site.url
    site({
        "/index.xml": index(u("/a.xml"), u("/sub.xml")),
        "/sub.xml": index(u("/b.xml.gz"), u("/a.xml")),
        "/a.xml": urlset(u("/p1"), u("/p2")),
        "/b.xml.gz": gzip.compress(urlset(u("/p2"), u("/p3"))),
    })
    code, report = run_json(capsys, u("/index.xml"))
    assert code == 0 and report["schema"] == "emaudit.sitemap/1"
    files = {f["url"][len(u("")):]: f for f in report["files"]}
    assert {p: (f["kind"], f["depth"], f["url_count"]) for p, f in files.items()} == {
        "index.xml": ("sitemapindex", 0, 2), "a.xml": ("urlset", 1, 2), "sub.xml": ("sitemapindex", 1, 2),
        "b.xml.gz": ("urlset", 2, 2),
    }
    assert files["b.xml.gz"]["compressed"] is True
    assert sorted(kinds(report)) == ["sitemap.duplicate_across_files", "sitemap.listed_twice", "sitemap.nested_index"]
    assert report["duplicates"] == [{"loc": u("/p2"), "sitemaps": [u("/a.xml"), u("/b.xml.gz")]}]
    assert [x["loc"] for x in report["urls"]] == [u("/p1"), u("/p2"), u("/p2"), u("/p3")]
    assert report["totals"] | {"bytes": 0} == {
        "files": 4, "files_read": 4, "urlsets": 2, "indexes": 2, "invalid": 0, "unread": 0, "urls": 4,
        "unique_urls": 3, "duplicates_across_files": 1, "bytes": 0, "problems": 3, "truncated": False,
    }
    assert sorted(paths(site.server)).count("/a.xml") == 1  # listed twice, read once
    assert all(r.headers["User-Agent"].startswith("emaudit/") for r, _ in site.server.log)
    assert main(["sitemap", u("/index.xml"), "--format", "txt", "--fail-on-problems"]) == 1


def test_table_lists_duplicates_one_sitemap_per_line(site, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    u = site.url
    site({"/index.xml": index(u("/a.xml"), u("/b.xml")), "/a.xml": urlset(u("/p")), "/b.xml": urlset(u("/p"))})
    code, out, err = run(capsys, u("/index.xml"))
    assert code == 0 and err == ""
    table = out[out.index("URLs listed in more than one sitemap"):]
    assert u("/a.xml") in table and u("/b.xml") in table and u("/a.xml") + u("/b.xml") not in table
    assert "2 URLs (1 unique, 1 in several files)" in out


def test_index_that_lists_itself(site, capsys) -> None:
    u = site.url
    site({"/index.xml": index(u("/index.xml"), u("/a.xml")), "/a.xml": urlset(u("/p1"))})
    code, report = run_json(capsys, u("/index.xml"))
    assert code == 0
    assert [(p["kind"], p["message"]) for p in report["problems"]] == [("sitemap.index_cycle", "Sitemap index lists itself")]
    assert paths(site.server).count("/index.xml") == 1
    assert report["totals"]["urls"] == 1


def test_index_cycle_and_depth_limit(site, capsys) -> None:
    u = site.url
    site({"/i1.xml": index(u("/i2.xml")), "/i2.xml": index(u("/i3.xml"), u("/i1.xml")), "/i3.xml": index(u("/i4.xml"))})
    code, report = run_json(capsys, u("/i1.xml"), "--max-depth", "2")
    assert code == 0
    problems = {p["kind"]: p for p in report["problems"] if p["kind"] != "sitemap.nested_index"}
    assert problems["sitemap.index_cycle"]["message"] == f"Sitemap index cycle: lists its ancestor {u('/i1.xml')}"
    assert problems["sitemap.too_deep"]["loc"] == u("/i4.xml")
    assert sorted(paths(site.server)) == ["/i1.xml", "/i2.xml", "/i3.xml", "/robots.txt"]


def test_max_files(site, capsys) -> None:
    u = site.url
    site({"/index.xml": index(*(u(f"/s{i}.xml") for i in range(5))), **{f"/s{i}.xml": urlset(u(f"/p{i}")) for i in range(5)}})
    _, report = run_json(capsys, u("/index.xml"), "--max-files", "3")
    assert report["totals"]["files"] == 3 and "sitemap.max_files" in kinds(report)


def test_max_urls(site, capsys) -> None:
    u = site.url
    site({"/index.xml": index(u("/a.xml"), u("/b.xml")), "/a.xml": urlset(u("/1"), u("/2"), u("/3")), "/b.xml": urlset(u("/4"))})
    _, report = run_json(capsys, u("/index.xml"), "--max-urls", "2")
    assert [x["loc"] for x in report["urls"]] == [u("/1"), u("/2")]
    assert report["totals"]["truncated"] is True and "sitemap.max_urls" in kinds(report)
    assert "/b.xml" not in paths(site.server)


# --------------------------------------------------------------------------- broken files


def test_broken_xml_keeps_urls_and_fails_on_problems(site, capsys) -> None:
    u = site.url
    body = urlset(u("/p1"), u("/p2")).replace(b"</urlset>", b"<url><loc>x</url></urlset>")
    site({"/sitemap.xml": body})
    code, report = run_json(capsys, u("/sitemap.xml"))
    assert code == 0
    assert report["files"][0]["kind"] == "invalid" and "mismatch" in report["files"][0]["error"]
    assert [x["loc"] for x in report["urls"]] == [u("/p1"), u("/p2")]
    code, out, _ = run(capsys, u("/sitemap.xml"), "--fail-on-problems")
    assert code == 1 and "invalid" in out and "sitemap.invalid_xml" in out


def test_over_limit_file(site, capsys) -> None:
    u = site.url
    site({"/big.xml": urlset(*(u(f"/p{i}") for i in range(50_001)))})
    code, out, _ = run(capsys, u("/big.xml"), "--fail-on-problems")
    assert code == 1
    assert "sitemap.too_many_urls" in out and "Sitemap lists more than 50,000 URLs" in out
    assert "50,001" in out and "first 50 of 50,000" in out


def test_bad_dates(site, capsys) -> None:
    u = site.url
    body = urlset(u("/a"), lastmod="2024-02-30").replace(b"</urlset>", f"<url><loc>{u('/b')}</loc><lastmod>2999-01-01</lastmod></url></urlset>".encode())
    site({"/sitemap.xml": body})
    code, report = run_json(capsys, u("/sitemap.xml"))
    assert [(p["kind"], p["loc"]) for p in report["problems"]] == [
        ("sitemap.invalid_lastmod", u("/a")), ("sitemap.future_lastmod", u("/b")),
    ]
    assert code == 0
    assert main(["sitemap", u("/sitemap.xml"), "-f", "txt", "--fail-on-problems"]) == 1


def test_cross_host_locs(site, capsys) -> None:
    site({"/sitemap.xml": urlset("https://elsewhere.example/a", site.url("/b"))})
    _, report = run_json(capsys, site.url("/sitemap.xml"))
    assert [(p["kind"], p["loc"]) for p in report["problems"]] == [("sitemap.cross_host", "https://elsewhere.example/a")]


# --------------------------------------------------------------------------- discovery


def test_robots_txt_discovery(site, capsys) -> None:
    u = site.url
    robots = f"User-agent: *\nDisallow: /private\n\nSitemap: {u('/s1.xml')}\nsitemap: {u('/s2.xml')}\nSitemap: /relative.xml\n".encode()
    site({"/robots.txt": (200, robots, {"Content-Type": "text/plain"}), "/s1.xml": urlset(u("/a")), "/s2.xml": urlset(u("/b"))})
    code, report = run_json(capsys, u("/"))
    assert code == 0
    assert [(f["url"], f["via"]) for f in report["files"]] == [(u("/s1.xml"), "robots"), (u("/s2.xml"), "robots")]
    assert paths(site.server) == ["/robots.txt", "/s1.xml", "/s2.xml"]
    _, again = run_json(capsys, u("/robots.txt"))
    assert [f["url"] for f in again["files"]] == [u("/s1.xml"), u("/s2.xml")]


def test_default_sitemap_when_robots_lists_none(site, capsys) -> None:
    site({"/sitemap.xml": urlset(site.url("/a"))})
    _, report = run_json(capsys, site.url("/"))
    assert [(f["url"], f["via"]) for f in report["files"]] == [(site.url("/sitemap.xml"), "default")]


def test_dead_sitemap_from_robots_is_a_problem_not_an_error(site, capsys) -> None:
    site({"/robots.txt": (200, f"Sitemap: {site.url('/gone.xml')}\n".encode())})
    code, report = run_json(capsys, site.url("/"))
    assert code == 0 and report["files"][0]["status"] == 404 and kinds(report) == ["sitemap.http_status"]


def test_robots_txt_is_obeyed(site, capsys) -> None:
    site({"/robots.txt": (200, b"User-agent: *\nDisallow: /sitemaps/\n"), "/sitemaps/a.xml": urlset(site.url("/a"))})
    code, _, err = run(capsys, site.url("/sitemaps/a.xml"))
    assert code == 3 and "disallowed by robots.txt" in err
    assert "/sitemaps/a.xml" not in paths(site.server)
    code, report = run_json(capsys, site.url("/sitemaps/a.xml"), "--ignore-robots")
    assert code == 0 and report["totals"]["urls"] == 1


def test_local_file(tmp_path, capsys) -> None:
    path = tmp_path / "sitemap.xml"
    path.write_bytes(urlset("https://ex.com/a", "https://ex.com/b"))
    code, out, err = run(capsys, str(path), "--format", "txt")
    assert (code, out, err) == (0, "https://ex.com/a\nhttps://ex.com/b\n", "")  # no chatter off a terminal


# --------------------------------------------------------------------------- exit codes


def test_unreachable_sitemap_exits_3(capsys) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, err = run(capsys, f"http://127.0.0.1:{port}/sitemap.xml", "--retries", "0", "--timeout", "2")
    assert code == 3 and out == "" and err.startswith("emaudit: error: ") and err.count("\n") == 1


def test_missing_sitemap_exits_3(site, capsys) -> None:
    site({})
    code, _, err = run(capsys, site.url("/sitemap.xml"))
    assert code == 3 and "HTTP 404" in err


@pytest.mark.parametrize("args", [["/no/such/file.xml"], ["ftp://ex.com/s.xml"], ["x", "--format", "yaml"]])
def test_usage_errors_exit_2(args: list[str], capsys) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == "" and "error" in err


# --------------------------------------------------------------------------- formats


def test_txt_is_unique_absolute_urls_only(site, capsys, monkeypatch) -> None:
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # the summary is for a person at a terminal
    u = site.url
    site({"/index.xml": index(u("/a.xml"), u("/b.xml")), "/a.xml": urlset(u("/1"), u("/2"), "relative"), "/b.xml": urlset(u("/2"), u("/3"))})
    code, out, err = run(capsys, u("/index.xml"), "--format", "txt")
    assert code == 0
    assert out.splitlines() == [u("/1"), u("/2"), u("/3")]
    assert "5 URLs (4 unique)" in err


def test_csv_streams_rows_and_guards_formulas(site, capsys) -> None:
    u = site.url
    site({"/sitemap.xml": urlset(u("/a"), "=HYPERLINK(\"http://evil\")", "-2+3", "@SUM(A1)")})
    code, out, _ = run(capsys, u("/sitemap.xml"), "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["loc", "lastmod", "changefreq", "priority", "sitemap", "line"]
    assert [r[0] for r in rows[1:]] == [u("/a"), "'=HYPERLINK(\"http://evil\")", "'-2+3", "'@SUM(A1)"]
    assert rows[1][4:] == [u("/sitemap.xml"), "3"]


def test_output_file_is_written_whole(site, capsys, tmp_path) -> None:
    site({"/sitemap.xml": urlset(site.url("/a"))})
    target = tmp_path / "report.json"
    code, out, _ = run(capsys, site.url("/sitemap.xml"), "-f", "json", "-o", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["urls"][0]["loc"] == site.url("/a")
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_failed_run_leaves_no_output_file(capsys, tmp_path) -> None:
    target = tmp_path / "urls.txt"
    code, _, _ = run(capsys, str(tmp_path / "missing.xml"), "-f", "txt", "-o", str(target))
    assert code == 2 and list(tmp_path.iterdir()) == []


def test_table_escapes_markup_and_control_characters(site, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # no folding: each URL on one line
    u = site.url
    text = f"{u('/[bold red]boom[/bold red]')}\n{u('/')}\x1b[31mred\x1b]0;title\x07\n".encode()
    site({"/s.txt": text, "/s.xml": urlset(u("/[link=http://evil]x[/link]"))})
    code, out, _ = run(capsys, u("/s.txt"))
    assert code == 0
    assert u("/[bold red]boom[/bold red]") in out
    assert "\x1b" not in out and "\x07" not in out and u("/red") in out
    code, out, _ = run(capsys, u("/s.xml"))
    assert u("/[link=http://evil]x[/link]") in out
    code, out, _ = run(capsys, u("/s.txt"), "-f", "txt")
    assert "\x1b" not in out and len(out.splitlines()) == 2


def test_json_is_raw_and_complete(site, capsys) -> None:
    site({"/sitemap.xml": urlset(site.url("/[b]x[/b]"), lastmod="2024-01-01")})
    code, report = run_json(capsys, site.url("/sitemap.xml"))
    assert report["urls"] == [{"loc": site.url("/[b]x[/b]"), "lastmod": "2024-01-01", "sitemap": site.url("/sitemap.xml")}]
    assert report["source"] == site.url("/sitemap.xml") and report["check"] is None
    assert report["files"][0]["lastmod_min"] == report["files"][0]["lastmod_max"] == "2024-01-01"


# --------------------------------------------------------------------------- --check


def test_check_uses_the_crawler_in_list_mode(site, capsys) -> None:
    pytest.importorskip("emaudit.extract")
    u = site.url
    html = "<html><head><title>t</title>{}</head><body>ok</body></html>"
    site({
        "/robots.txt": (200, b"User-agent: *\nDisallow: /private\n"),
        "/sitemap.xml": urlset(u("/ok"), u("/moved"), u("/gone"), u("/noindex"), u("/canon"), u("/private")),
        "/ok": (200, html.format("").encode(), {"Content-Type": "text/html"}),
        "/moved": (301, b"", {"Location": u("/ok")}),
        "/noindex": (200, html.format('<meta name="robots" content="noindex">').encode(), {"Content-Type": "text/html"}),
        "/canon": (200, html.format(f'<link rel="canonical" href="{u("/ok")}">').encode(), {"Content-Type": "text/html"}),
    })
    code, report = run_json(capsys, u("/sitemap.xml"), "--check")
    assert code == 0
    verdicts = {c["loc"][len(u("")):]: [i["kind"] for i in c["issues"]] for c in report["check"]["urls"]}
    assert verdicts == {
        "ok": [], "moved": ["sitemap.url_redirected"], "gone": ["sitemap.url_not_200"],
        "noindex": ["sitemap.url_noindex"], "canon": ["sitemap.url_canonicalised"], "private": ["sitemap.url_blocked"],
    }
    assert "/private" not in paths(site.server)
    code, out, _ = run(capsys, u("/sitemap.xml"), "--check", "-f", "csv", "--fail-on-problems")
    rows = {r["loc"][len(u("")):]: r for r in csv.DictReader(io.StringIO(out))}
    assert code == 1
    assert (rows["moved"]["status"], rows["moved"]["issues"]) == ("301", "sitemap.url_redirected")
    assert (rows["ok"]["status"], rows["ok"]["issues"]) == ("200", "")
