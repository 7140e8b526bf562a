"""Turn measured runs into result rows, a Markdown table and ratios."""

from __future__ import annotations

import math

from measure import RunResult


def row(tool: str, res: RunResult | None, server_cpu_s: float | None = None, unavailable: str = "") -> dict:
    """One result row; ``status`` is ok | failed | timed out | not available | skipped."""
    if res is None:
        return {"tool": tool, "status": "skipped"}
    pages = res.extra.get("pages")
    out = {
        "tool": tool,
        "status": _status(res, unavailable),
        "returncode": res.returncode,
        "pages": pages,
        "seconds": round(res.wall_s, 3),
        "pages_per_s": round(pages / res.wall_s, 1) if pages and res.wall_s else None,
        "cpu_s": round(res.cpu_s, 3),
        "cpu_ms_per_page": round(1000 * res.cpu_s / pages, 2) if pages else None,
        "peak_rss_mb": round(res.maxrss_mb, 1),
        "tree_rss_peak_mb": round(res.tree_rss_peak_kb / 1024, 1) if res.tree_rss_peak_kb else None,
        "tree_pss_peak_mb": round(res.tree_pss_peak_kb / 1024, 1) if res.tree_pss_peak_kb else None,
        "server_cpu_s": round(server_cpu_s, 2) if server_cpu_s is not None else None,
        "cmd": res.cmd,
    }
    inner = res.extra.get("seconds")
    if isinstance(inner, (int, float)) and pages:
        out["inner_seconds"] = round(inner, 3)
        out["inner_pages_per_s"] = round(pages / inner, 1)
    for key in ("statuses", "errors", "pages_source", "import_seconds", "summary", "bytes", "loadavg_after", "other_benchmarks"):
        if key in res.extra:
            out[key] = res.extra[key]
    if out["status"] != "ok":
        out["stderr_tail"] = res.stderr_tail()
    return out


def _status(res: RunResult, unavailable: str) -> str:
    if res.timed_out:
        return "timed out"
    if res.returncode != 0:
        return unavailable or f"failed (exit {res.returncode})"
    pages, errors = res.extra.get("pages"), res.extra.get("errors")
    if pages and errors and errors > pages / 2:  # a crawl of error pages measures nothing useful
        return f"mostly errors ({errors:,} of {pages:,} fetches)"
    return "ok" if res.extra.get("pages") else "ok, pages unknown"


def _fmt(value, spec: str = "") -> str:
    if value is None:
        return "–"
    return format(value, spec)


def table(rows: list[dict]) -> str:
    head = "| tool | pages | seconds | pages/s | CPU ms/page | peak RSS MB | tree RSS MB | tree PSS MB | server CPU s | status |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if r["status"] == "skipped":
            lines.append(f"| {r['tool']} | | | | | | | | | skipped |")
            continue
        if not r["status"].startswith("ok"):  # numbers of a failed run would only mislead
            lines.append(f"| {r['tool']} | – | {_fmt(r['seconds'], '.2f')} | – | – | – | – | – | – | {r['status']} |")
            continue
        lines.append(
            f"| {r['tool']} | {_fmt(r['pages'], ',')} | {_fmt(r['seconds'], '.2f')} | {_fmt(r['pages_per_s'], ',.1f')} "
            f"| {_fmt(r['cpu_ms_per_page'], '.2f')} | {_fmt(r['peak_rss_mb'], '.1f')} | {_fmt(r['tree_rss_peak_mb'], '.1f')} "
            f"| {_fmt(r.get('tree_pss_peak_mb'), '.1f')} "
            f"| {_fmt(r['server_cpu_s'], '.2f')} | {r['status']} |"
        )
    return "\n".join(lines)


def ratios(rows: list[dict]) -> dict[str, float | None]:
    by = {r["tool"]: r for r in rows if r.get("status") == "ok"}

    def ratio(a: str, b: str, key: str) -> float | None:
        x, y = by.get(a, {}).get(key), by.get(b, {}).get(key)
        return round(x / y, 3) if x and y else None

    return {
        "emaudit/advertools pages/s": ratio("emaudit", "advertools", "pages_per_s"),
        "emaudit/fetch-only pages/s": ratio("emaudit", "fetch-only", "pages_per_s"),
        "emaudit/advertools peak RSS": ratio("emaudit", "advertools", "peak_rss_mb"),
        "emaudit/advertools tree PSS": ratio("emaudit", "advertools", "tree_pss_peak_mb"),
        "emaudit/advertools CPU ms/page": ratio("emaudit", "advertools", "cpu_ms_per_page"),
    }


def ratio_lines(values: dict[str, float | None]) -> str:
    return "\n".join(f"  {name:32s} {'–' if v is None else f'{v:.2f}×'}" for name, v in values.items())


def inner_line(rows: list[dict]) -> str:
    """pages/s without interpreter start-up and imports, where the tool reports its own duration."""
    parts = [f"{r['tool']} {r['inner_pages_per_s']:,.1f}" for r in rows if r.get("inner_pages_per_s")]
    return "pages/s excluding start-up and, for emaudit, the store's finalisation (tool's own timing): " + (", ".join(parts) if parts else "–")


