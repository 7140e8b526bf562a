"""Interrupt a crawl subprocess with a signal, resume it, compare with an uninterrupted crawl."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from sitekit import Resp, SiteServer, html
from storekit import SIGNAL_IN_FINALIZE

from emaudit.crawler import CrawlOptions, run_crawl
from emaudit.store import Store

N_PAGES = 120


def build_chain_site(site: SiteServer, delay: float = 0.004) -> None:
    """A site where page i links to i+1..i+3 and home: ~N_PAGES pages, slow enough to interrupt."""
    for i in range(N_PAGES):
        links = "".join(f'<a href="/p/{j}">Page {j}</a>' for j in range(i + 1, min(i + 4, N_PAGES)))
        site.routes[f"/p/{i}"] = Resp(body=html(f"Page {i} title", f"<h1>Page {i}</h1>{links}<a href='/'>home</a>"), delay=delay)
    site.routes["/"] = Resp(body=html("Home", '<a href="/p/0">start</a><a href="/gone">gone</a>'), delay=delay)
    site.routes["/gone"] = Resp(301, headers={"Location": "/p/5"}, delay=delay)
    site.routes["/robots.txt"] = Resp(body="User-agent: *\nDisallow: /p/7$\n", content_type="text/plain")


def snapshot(path: str) -> dict:
    with Store.open(path) as store:
        urls = {}
        for rec in store.iter_urls():
            urls[rec.url] = (rec.state, rec.status, rec.depth, rec.in_sitemap, rec.redirect_hops, rec.inlinks)
        pages = {p.url.url: (p.facts.title, p.facts.word_count, p.facts.content_hash, p.indexable) for p in store.iter_pages()}
        links = store.query("SELECT COUNT(*), COUNT(DISTINCT src || '>' || dst) FROM links")[0]
        run = store.run_info()
    return {"urls": urls, "pages": pages, "links": links, "state": run["state"]}


def _done(path: str) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT COUNT(*) FROM urls WHERE state = 'done'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _cli(*args: str, cwd: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "emaudit", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_then_resume_equals_uninterrupted(tmp_path, sig):
    with SiteServer() as site:
        build_chain_site(site)
        reference = str(tmp_path / "ref.emaudit.db")
        run_crawl(CrawlOptions(start_url=site.url("/"), store_path=reference, concurrency=4), handle_signals=False)
        path = str(tmp_path / "int.emaudit.db")
        proc = _cli("crawl", site.url("/"), "--store", path, "--concurrency", "4", "--quiet", cwd=str(tmp_path))
        deadline = time.monotonic() + 30
        while _done(path) < 25 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert proc.poll() is None, "crawl finished before it could be interrupted"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "--resume" in err and len(err.strip().splitlines()) == 1
        interrupted = snapshot(path)
        assert interrupted["state"] == "interrupted"
        _audit_copy_of_interrupted_store(path, tmp_path)
        assert 25 <= sum(1 for v in interrupted["urls"].values() if v[0] == "done") < len(snapshot(reference)["urls"])
        before = len(site.log)
        proc = _cli("crawl", "--resume", path, "--quiet", cwd=str(tmp_path))
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        refetched = [r.path for r in site.log[before:]]
    resumed, ref = snapshot(path), snapshot(reference)
    assert resumed["state"] == "finished"
    assert resumed["urls"] == ref["urls"]
    assert resumed["pages"] == ref["pages"]
    assert resumed["links"] == ref["links"]
    # Nothing fetched before the interruption was fetched again (robots.txt comes from the store).
    done_before = {u for u, v in interrupted["urls"].items() if v[0] == "done"}
    assert not {site.base + p for p in refetched} & done_before
    assert "/robots.txt" not in refetched


def test_sigkill_leaves_a_resumable_store(tmp_path):
    with SiteServer() as site:
        build_chain_site(site)
        path = str(tmp_path / "kill.emaudit.db")
        proc = _cli("crawl", site.url("/"), "--store", path, "--concurrency", "4", "--quiet", cwd=str(tmp_path))
        deadline = time.monotonic() + 30
        while _done(path) < 20 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
        proc = _cli("crawl", "--resume", path, "--quiet", "--format", "json", cwd=str(tmp_path))
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    snap = snapshot(path)
    assert snap["state"] == "finished"
    fetched = [u for u, v in snap["urls"].items() if v[0] == "done" and "/p/" in u]
    assert len(fetched) == N_PAGES - 1  # /p/7 is disallowed


def test_ctrl_c_while_robots_txt_is_slow_exits_at_once(tmp_path):
    """A stop during the start-up fetches (robots.txt, sitemaps) does not wait for their timeout."""
    with SiteServer() as site:
        site.routes["/robots.txt"] = Resp(body="User-agent: *\nAllow: /\n", content_type="text/plain", delay=8)
        site.routes["/"] = Resp(body=html("Home", "x"))
        path = str(tmp_path / "slow.emaudit.db")
        proc = _cli("crawl", site.url("/"), "--store", path, "--quiet", cwd=str(tmp_path))
        deadline = time.monotonic() + 10
        while "/robots.txt" not in site.paths() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - started
    assert proc.returncode == 130, err
    assert took < 4, took
    with Store.open(path) as store:
        assert store.run_info()["state"] == "interrupted"


def _audit_copy_of_interrupted_store(path: str, tmp_path) -> None:
    """An interrupted store is audited as it is: the audit finalises it first (inlinks, indexes)."""
    import json
    import shutil

    from emaudit.cli import main

    copy = str(tmp_path / "copy.emaudit.db")
    shutil.copy(path, copy)
    with Store.open(copy) as store:
        assert not store.finalized
    assert main(["audit", copy, "--format", "json", "-o", str(tmp_path / "a.json"), "--quiet"]) == 0
    assert json.loads((tmp_path / "a.json").read_text())["crawl"]["store"] == copy
    with Store.open(copy) as store:
        assert store.finalized
        assert store.get(store.run_info()["start_url"]).inlinks > 0


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_signal_while_finalising_is_an_interruption_that_resume_completes(tmp_path, sig):
    """Ctrl-C or SIGTERM during finalisation (seconds to minutes on a big store): exit 130 with
    the resume hint, the run recorded as interrupted with its time, nothing finalised half-way;
    --resume fetches nothing again and finalises."""
    with SiteServer() as site:
        build_chain_site(site, delay=0)
        reference = str(tmp_path / "ref.emaudit.db")
        done = run_crawl(CrawlOptions(start_url=site.url("/"), store_path=reference, concurrency=4), handle_signals=False)
        path = str(tmp_path / "fin.emaudit.db")
        proc = subprocess.run([sys.executable, "-c", SIGNAL_IN_FINALIZE, sig, "crawl", site.url("/"), "--store", path,
                               "--concurrency", "4", "--quiet"], cwd=str(tmp_path), capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 130, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            f"emaudit: error: interrupted while finalising the store (indexes, inlink counts): {done.fetched} URLs"
            f" saved in {path}; continue with: emaudit crawl --resume {path}"]
        with Store.open(path) as store:
            run = store.run_info()
            assert run["state"] == "interrupted" and run["elapsed"] > 0
            assert not store.finalized
            assert store.query("SELECT COUNT(*) FROM sqlite_master WHERE name = 'links_dst'")[0][0] == 0
            assert store.get(site.url("/")).inlinks == 0  # the rolled-back inlink counts
        before = len(site.log)
        proc = subprocess.run([sys.executable, "-m", "emaudit", "crawl", "--resume", path, "--quiet"], cwd=str(tmp_path),
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert [r.path for r in site.log[before:]] == []
    resumed, ref = snapshot(path), snapshot(reference)
    assert resumed["state"] == "finished"
    assert resumed["urls"] == ref["urls"]
    assert resumed["pages"] == ref["pages"]
    with Store.open(path) as store:
        assert store.finalized


# Run a command with SIGINT ignored, as a non-interactive shell starts a background job (the
# disposition survives exec; no preexec_fn in a process that has server threads).
IGNORING_SIGINT = ["sh", "-c", 'trap "" INT; exec "$@"', "sh"]


def test_an_ignored_sigint_does_not_stop_the_crawl(tmp_path):
    """A crawl started with SIGINT ignored (a background job of a non-interactive shell) is not
    stopped by one, in the crawl loop nor while finalising; SIGTERM still stops it."""
    with SiteServer() as site:
        build_chain_site(site)
        path = str(tmp_path / "ign.emaudit.db")
        proc = subprocess.Popen([*IGNORING_SIGINT, sys.executable, "-m", "emaudit", "crawl", site.url("/"), "--store", path,
                                 "--concurrency", "2", "--quiet"], cwd=str(tmp_path), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while _done(path) < 10 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert proc.poll() is None, "crawl finished before the signal"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        proc = subprocess.run([*IGNORING_SIGINT, sys.executable, "-c", SIGNAL_IN_FINALIZE, "SIGINT", "crawl", site.url("/"),
                               "--store", str(tmp_path / "ign2.emaudit.db"), "--quiet"], cwd=str(tmp_path),
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
    assert snapshot(path)["state"] == "finished"
    with Store.open(str(tmp_path / "ign2.emaudit.db")) as store:
        assert store.finalized and store.run_info()["state"] == "finished"
