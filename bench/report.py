"""Turn measured runs into result rows, a Markdown table and ratios."""

from __future__ import annotations

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
    return "pages/s excluding start-up (tool's own timing): " + (", ".join(parts) if parts else "–")


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
