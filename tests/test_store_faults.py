"""Storage faults: one clear error line, the documented exit code, nothing saved is lost.

Exit codes (emaudit/errors.py): 2 for a store that is corrupt, not a store, or of another schema
version; 4 for a location that cannot be written (permissions, read-only, disk full).

Root ignores file permissions, so unwritable and full locations are tiny tmpfs mounts (read-only
or 256 KiB); those tests are skipped when mounting is not allowed, and always unmount.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import subprocess
import uuid

import pytest
from chaos import assert_clean_stderr, run_cli
from sitekit import Resp, SiteServer, html

from emaudit.crawler import CrawlOptions, run_crawl
from emaudit.store import SCHEMA_VERSION, Store

pytestmark = pytest.mark.slow


def _site(site: SiteServer, n: int = 40) -> None:
    filler = "Lorem ipsum dolor sit amet " * 40
    for i in range(n):
        site.routes[f"/p/{i}"] = Resp(body=html(f"Page {i} " + "t" * 200, f"<p>{filler}</p><a href='/p/{i + 1}'>next</a>"
                                                                         f"<a href='/p/{(i * 3) % n}'>x</a>"))
    site.routes["/"] = Resp(body=html("Home", "<a href='/p/0'>p0</a>"))


def _one_error_line(run, code: int, *needles: str) -> None:
    assert not run.timed_out, "still running at the deadline"
    assert run.code == code, (run.code, run.err)
    assert_clean_stderr(run)
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("emaudit: error:"), run.err
    for needle in needles:
        assert needle in lines[0], run.err


def _digest(path: str) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def finished_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("store-faults")
    with SiteServer() as site:
        _site(site, 10)
        path = str(tmp / "done.emaudit.db")
        run_crawl(CrawlOptions(start_url=site.url("/"), store_path=path, sitemaps=False), handle_signals=False)
    return path


@contextlib.contextmanager
def tmpfs(path: str, size: str):
    os.makedirs(path, exist_ok=True)
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", path], check=True,
                       capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", path], capture_output=True, timeout=10)


def _remount(path: str, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", path], check=True, capture_output=True, timeout=10)


# ---------------------------------------------------------------------- unwritable locations
def test_missing_folder(tmp_path):
    run = run_cli(["crawl", "http://127.0.0.1:9/", "--store", str(tmp_path / "nope" / "x.emaudit.db")],
                  cwd=str(tmp_path), deadline=30)
    _one_error_line(run, 4, "cannot create the crawl store", "does not exist")


def test_read_only_folder(tmp_path):
    with SiteServer() as site, tmpfs(str(tmp_path / f"ro-{uuid.uuid4().hex[:6]}"), "1m") as mnt:
        _site(site, 3)
        _remount(mnt, "ro")
        run = run_cli(["crawl", site.url("/"), "--store", os.path.join(mnt, "x.emaudit.db")], cwd=str(tmp_path),
                      deadline=30)
        log = site.log
    _one_error_line(run, 4, "cannot")
    assert log == []  # nothing fetched for a crawl that cannot be saved


def test_read_only_store_for_resume(tmp_path):
    with SiteServer() as site, tmpfs(str(tmp_path / f"rs-{uuid.uuid4().hex[:6]}"), "4m") as mnt:
        _site(site, 30)
        path = os.path.join(mnt, "int.emaudit.db")
        run_crawl(CrawlOptions(start_url=site.url("/"), store_path=path, sitemaps=False, max_pages=5),
                  handle_signals=False)  # stopped (max_pages): resumable
        with Store.open(path, readonly=False) as store:
            store.set_run_state("interrupted")
        before = _digest(path)
        _remount(mnt, "ro")
        run = run_cli(["crawl", "--resume", path], cwd=str(tmp_path), deadline=30)
        after = _digest(path)
        _remount(mnt, "rw")
        with Store.open(path) as store:
            assert store.fetched_pages() == 5
    _one_error_line(run, 4, "cannot write the crawl store")
    assert before == after


def test_disk_full_then_resume_with_space(tmp_path):
    """A 256 KiB volume fills up mid-crawl: exit 4, the store stays valid, and with more room it resumes."""
    with SiteServer() as site, tmpfs(str(tmp_path / f"full-{uuid.uuid4().hex[:6]}"), "256k") as mnt:
        _site(site, 400)
        path = os.path.join(mnt, "full.emaudit.db")
        run = run_cli(["crawl", site.url("/"), "--store", path, "--no-sitemaps", "--concurrency", "4"],
                      cwd=str(tmp_path), deadline=60)
        _one_error_line(run, 4, "disk full")
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            saved = conn.execute("SELECT COUNT(*) FROM urls WHERE state = 'done'").fetchone()[0]
        finally:
            conn.close()
        assert saved > 0
        _remount(mnt, "size=16m")
        resumed = run_cli(["crawl", "--resume", path, "--format", "json"], cwd=str(tmp_path), deadline=60)
        assert resumed.code == 0, resumed.err
        assert resumed.json()["pages"] >= 400
        with Store.open(path) as store:
            assert store.run_info()["state"] == "finished"


# ---------------------------------------------------------------------- bad store files
@pytest.mark.parametrize("command", [["crawl", "--resume"], ["audit"]])
def test_newer_schema_version(tmp_path, finished_store, command):
    path = str(tmp_path / "newer.emaudit.db")
    shutil.copy(finished_store, path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = _digest(path)
    run = run_cli([*command, path], cwd=str(tmp_path), deadline=30)
    _one_error_line(run, 2, "newer emaudit")
    assert _digest(path) == before


@pytest.mark.parametrize("command", [["crawl", "--resume"], ["audit"]])
@pytest.mark.parametrize("damage", ["garbage", "truncated-header", "truncated-half", "zero-bytes", "not-emaudit"])
def test_corrupt_store(tmp_path, finished_store, command, damage):
    path = str(tmp_path / f"{damage}.emaudit.db")
    data = open(finished_store, "rb").read()
    if damage == "garbage":
        data = os.urandom(64 * 1024)
    elif damage == "truncated-header":
        data = data[:50]
    elif damage == "truncated-half":
        data = data[: len(data) // 2]
    elif damage == "zero-bytes":
        data = b""
    if damage == "not-emaudit":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE t (x)")
        conn.close()
    else:
        with open(path, "wb") as fh:
            fh.write(data)
    before = _digest(path)
    run = run_cli([*command, path], cwd=str(tmp_path), deadline=30)
    _one_error_line(run, 2)
    assert any(w in run.err for w in ("corrupt", "not an emaudit crawl store", "no crawl run")), run.err
    assert _digest(path) == before  # a failed open never rewrites the file


def test_existing_store_is_never_overwritten(tmp_path, finished_store):
    path = str(tmp_path / "keep.emaudit.db")
    shutil.copy(finished_store, path)
    before = _digest(path)
    run = run_cli(["crawl", "http://127.0.0.1:9/", "--store", path], cwd=str(tmp_path), deadline=30)
    _one_error_line(run, 2, "already exists")
    assert _digest(path) == before


def test_store_path_is_a_folder(tmp_path):
    run = run_cli(["audit", str(tmp_path)], cwd=str(tmp_path), deadline=30)
    assert run.code == 2 and "Traceback" not in run.err, run.err
