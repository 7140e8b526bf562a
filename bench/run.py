"""emaudit crawl benchmark: a generated site on 127.0.0.1, three clients, one table.

    .venv/bin/python bench/run.py --pages 5000 [--concurrency 8] [--out bench/out/results.json]
                                  [--skip advertools] [--profile]

Default mode generates a deterministic site of ``--pages`` pages, serves it (nginx if installed,
else Python's ThreadingHTTPServer), and measures, each in its own child process:

* fetch-only  — an httpx.AsyncClient GETting every page URL, no parsing (the client-side limit);
* emaudit     — ``emaudit crawl URL --store … --no-resources --quiet --format json``;
* advertools  — ``advertools.crawl(..., follow_links=True)`` capped at ``--advertools-pages``.

Extra modes (each replaces the default comparison unless ``--compare`` is also given):

    --scale 5000,50000               emaudit crawl at each size: peak RSS growth
    --audit-scale 5000,50000,100000  stores of those sizes, then ``emaudit audit`` time and RSS
    --resume-test                    SIGINT the crawl half-way, ``--resume`` it: overhead vs one go
    --startup                        ``emaudit --help`` / ``emaudit rules`` wall time, best of 5

See bench/README.md for what each column means and how far to trust it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import report
import tools
from measure import enter_private_netns, proc_cpu_seconds, run_measured
from servers import Server, serve
from sitegen import SiteSpec, generate, write_site_meta

OUT_DIR = tools.BENCH_DIR / "out"
TOOLS = ("fetch-only", "emaudit", "advertools")
NOT_AVAILABLE = "emaudit crawl not available yet"
STARTUP_REPEATS = 5


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pages", type=int, default=5000, help="content pages in the generated site (default 5000)")
    p.add_argument("--concurrency", type=int, default=8, help="concurrent requests for every tool (default 8)")
    p.add_argument("--out", type=Path, default=OUT_DIR / "results.json", help="JSON results file")
    p.add_argument("--skip", default="", help="comma-separated: fetch-only, emaudit, advertools")
    p.add_argument("--advertools-pages", type=int, help="advertools page cap (default min(pages, 2000))")
    p.add_argument("--profile", action="store_true", help="also profile the emaudit crawl with pyinstrument")
    p.add_argument("--scale", type=_sizes, help="emaudit crawl at each size, e.g. 5000,50000")
    p.add_argument("--audit-scale", type=_sizes, help="emaudit audit over stores of each size")
    p.add_argument("--rounds", type=int, default=1,
                   help="comparison rounds: fetch-only and emaudit alternate this many times, medians reported (default 1)")
    p.add_argument("--resume-test", action="store_true", help="interrupt at 50 %% and resume")
    p.add_argument("--resume-rounds", type=int, default=3,
                   help="--resume-test rounds, each an uninterrupted crawl then an interrupted + resumed one (default 3)")
    p.add_argument("--audit-rounds", type=int, default=1,
                   help="--audit-scale: audits per store (default 1); the median run is reported, every time kept")
    p.add_argument("--startup", action="store_true", help="CLI start-up times")
    p.add_argument("--compare", action="store_true", help="run the default comparison alongside other modes")
    p.add_argument("--all", action="store_true",
                   help="every mode: the comparison, --startup, --scale N,10N, --resume-test, --audit-scale N,10N,20N"
                        " (with --pages 5000: issue 8's sizes), then the targets table")
    p.add_argument("--site-dir", type=Path, help="generate (or reuse) the site here instead of a temp dir")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--server", choices=("auto", "nginx", "python"), default="auto")
    p.add_argument("--max-run-seconds", type=float, help="hard cap per child run (default: from the page count)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (sites, stores, jsonl)")
    p.add_argument("--emaudit-cmd", help="command for emaudit (default: .venv/bin/emaudit), e.g. another checkout's")
    p.add_argument("--no-netns", action="store_true", help="do not isolate the benchmark in a loopback-only netns")
    args = p.parse_args(argv)
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    args.skip = {"fetch-only" if s == "fetch" else s for s in args.skip}
    unknown = args.skip - set(TOOLS)
    if unknown:
        p.error(f"--skip: unknown tool(s) {', '.join(sorted(unknown))}; choose from {', '.join(TOOLS)}")
    if args.all:  # expanded here, so that the JSON's "args" says what ran
        args.compare = args.startup = args.resume_test = True
        args.scale = args.scale or [args.pages, 10 * args.pages]
        args.audit_scale = args.audit_scale or [args.pages, 10 * args.pages, 20 * args.pages]
    return args


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 5000,50000, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive integers")
    return sizes


# ---------------------------------------------------------------------------------------------
# Environment


def machine_info() -> dict:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": model,
        "mem_gb": round(mem_kb / 1024**2, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
        "versions": _versions(),
        "git_commit": _git_commit(),
        "git_dirty": _git_dirty(),
    }


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("httpx", "httpcore", "sniffio", "advertools", "scrapy", "emaudit", "psutil", "pyinstrument"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def _git_commit() -> str | None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["git", "-C", str(tools.REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None
    return None


def _git_dirty() -> list[str]:
    """Uncommitted changes to the code under test: the figures are for the working tree, not HEAD."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        cmd = ["git", "-C", str(tools.REPO), "status", "--porcelain", "--", "emaudit", "commands", "rules"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return [line.strip() for line in out.stdout.splitlines()]
    return []


