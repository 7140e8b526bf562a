"""How each benchmarked tool is invoked, and how its page count is read back."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

from measure import RunResult, run_measured

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
VENV_BIN = Path(sys.executable).parent
# Keys under which emaudit's JSON summary may report the number of pages crawled, best first.
PAGE_KEYS = ("pages_crawled", "html_pages", "pages", "page_count", "crawled", "fetched", "urls_crawled")
ERROR_KEYS = ("errors", "error_count", "fetch_errors")
ELAPSED_KEYS = ("elapsed", "elapsed_s", "duration", "duration_s", "seconds")


@dataclass
class Ctx:
    """What every tool run needs: where to log, which environment, how long at most."""

    log_dir: Path
    work_dir: Path
    env: dict[str, str]
    concurrency: int
    timeout_override: float | None = None

    def timeout(self, pages: int, min_rate: float) -> float:
        """A bound on one run: assumes at least ``min_rate`` pages/s, plus start-up slack."""
        return self.timeout_override or 120 + pages / min_rate


# Set by run.py's --emaudit-cmd (e.g. another checkout's venv/bin/emaudit).
EMAUDIT_OVERRIDE: list[str] | None = None


def emaudit_cmd() -> list[str]:
    if EMAUDIT_OVERRIDE:
        return list(EMAUDIT_OVERRIDE)
    script = VENV_BIN / "emaudit"
    return [str(script)] if script.exists() else [sys.executable, "-m", "emaudit"]


def pyinstrument_target() -> list[str] | None:
    """emaudit as pyinstrument wants it: a Python script path or ``-m module``."""
    cmd = emaudit_cmd()
    if len(cmd) == 1:
        return cmd
    if len(cmd) == 3 and cmd[1] == "-m":
        return cmd[1:]
    return None


def emaudit_version(ctx: Ctx) -> str | None:
    res = run_measured("emaudit-version", [*emaudit_cmd(), "--version"], ctx.log_dir, 60, ctx.env)
    text = (res.stdout() + " " + res.stderr_tail(1)).strip()
    return text.splitlines()[0] if res.returncode == 0 and text else None


def run_fetch(ctx: Ctx, base_url: str, urls_file: Path, pages: int, name: str = "fetch-only") -> RunResult:
    cmd = [sys.executable, str(BENCH_DIR / "clients.py"), "fetch", base_url, str(urls_file), str(ctx.concurrency)]
    res = run_measured(name, cmd, ctx.log_dir, ctx.timeout(pages, 50), ctx.env)
    _read_child_json(res)
    return res


def run_advertools(ctx: Ctx, base_url: str, max_pages: int) -> RunResult:
    out = ctx.work_dir / "adv.jsonl"
    out.unlink(missing_ok=True)  # advertools appends to an existing file
    cmd = [
        sys.executable, str(BENCH_DIR / "clients.py"), "advertools",
        base_url, str(out), str(ctx.concurrency), str(max_pages),
    ]  # fmt: skip
    res = run_measured("advertools", cmd, ctx.log_dir, ctx.timeout(max_pages, 5), ctx.env)
    _read_child_json(res)
    if "pages" not in res.extra and out.exists():
        res.extra["pages"] = sum(1 for _ in open(out, "rb"))
    return res


def _read_child_json(res: RunResult) -> None:
    lines = res.stdout().strip().splitlines()
    if res.returncode == 0 and lines:
        try:
            res.extra.update(json.loads(lines[-1]))
        except ValueError:
            pass


def crawl_args(base_url: str, store: Path, concurrency: int) -> list[str]:
    return [
        "crawl", base_url, "--store", str(store), "--concurrency", str(concurrency),
        "--no-resources", "--quiet", "--format", "json",
    ]  # fmt: skip


def run_emaudit_crawl(ctx: Ctx, base_url: str, store: Path, pages: int, name: str = "emaudit", interrupt=None) -> RunResult:
    _remove_store(store)
    cmd = [*emaudit_cmd(), *crawl_args(base_url, store, ctx.concurrency)]
    res = run_measured(name, cmd, ctx.log_dir, ctx.timeout(pages, 20), ctx.env, interrupt=interrupt)
    read_emaudit_pages(res, store)
    return res


def run_emaudit_resume(ctx: Ctx, base_url: str, store: Path, pages: int) -> RunResult:
    """``emaudit crawl --resume STORE``; if that spelling is a usage error (exit 2), the long form."""
    common = ["--concurrency", str(ctx.concurrency), "--no-resources", "--quiet", "--format", "json"]
    spellings = (
        ["crawl", "--resume", str(store), *common],
        ["crawl", base_url, "--store", str(store), "--resume", *common],
    )
    res = None
    for n, args in enumerate(spellings):
        res = run_measured(f"emaudit-resume-{n}", [*emaudit_cmd(), *args], ctx.log_dir, ctx.timeout(pages, 20), ctx.env)
        if res.returncode != 2:
            break
    read_emaudit_pages(res, store)
    return res


def _remove_store(store: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)


def read_emaudit_pages(res: RunResult, store: Path) -> None:
    """Pages crawled: the JSON summary's count, else the store's, else a number in the output."""
    summary = _parse_json(res.stdout())
    if summary is not None:
        res.extra["summary"] = summary if len(json.dumps(summary)) < 20_000 else "(large, omitted)"
        elapsed = find_number(summary, ELAPSED_KEYS)
        if elapsed is not None:
            res.extra["seconds"] = elapsed[1]  # the crawl's own duration: start-up and finalisation excluded
        errors = find_number(summary, ERROR_KEYS) if isinstance(summary, dict) else None
        if errors is not None:
            res.extra["errors"] = errors[1]
        found = find_page_count(summary)
        if found is not None:
            res.extra["pages"], res.extra["pages_source"] = found[1], f"json:{found[0]}"
            return
    counted = store_page_count(store)
    if counted is not None:
        res.extra["pages"], res.extra["pages_source"] = counted, "store:urls.status"
        return
    match = re.search(r"(\d[\d,]*)\s+(?:html\s+)?pages", res.stdout() + res.stderr_tail(50), re.I)
    if match:
        res.extra["pages"], res.extra["pages_source"] = int(match.group(1).replace(",", "")), "output text"


def _parse_json(text: str):
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    for line in reversed(text.splitlines()):  # JSON lines: the summary is usually last
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


def find_page_count(doc) -> tuple[str, int] | None:
    """The first integer under a page-count key, preferring shallow keys."""
    found = find_number(doc, PAGE_KEYS)
    return (found[0], int(found[1])) if found and float(found[1]).is_integer() else None


def find_number(doc, keys: tuple[str, ...], path: str = "", depth: int = 0) -> tuple[str, float] | None:
    """Breadth-first-ish search of a JSON document for a number under one of ``keys`` (depth ≤ 3)."""
    if not isinstance(doc, dict) or depth > 3:
        return None
    for key in keys:
        value = doc.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{path}{key}", value
    for key, value in doc.items():
        found = find_number(value, keys, f"{path}{key}.", depth + 1)
        if found:
            return found
    return None


def store_page_count(store: Path) -> int | None:
    """Rows of ``urls`` with a status (fetched), read-only; None if the store is not readable yet."""
    if not store.exists():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1.0)) as db:
            try:  # fetched internal pages, when the schema says so (store schema v1)
                sql = "SELECT count(*) FROM urls WHERE status IS NOT NULL AND internal = 1 AND kind = 'page'"
                return db.execute(sql).fetchone()[0]
            except sqlite3.OperationalError:
                return db.execute("SELECT count(*) FROM urls WHERE status IS NOT NULL").fetchone()[0]
    except sqlite3.Error:
        return None


def store_integrity(store: Path) -> str | None:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5.0)) as db:
            return db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as exc:
        return f"error: {exc}"