def rounds_summary(runs: dict[str, list[dict]]) -> dict:
    """Every round's pages/s per tool, and emaudit/fetch-only per round (the two ran back to back)."""
    out: dict = {tool: [r.get("pages_per_s") if r["status"] == "ok" else None for r in rows] for tool, rows in runs.items()}
    pairs = zip(out.get("emaudit", []), out.get("fetch-only", []))
    out["emaudit/fetch-only per round"] = [round(e / f, 3) if e and f else None for e, f in pairs]
    return out


def rounds_lines(summary: dict) -> str:
    def fmt(values: list) -> str:
        return ", ".join("–" if v is None else f"{v:,.2f}" if v < 10 else f"{v:,.1f}" for v in values)

    return "pages/s by round: " + "; ".join(f"{tool} [{fmt(values)}]" for tool, values in summary.items())


def _row_at(rows: list[dict], size: int) -> dict | None:
    return next((r for r in rows if r.get("size") == size and str(r.get("status", "")).startswith("ok")), None)


def targets(results: dict) -> list[dict]:
    """Issue 8's targets against what this run measured: met, not met, or not measured (that
    mode did not run, or not at the issue's sizes: 5,000 / 50,000 / 100,000 pages)."""
    out: list[dict] = []

    def add(target: str, threshold: str, measured: float | None, ok: bool | None, unit: str = "", note: str = "",
            digits: int = 2) -> None:
        verdict = "not measured" if measured is None or ok is None else ("met" if ok else "NOT MET")
        shown = None if measured is None else f"{measured:,.{digits}f}{unit}" if isinstance(measured, float) else f"{measured}{unit}"
        if shown and note:
            shown += f" ({note})"
        out.append({"target": target, "threshold": threshold, "measured": shown, "verdict": verdict})

    def tree(row: dict | None) -> str:
        pss = (row or {}).get("tree_pss_peak_mb")
        return f"all its processes: {pss:,.1f} MB PSS" if pss else ""

    ratios_ = results.get("ratios") or {}
    pages = (results.get("args") or {}).get("pages")
    at_5k = pages == 5000
    r = ratios_.get("emaudit/advertools pages/s")
    add("1. crawl pages/s vs advertools (same run)", ">= 20x", r if at_5k else None, r is not None and r >= 20, "x")
    r = ratios_.get("emaudit/fetch-only pages/s")
    add("1. crawl pages/s vs httpx fetch-only (same run)", ">= 0.40x", r if at_5k else None, r is not None and r >= 0.40, "x")
    crawl = next((x for x in results.get("runs", []) if x.get("tool") == "emaudit" and x.get("status") == "ok"), None)
    rss = crawl.get("peak_rss_mb") if crawl and at_5k else None
    add("2. crawl peak RSS (largest process), 5,000 pages", "<= 100 MB", rss, rss is not None and rss <= 100, " MB", tree(crawl))
    scale = results.get("scale") or []
    first, last = _row_at(scale, 5000), _row_at(scale, 50000)
    growth = round(100 * (last["peak_rss_mb"] / first["peak_rss_mb"] - 1), 1) if first and last else None
    add("2. crawl peak RSS growth, 5,000 -> 50,000 pages", "<= 20 %", growth, growth is not None and growth <= 20, " %")
    audit = (results.get("audit_scale") or {}).get("rows") or []
    a50, a100 = _row_at(audit, 50000), _row_at(audit, 100000)
    add("3. audit time, 50,000 pages", "<= 30 s", a50["seconds"] if a50 else None, bool(a50) and a50["seconds"] <= 30, " s")
    add("3. audit peak RSS (largest process), 50,000 pages", "<= 200 MB", a50["peak_rss_mb"] if a50 else None,
        bool(a50) and a50["peak_rss_mb"] <= 200, " MB", tree(a50))
    if a50 and a100:
        nlogn = (100000 * math.log(100000)) / (50000 * math.log(50000))
        growth_t = a100["seconds"] / a50["seconds"]
        add("3. audit time growth, 50,000 -> 100,000 pages", f"<= {nlogn:.4f}x (n log n)", growth_t, growth_t <= nlogn, "x",
            digits=4)
    else:
        add("3. audit time growth, 50,000 -> 100,000 pages", "<= 2.1281x (n log n)", None, None)
    startup = results.get("startup") or {}
    for label in ("emaudit --help", "emaudit rules"):
        best = (startup.get(label) or {}).get("best_s")
        add(f"4. `{label}` wall time", "<= 0.3 s", best, best is not None and best <= 0.3, " s")
    imports = startup.get("import emaudit.cli")
    heavy = None if imports is None else imports["imports_pandas"] or imports["imports_advertools"]
    add("4. importing the CLI imports no pandas/advertools", "none", None if heavy is None else ("some" if heavy else "none"),
        None if heavy is None else not heavy)
    resume = results.get("resume") or {}
    pct = resume.get("overhead_pct") if at_5k and str(resume.get("status", "")).startswith("ok") else None
    add("5. resume overhead (interrupted at 50 %)", "<= 5 %", pct, pct is not None and pct <= 5, " %")
    return out


def targets_table(rows: list[dict]) -> str:
    lines = ["| target | threshold | measured | verdict |", "|---|---|---:|---|"]
    lines += [f"| {r['target']} | {r['threshold']} | {r['measured'] or '–'} | {r['verdict']} |" for r in rows]
    return "\n".join(lines)