def other_benchmarks() -> list[str]:
    """Command lines of other bench/ scripts running on this machine: they skew every figure."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if any(a.endswith((b"bench/run.py", b"bench/bench_extract.py")) for a in argv[:3]):
                found.append(" ".join(a.decode(errors="replace") for a in argv if a)[:200])
    return found


def emaudit_location(env: dict[str, str]) -> str | None:
    """Which emaudit the children import (PYTHONPATH can point at another checkout)."""
    code = "import emaudit, os; print(os.path.dirname(emaudit.__file__))"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, cwd="/")
        return out.stdout.strip() or None
    return None


def _prune_logs(logs: Path, keep: int = 10, min_age_s: float = 6 * 3600) -> None:
    """Remove old per-run log dirs: beyond the newest ``keep``, and only those untouched for hours
    (a concurrent run's dir is never removed)."""
    if not logs.is_dir():
        return
    dirs = sorted((d for d in logs.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime, reverse=True)
    for d in dirs[keep:]:
        if time.time() - d.stat().st_mtime > min_age_s:
            shutil.rmtree(d, ignore_errors=True)


def child_env(isolated: bool) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{tools.VENV_BIN}{os.pathsep}{env.get('PATH', '')}"  # advertools runs `scrapy`
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200", "PYTHONIOENCODING": "utf-8"})
    if not isolated:
        # No private netns: anything not on loopback goes to a dead local proxy (port 9, discard),
        # so a crawler following the example.org links sends nothing off this machine.
        dead = "http://127.0.0.1:9"
        env.update({"HTTP_PROXY": dead, "HTTPS_PROXY": dead, "ALL_PROXY": dead, "http_proxy": dead, "https_proxy": dead})
        env.update({"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
    return env


def say(*parts: object) -> None:
    print(*parts, flush=True)


# ---------------------------------------------------------------------------------------------
# The benchmark


class Bench:
    def __init__(self, args: argparse.Namespace, work_dir: Path, isolated: bool) -> None:
        self.args = args
        self.work = work_dir
        # One log dir per run: several runs may share a checkout (and must not read each other's logs).
        run_id = f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{os.getpid()}"
        log_dir = OUT_DIR / "logs" / run_id
        _prune_logs(OUT_DIR / "logs")
        self.ctx = tools.Ctx(log_dir, work_dir, child_env(isolated), args.concurrency, args.max_run_seconds)
        self.results: dict = {
            "schema_version": 1,
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_info(),
            "log_dir": str(log_dir.relative_to(tools.REPO)),
            "other_benchmarks_running": other_benchmarks(),
            "network_isolation": "private netns (loopback only)" if isolated else "dead proxy for non-loopback",
            "args": {k: (str(v) if isinstance(v, Path) else sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()},
        }
        self.servers: dict[str, str] = {}

    # -- sites and servers ----------------------------------------------------------------------

    @contextlib.contextmanager
    def site(self, pages: int, name: str) -> Iterator[tuple[Server, dict, Path]]:
        """Generate (or reuse) a site of ``pages`` pages and serve it for the block's duration."""
        if self.args.site_dir:
            site_dir = self.args.site_dir if name == "main" else self.args.site_dir / f"n{pages}"
        else:
            site_dir = _site_parent(self.work, pages) / f"site-n{pages}"
        site_dir.mkdir(parents=True, exist_ok=True)
        spec = SiteSpec(pages, self.args.seed)
        _clear_stale(site_dir, spec)
        info = generate(site_dir, spec, log=say)
        try:
            with serve(site_dir, self.args.server) as server:
                write_site_meta(site_dir, spec, server.base_url)
                self.servers[server.kind] = server.version
                say(f"server: {server.kind} {server.version} at {server.base_url} (serving {site_dir})")
                yield server, info, site_dir
        finally:
            if not self.args.site_dir and not self.args.keep:
                shutil.rmtree(site_dir, ignore_errors=True)  # 100k pages are ~4.7 GB

    def measured(self, server: Server, run) -> tuple:
        """Run ``run()`` and return (result, server CPU seconds spent meanwhile).

        Also notes the load average and any other benchmark running before and after, into the
        result's ``extra`` (a run that overlapped another benchmark is not worth quoting).
        """
        others = set(other_benchmarks())
        before = proc_cpu_seconds(server.process.pid)
        res = run()
        after = proc_cpu_seconds(server.process.pid)
        others |= set(other_benchmarks())
        res.extra["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        if others:
            res.extra["other_benchmarks"] = sorted(others)
            say(f"  WARNING: {len(others)} other benchmark(s) ran alongside: figures skewed")
        return res, (after - before if before is not None and after is not None else None)

    # -- default mode ---------------------------------------------------------------------------

    def compare(self) -> dict[str, dict]:
        """fetch-only, emaudit and advertools on one site. With ``--rounds N`` fetch-only and
        emaudit alternate N times (advertools, ~1 min a run, runs once): each tool's median run
        (by pages/s) makes the table and the ratios, and every round is kept in the JSON."""
        args = self.args
        adv_pages = args.advertools_pages or min(args.pages, 2000)
        n_rounds = max(1, args.rounds)
        runs: dict[str, list[dict]] = {"fetch-only": [], "emaudit": []}
        rows: dict[str, dict] = {}
        with self.site(args.pages, "main") as (server, info, site_dir):
            self.results["site"] = info
            base = server.base_url
            for n in range(n_rounds):
                if n_rounds > 1:
                    say(f"round {n + 1} of {n_rounds}")
                if "fetch-only" not in args.skip:
                    say(f"fetch-only: GET {info['html_urls']} URLs, concurrency {args.concurrency} …")
                    res, srv = self.measured(server, lambda: tools.run_fetch(self.ctx, base, site_dir / "urls.txt", info["html_urls"]))
                    runs["fetch-only"].append(self._report_row("fetch-only", res, srv))
                if "emaudit" not in args.skip:
                    runs["emaudit"].append(self.emaudit_crawl_row(server, args.pages, "emaudit"))
            for tool, done in runs.items():
                if done:
                    rows[tool] = _median_row(done)
            if "emaudit" in rows and args.profile and rows["emaudit"]["status"].startswith("ok"):
                self.results["profile"] = self.profile(server, args.pages)
            if "advertools" not in args.skip:
                say(f"advertools: crawl from {base}, up to {adv_pages} pages, concurrency {args.concurrency} …")
                res, srv = self.measured(server, lambda: tools.run_advertools(self.ctx, base, adv_pages))
                rows["advertools"] = self._report_row("advertools", res, srv)
        ordered = [rows.get(t, {"tool": t, "status": "skipped"}) for t in TOOLS]
        self.results["runs"] = ordered
        self.results["ratios"] = report.ratios(ordered)
        if n_rounds > 1:
            self.results["rounds"] = report.rounds_summary(runs)
        say("\n" + report.table(ordered) + "\n" + report.inner_line(ordered))
        if n_rounds > 1:
            say(report.rounds_lines(self.results["rounds"]))
        say("\nratios (same run, whole-process wall time" + (", median runs" if n_rounds > 1 else "") + "):\n"
            + report.ratio_lines(self.results["ratios"]))
        return rows

    def emaudit_crawl_row(self, server: Server, pages: int, name: str) -> dict:
        store = self.work / f"{name}.emaudit.db"
        say(f"{name}: emaudit crawl {server.base_url}, concurrency {self.args.concurrency} …")
        res, srv = self.measured(server, lambda: tools.run_emaudit_crawl(self.ctx, server.base_url, store, pages, name))
        row = self._report_row(name, res, srv, unavailable=f"{NOT_AVAILABLE} (exit {res.returncode})")
        row["store_mb"] = round(store.stat().st_size / 1024**2, 1) if store.exists() else None
        return row

    def _report_row(self, tool: str, res, server_cpu: float | None, unavailable: str = "") -> dict:
        row = report.row(tool, res, server_cpu, unavailable)
        if row["status"] == "ok":
            say(f"  {tool}: {row['pages']} pages in {row['seconds']:.2f} s, peak RSS {row['peak_rss_mb']:.0f} MB")
        else:
            say(f"  {tool}: {row['status']}\n    stderr tail:\n" + _indent(row.get("stderr_tail", ""), 6))
        return row

    # -- --profile ------------------------------------------------------------------------------

    def profile(self, server: Server, pages: int) -> dict:
        stem = OUT_DIR / f"profile-crawl-n{pages}-c{self.args.concurrency}"
        session = stem.with_suffix(".pyisession")
        store = self.work / "profile.emaudit.db"
        target = tools.pyinstrument_target()
        if target is None:
            say("profile: --emaudit-cmd is neither a script nor `python -m module`: not profiled")
            return {"status": "not profilable"}
        cmd = [sys.executable, "-m", "pyinstrument", "-r", "pyisession", "-o", str(session), *target,
               *tools.crawl_args(server.base_url, store, self.args.concurrency)]  # fmt: skip
        say("profile: emaudit crawl under pyinstrument …")
        res = run_measured("profile", cmd, self.ctx.log_dir, self.ctx.timeout(pages, 10), self.ctx.env)
        out = {"returncode": res.returncode, "seconds_under_profiler": round(res.wall_s, 2)}
        if res.returncode != 0 or not session.exists():
            out["stderr_tail"] = res.stderr_tail()
            say(f"  profile failed (exit {res.returncode})\n" + _indent(out["stderr_tail"], 4))
            return out
        for renderer, suffix in (("html", ".html"), ("text", ".txt")):
            path = stem.with_suffix(suffix)
            render = [sys.executable, "-m", "pyinstrument", "--load", str(session), "-r", renderer, "-o", str(path)]
            subprocess.run(render, env=self.ctx.env, timeout=300, check=False, capture_output=True)
            out[renderer] = str(path.relative_to(tools.REPO)) if path.exists() else None
        say(f"  profile written: {out.get('html')} and {out.get('text')}")
        return out

    # -- --scale --------------------------------------------------------------------------------

    def scale(self, sizes: list[int]) -> list[dict]:
        rows = []
        for size in sizes:
            with self.site(size, f"scale-{size}") as (server, _info, _dir):
                rows.append({"size": size, **self.emaudit_crawl_row(server, size, f"emaudit-n{size}")})
        base = rows[0]
        for r in rows:
            ok = r["status"] == "ok" and base["status"] == "ok"
            r["rss_growth_pct"] = round(100 * (r["peak_rss_mb"] / base["peak_rss_mb"] - 1), 1) if ok else None
        say("\nscale (emaudit crawl):\n" + _scale_table(rows, "rss_growth_pct", "RSS growth vs first"))
        return rows

    # -- --audit-scale --------------------------------------------------------------------------

    def audit_scale(self, sizes: list[int]) -> dict:
        probe = run_measured("audit-help", [*tools.emaudit_cmd(), "audit", "--help"], self.ctx.log_dir, 60, self.ctx.env)
        if probe.returncode != 0:
            say(f"audit-scale: emaudit audit not available (exit {probe.returncode})\n" + _indent(probe.stderr_tail(), 4))
            return {"status": "not available", "returncode": probe.returncode, "stderr_tail": probe.stderr_tail()}
        rows = []
        for size in sizes:
            rows.append(self._audit_one(size))
        say("\naudit-scale (emaudit audit):\n" + _scale_table(rows, None, ""))
        return {"status": "ok", "rows": rows}

    def _audit_one(self, size: int) -> dict:
        store = self.work / f"audit-n{size}.emaudit.db"
        with self.site(size, f"audit-{size}") as (server, _info, _dir):
            say(f"audit-scale: building a {size}-page store …")
            crawl = tools.run_emaudit_crawl(self.ctx, server.base_url, store, size, f"audit-crawl-n{size}")
        if crawl.returncode != 0:
            return {"size": size, "tool": "emaudit audit", "status": f"store build failed (exit {crawl.returncode})",
                    "stderr_tail": crawl.stderr_tail()}  # fmt: skip
        # Not `-o /dev/null`: -o writes atomically (temp file + rename), and renaming over /dev/null
        # as root would replace the device node with a regular file.
        out = self.work / f"audit-n{size}.json"
        cmd = [*tools.emaudit_cmd(), "audit", str(store), "--format", "json", "-o", str(out)]
        # --audit-rounds: the same audit again on the same store; the median run (by time) is the
        # row. One 100k/50k time ratio moves by a few % from run to run, as much as n log n
        # differs from linear there.
        runs = []
        for _ in range(max(1, self.args.audit_rounds)):
            res = run_measured(f"audit-n{size}", cmd, self.ctx.log_dir, self.ctx.timeout(size, 50), self.ctx.env)
            res.extra["pages"] = crawl.extra.get("pages")
            runs.append(res)
        times = sorted(r.wall_s for r in runs)
        res = sorted(runs, key=lambda r: r.wall_s)[(len(runs) - 1) // 2]
        row = {"size": size, **report.row("emaudit audit", res)}
        if len(runs) > 1:
            row["seconds_all_rounds"] = [round(t, 3) for t in times]
        if res.returncode == 1 and not res.timed_out:  # exit 1 = findings at/above --fail-on: a success here
            row["status"] = "ok (findings: exit 1)"
        row["store_mb"] = round(store.stat().st_size / 1024**2, 1) if store.exists() else None
        row["output_mb"] = round(out.stat().st_size / 1024**2, 2) if out.exists() else None
        # The page pass forks one worker per CPU: the same audit without workers (-j 1) shows what
        # the forked workers cost in memory (whole-tree PSS) and save in time.
        serial = run_measured(f"audit-n{size}-j1", [*cmd, "-j", "1"], self.ctx.log_dir, self.ctx.timeout(size, 50),
                              self.ctx.env)  # fmt: skip
        serial_row = report.row("emaudit audit -j 1", serial)
        row["jobs1"] = {k: serial_row[k] for k in ("returncode", "seconds", "peak_rss_mb", "tree_pss_peak_mb")}
        say(f"  audit -j 1 at {size}: {row['jobs1']['seconds']} s, peak RSS {row['jobs1']['peak_rss_mb']} MB, "
            f"tree PSS {row['jobs1']['tree_pss_peak_mb']} MB (default -j: {row.get('seconds')} s, "
            f"tree PSS {row.get('tree_pss_peak_mb')} MB)")  # fmt: skip
        if not self.args.keep:
            _remove_store(store)
        return row

    # -- --resume-test --------------------------------------------------------------------------

    def resume_test(self) -> dict:
        """Rounds of (uninterrupted crawl, interrupted + resumed crawl) on one server: a single
        5,000-page crawl varies by ±5 % here, so one pair of runs cannot show a 5 % overhead.
        The overhead reported is median(interrupted + resumed) / median(uninterrupted) − 1."""
        pages, rounds = self.args.pages, max(1, self.args.resume_rounds)
        results: list[dict] = []
        with self.site(pages, "main") as (server, _info, _dir):
            for n in range(rounds):
                say(f"resume-test: round {n + 1} of {rounds}")
                baseline_row = self.emaudit_crawl_row(server, pages, "resume-baseline")
                if baseline_row["status"] != "ok":
                    say(f"resume-test: {baseline_row['status']}")
                    return {"status": baseline_row["status"], "baseline": baseline_row, "rounds": results}
                results.append(self._interrupt_and_resume(server, pages, baseline_row))
        base = statistics.median(r["baseline_seconds"] for r in results)
        total = statistics.median(r["total_seconds"] for r in results)
        no_shutdown = statistics.median(r["sigint_at_s"] + r["resumed"]["seconds"] for r in results)
        summary = {
            "status": next((r["status"] for r in results if r["status"] != "ok"), "ok"),
            "rounds": results,
            "median_baseline_seconds": round(base, 3),
            "median_total_seconds": round(total, 3),
            "overhead_pct": round(100 * (total / base - 1), 1),
            "overhead_excl_shutdown_pct": round(100 * (no_shutdown / base - 1), 1),
            "overhead_pct_per_round": [r["overhead_pct"] for r in results],
            "median_shutdown_s": round(statistics.median(r["shutdown_s"] for r in results), 3),
        }
        say(f"resume-test over {rounds} rounds: uninterrupted median {base:.2f} s, interrupted + resumed median "
            f"{total:.2f} s → overhead {summary['overhead_pct']:+.1f} % ({summary['overhead_excl_shutdown_pct']:+.1f} % "
            f"without the shutdown; per round {summary['overhead_pct_per_round']}); status {summary['status']}")  # fmt: skip
        return summary

    def _interrupt_and_resume(self, server: Server, pages: int, base: dict) -> dict:
        store = self.work / "resume.emaudit.db"
        half, half_time = base["pages"] / 2, base["seconds"] / 2
        state = {"next_poll": 0.0, "seen_count": False, "trigger": None}

        def interrupt(elapsed: float) -> bool:
            if elapsed < state["next_poll"]:
                return False
            state["next_poll"] = elapsed + 0.2
            count = tools.store_page_count(store)
            if count is not None:
                state["seen_count"] = True
                if count >= half:
                    state["trigger"] = f"store count {count}"
                    return True
            if not state["seen_count"] and elapsed >= half_time:
                state["trigger"] = f"time {elapsed:.1f} s (store not readable)"
                return True
            return False

        say(f"resume-test: crawl, SIGINT at ~{half:.0f} pages …")
        first = tools.run_emaudit_crawl(self.ctx, server.base_url, store, pages, "resume-interrupted", interrupt)
        at_interrupt = tools.store_page_count(store)
        integrity = tools.store_integrity(store) if store.exists() else None
        say(f"  interrupted run: exit {first.returncode} after {first.wall_s:.2f} s ({state['trigger']}), "
            f"{at_interrupt} pages in store, integrity {integrity}")  # fmt: skip
        second = tools.run_emaudit_resume(self.ctx, server.base_url, store, pages)
        total = first.wall_s + second.wall_s
        signal_at = first.signal_at_s or first.wall_s
        result = {
            "baseline_seconds": base["seconds"],
            "baseline_pages": base["pages"],
            "interrupt_trigger": state["trigger"],
            "sigint_at_s": round(signal_at, 3),
            # Ctrl-C to exit: how long a user waits at the prompt (and what the grace cut off).
            "shutdown_s": round(first.wall_s - signal_at, 3),
            "interrupted": report.row("emaudit (interrupted)", first) | {"pages_in_store": at_interrupt, "integrity": integrity},
            # its summary counts the whole crawl: pages_new is what the resumed run itself fetched
            "resumed": report.row("emaudit --resume", second) | _pages_new(store, at_interrupt),
            "total_seconds": round(total, 3),
            "overhead_pct": round(100 * (total / base["seconds"] - 1), 1),
            # The same without the shutdown: the cost of stopping and restarting the work itself.
            "overhead_excl_shutdown_pct": round(100 * ((signal_at + second.wall_s) / base["seconds"] - 1), 1),
        }
        result["status"] = _resume_status(first, second, result["resumed"]["pages_in_store"], base["pages"])
        say(f"  resumed run: exit {second.returncode} after {second.wall_s:.2f} s; "
            f"final pages {result['resumed']['pages_in_store']} vs {base['pages']} uninterrupted\n"
            f"  shutdown after SIGINT {result['shutdown_s']:.2f} s; overhead {result['overhead_pct']:+.1f} % "
            f"({total:.2f} s vs {base['seconds']:.2f} s), {result['overhead_excl_shutdown_pct']:+.1f} % without the shutdown\n"
            f"  status: {result['status']}")  # fmt: skip
        return result

    # -- --startup ------------------------------------------------------------------------------

    def startup(self) -> dict:
        py = sys.executable
        probes = {
            "python -c pass (baseline)": [py, "-c", "pass"],
            "python -c 'import emaudit.cli'": [py, "-c", "import emaudit.cli"],
            "emaudit --help": [*tools.emaudit_cmd(), "--help"],
            "emaudit rules": [*tools.emaudit_cmd(), "rules"],
        }
        out = {}
        for label, cmd in probes.items():
            runs = [run_measured("startup", cmd, self.ctx.log_dir, 120, self.ctx.env) for _ in range(STARTUP_REPEATS)]
            walls = [r.wall_s for r in runs]
            out[label] = {
                "returncode": runs[-1].returncode,
                "best_s": round(min(walls), 3),
                "median_s": round(statistics.median(walls), 3),
                "peak_rss_mb": round(min(r.maxrss_mb for r in runs), 1),
            }
            if runs[-1].returncode != 0:
                out[label]["stderr_tail"] = runs[-1].stderr_tail(5)
        check = "import sys, emaudit.cli; print(len(sys.modules), int('pandas' in sys.modules), int('advertools' in sys.modules))"
        probe = subprocess.run([py, "-c", check], capture_output=True, text=True, env=self.ctx.env, timeout=120, check=False)
        if probe.returncode == 0:
            mods, pandas, adv = probe.stdout.split()
            out["import emaudit.cli"] = {"modules": int(mods), "imports_pandas": pandas == "1", "imports_advertools": adv == "1"}
        lines = [f"  {k:34s} best {v['best_s'] * 1000:7.0f} ms  median {v['median_s'] * 1000:7.0f} ms  "
                 f"RSS {v['peak_rss_mb']:5.0f} MB  exit {v['returncode']}"
                 for k, v in out.items() if "best_s" in v]  # fmt: skip
        say(f"\nstartup (best of {STARTUP_REPEATS}):\n" + "\n".join(lines))
        if "import emaudit.cli" in out:
            say(f"  import emaudit.cli: {out['import emaudit.cli']}")
        return out

    # -- output ---------------------------------------------------------------------------------

    def write(self, path: Path) -> None:
        self.results["servers"] = self.servers
        self.results["machine"]["loadavg_at_end"] = os.getloadavg()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.results, indent=2, ensure_ascii=False, default=str) + "\n")
        os.replace(tmp, path)
        say(f"\nresults written to {path}")


def _median_row(rows: list[dict]) -> dict:
    """The run with the median pages/s among the successful ones (the lower one of the middle
    two for an even count); the first failure when none succeeded."""
    ok = sorted((r for r in rows if r["status"] == "ok" and r.get("pages_per_s")), key=lambda r: r["pages_per_s"])
    if not ok:
        return rows[0]
    return ok[(len(ok) - 1) // 2]


def _pages_new(store: Path, before: int | None) -> dict:
    final = tools.store_page_count(store)
    return {"pages_in_store": final, "pages_new": final - before if final is not None and before is not None else None}


def _resume_status(first, second, final_pages: int | None, baseline_pages: int) -> str:
    problems = []
    if first.timed_out:
        problems.append(f"the crawl did not exit within {first.wall_s - (first.signal_at_s or 0):.0f} s of SIGINT "
                        f"(terminated/killed, exit {first.returncode})")  # fmt: skip
    elif first.returncode != 130:
        problems.append(f"interrupted run exited {first.returncode}, expected 130")
    if second.returncode != 0:
        problems.append(f"resume exited {second.returncode}")
    if final_pages is not None and final_pages != baseline_pages:
        problems.append(f"{final_pages} pages after resume vs {baseline_pages} in one go")
    return "ok" if not problems else "; ".join(problems)


def _site_parent(work: Path, pages: int) -> Path:
    """RAM (/dev/shm) when the site fits in a quarter of the available memory, else the work dir.

    Writing 100k pages (~4.7 GB) to a VM disk is bound by its write speed (~40 MB/s here); in
    tmpfs it is bound by the generator's CPU. The stores, which the tools write, stay on disk.
    """
    shm = Path("/dev/shm")
    try:
        avail_kb = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemAvailable"))
    except (OSError, StopIteration, ValueError):
        return work
    if not shm.is_dir() or not os.access(shm, os.W_OK) or pages * 55 > avail_kb / 4:
        return work
    parent = shm / work.name  # same unique name as the work dir; removed with it
    parent.mkdir(exist_ok=True)
    return parent


def _clear_stale(site_dir: Path, spec: SiteSpec) -> None:
    """A site generated with other settings is replaced — but only a dir that we generated."""
    manifest = site_dir / "manifest.json"
    if not manifest.exists():
        return
    with contextlib.suppress(OSError, ValueError):
        if json.loads(manifest.read_text()).get("spec") == {"pages": spec.pages, "seed": spec.seed, "version": spec.version}:
            return
    for sub in ("p", "c", "prive"):
        shutil.rmtree(site_dir / sub, ignore_errors=True)
    manifest.unlink(missing_ok=True)


def _remove_store(store: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)


def _scale_table(rows: list[dict], extra_key: str | None, extra_label: str) -> str:
    head = "| pages in site | pages | seconds | pages/s | CPU ms/page | peak RSS MB |" + (f" {extra_label} |" if extra_key else "") + " status |"
    lines = [head, "|" + "---:|" * (6 + bool(extra_key)) + "---|"]
    for r in rows:
        cells = [r["size"], r.get("pages"), r.get("seconds"), r.get("pages_per_s"), r.get("cpu_ms_per_page"), r.get("peak_rss_mb")]
        if extra_key:
            cells.append(r.get(extra_key))
        lines.append("| " + " | ".join("–" if c is None else str(c) for c in cells) + f" | {r['status']} |")
    return "\n".join(lines)


def _indent(text: str, n: int) -> str:
    return "\n".join(" " * n + line for line in (text or "(empty)").splitlines())


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.emaudit_cmd:
        tools.EMAUDIT_OVERRIDE = shlex.split(args.emaudit_cmd)
    signal.signal(signal.SIGTERM, _raise_interrupt)  # `kill` behaves like Ctrl-C: servers are stopped
    # Interruptible even when started in the background by a shell (which ignores SIGINT there;
    # the children would inherit SIG_IGN and the resume test's SIGINT would do nothing).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    isolated = not args.no_netns and os.geteuid() == 0 and enter_private_netns()
    say("network: " + ("private network namespace, loopback only" if isolated else "host network (non-loopback traffic sent to a dead proxy)"))
    work = Path(tempfile.mkdtemp(prefix="emaudit-bench-"))
    bench = Bench(args, work, isolated)
    for other in bench.results["other_benchmarks_running"]:
        say(f"WARNING: another benchmark is running, figures will be skewed: {other}")
    say(f"machine: {bench.results['machine']['nproc']} CPUs ({bench.results['machine']['cpu_model']}), "
        f"Python {bench.results['machine']['python']}, load {bench.results['machine']['loadavg_at_start']}")  # fmt: skip
    try:
        _run_modes(bench, args)
    except KeyboardInterrupt:
        say("\ninterrupted: servers and children stopped")
        bench.results["interrupted"] = True
        bench.write(args.out)
        return 130
    finally:
        if args.keep:
            say(f"kept work dir {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(Path("/dev/shm") / work.name, ignore_errors=True)
    bench.write(args.out)
    return 0


def _run_modes(bench: Bench, args: argparse.Namespace) -> None:
    bench.results["emaudit_version"] = tools.emaudit_version(bench.ctx)
    bench.results["emaudit_location"] = emaudit_location(bench.ctx.env)
    say(f"emaudit package: {bench.results['emaudit_location']}")
    dirty = bench.results["machine"]["git_dirty"]
    if dirty and str(bench.results["emaudit_location"] or "").startswith(str(tools.REPO)):
        say(f"note: emaudit has uncommitted changes ({len(dirty)} files): measuring the working tree, not HEAD")
    say(f"emaudit: {bench.results['emaudit_version'] or 'not installed / --version failed'}")
    extra_modes = args.scale or args.audit_scale or args.resume_test or args.startup
    if args.compare or not extra_modes:
        bench.compare()
    if args.startup:
        bench.results["startup"] = bench.startup()
    if args.scale:
        bench.results["scale"] = bench.scale(args.scale)
    if args.resume_test:
        bench.results["resume"] = bench.resume_test()
    if args.audit_scale:
        bench.results["audit_scale"] = bench.audit_scale(args.audit_scale)
    # What this run says of each of issue 8's targets (not measured: that mode did not run here).
    bench.results["targets"] = report.targets(bench.results)
    say("\ntargets (issue 8):\n" + report.targets_table(bench.results["targets"]))


if __name__ == "__main__":
    sys.exit(main())
