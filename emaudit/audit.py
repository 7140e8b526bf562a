"""The audit engine: run the active rules over a crawl store in one streaming pass.

Page pass
    Internal URLs and HTML pages are read side by side in id order (two cursors, a merge join:
    no query per URL). Each URL is evaluated once: its unit level is computed (``url`` ⊃
    ``page`` ⊃ ``html`` ⊃ ``indexable``), one :class:`~emaudit.api.PageView` is built, and every
    page rule that applies at that level runs on it. Applicability is counted per level, not per
    rule, which keeps the inner loop to "call the rule, look at what it yields".

Site pass
    Each site rule runs once over a :class:`~emaudit.api.SiteView` (the store's read API).

Findings
    Streamed to an optional sink as produced (``--format jsonl``) and spooled into a temporary
    SQLite file, from which renderers read them back sorted (severity, rule, url); in memory
    there are only per-rule counters. A site with a million findings costs disk, not RAM.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from emaudit.api import PAGE_UNITS, SEVERITIES, Finding, PageView, SiteView
from emaudit.config import ActiveRule, Config, load_config, resolve_rules
from emaudit.errors import Interrupted, PluginError
from emaudit.scoring import (
    RuleTally,
    Scores,
    as_score,
    compute_scores,
    impact,
    importance,
    pass_rate,
)
from emaudit.store import BLOCKED, DONE, PageRecord, Store, UrlRecord, finalize_left_store, needs_finalizing
from emaudit.system import signals_as_flag, usable_cpus

Sink = Callable[[Finding], None]
EXAMPLES = 5  # example URLs kept per issue (the table shows 3)
_SPOOL_BATCH = 2000
PARALLEL_MIN_PAGES = 5_000  # below this, forking costs more than it saves
MAX_WORKERS = 8
ID_MAX = (1 << 63) - 1  # URL ids are 63-bit hashes (emaudit.urls.url_id)
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_encode_string = json.encoder.encode_basestring  # type: ignore[attr-defined]  # C-accelerated, keeps UTF-8 text


# ---------------------------------------------------------------- settings
@dataclass(frozen=True, slots=True)
class AuditSettings:
    """Which rules run and when the run fails: configuration file + command line, resolved."""

    rules: tuple[ActiveRule, ...]
    fail_on: str | None
    config: Config


def load_settings(
    *,
    config_path: str | Path | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    rule_paths: Sequence[str | Path] = (),
    fail_on: str | None = None,
    entry_points: bool = True,
) -> AuditSettings:
    """Load the configuration and the rules, validate both, apply the command line on top."""
    from emaudit.registry import load_registry

    config = load_config(config_path)
    registry = load_registry(rule_paths, entry_points=entry_points)
    rules = resolve_rules(config, registry, select=select, ignore=ignore)
    return AuditSettings(tuple(rules), fail_on if fail_on is not None else config.fail_on, config)


# ---------------------------------------------------------------- results
@dataclass(slots=True)
class RuleResult:
    """One rule's outcome: counters only (findings live in the spool)."""

    rule: ActiveRule
    applicable: int = 0
    failing: int = 0  # units with at least one finding
    count: int = 0  # findings
    importance: float = 0.0  # Σ importance of failing units
    examples: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.rule.spec.id

    @property
    def severity(self) -> str:
        return self.rule.severity

    @property
    def category(self) -> str:
        return self.rule.spec.category

    @property
    def title(self) -> str:
        return self.rule.spec.title

    @property
    def score(self) -> float | None:
        return as_score(pass_rate(self.failing, self.applicable))

    @property
    def impact(self) -> float:
        return impact(self.severity, self.importance)

    def tally(self) -> RuleTally:
        return RuleTally(self.category, self.severity, self.applicable, self.failing)


@dataclass(slots=True)
class AuditResult:
    """Everything a renderer needs. Close it (or use ``with``) to delete the findings spool."""

    target: str
    store_path: str
    start_url: str
    started_at: datetime
    finished_at: datetime
    crawl: dict[str, Any]
    rules: list[RuleResult]
    scores: Scores
    findings: FindingSpool

    @property
    def issues(self) -> list[RuleResult]:
        """Rules with findings, highest impact first."""
        failing = [r for r in self.rules if r.count]
        return sorted(failing, key=lambda r: (-r.impact, _SEVERITY_RANK[r.severity], r.id))

    @property
    def total(self) -> int:
        return sum(r.count for r in self.rules)

    def fails(self, fail_on: str | None) -> bool:
        """True when a finding at or above ``fail_on`` exists (exit code 1)."""
        if fail_on is None:
            return False
        limit = _SEVERITY_RANK[fail_on]
        return any(r.count and _SEVERITY_RANK[r.severity] <= limit for r in self.rules)

    def close(self) -> None:
        self.findings.close()

    def __enter__(self) -> AuditResult:  # noqa: PYI034 - a dataclass, not meant to be subclassed
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------- the spool
class FindingSpool:
    """Findings on disk (temporary SQLite file), read back sorted or per rule."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path if path is not None else new_spool_path()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "temp_store = FILE", "cache_size = -16000"):
            self._conn.execute(f"PRAGMA {pragma}")
        self._conn.execute(
            "CREATE TABLE findings (sev INTEGER, rule TEXT, url TEXT, message TEXT, details TEXT,"
            " fingerprint TEXT, severity TEXT, category TEXT, unit INTEGER, importance REAL)"
        )
        self._buffer: list[tuple[Any, ...]] = []
        self._indexed = False
        self.count = 0

    def add(self, f: Finding, unit: int, weight: float) -> None:
        try:
            details = json.dumps(f.details, ensure_ascii=False, separators=(",", ":")) if f.details else "{}"
        except (TypeError, ValueError) as exc:
            raise PluginError(f"rule '{f.rule}' produced details that are not JSON-serialisable: {exc}") from exc
        self._buffer.append((_SEVERITY_RANK[f.severity], f.rule, f.url, f.message, details, f.fingerprint,
                             f.severity, f.category, unit, weight))
        self.count += 1
        if len(self._buffer) >= _SPOOL_BATCH:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?)", self._buffer)
            self._conn.execute("COMMIT")
            self._buffer.clear()

    def last_rowid(self) -> int:
        self.flush()
        return self._conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM findings").fetchone()[0]

    def units_since(self, rowid: int) -> tuple[int, float]:
        """(distinct units, Σ their importance) of the findings added after ``rowid``."""
        self.flush()
        row = self._conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(w), 0) FROM"
            " (SELECT MAX(importance) AS w FROM findings WHERE rowid > ? GROUP BY unit)",
            (rowid,),
        ).fetchone()
        return int(row[0]), float(row[1])

    def _index(self) -> None:
        self.flush()
        if not self._indexed:
            self._conn.execute("CREATE INDEX findings_order ON findings (sev, rule, url, fingerprint)")
            self._conn.execute("CREATE INDEX findings_rule ON findings (rule, importance)")
            self._indexed = True

    def examples(self, rule_id: str, limit: int = EXAMPLES) -> list[str]:
        """The ``limit`` most important distinct URLs a rule reported."""
        self._index()
        rows = self._conn.execute(
            "SELECT url, MAX(importance) AS w FROM findings WHERE rule = ? GROUP BY url ORDER BY w DESC, url LIMIT ?",
            (rule_id, limit),
        )
        return [r[0] for r in rows]

    def __iter__(self) -> Iterator[Finding]:
        """Every finding, sorted by severity, rule, url."""
        self._index()
        yield from self._read("SELECT rule, severity, category, url, message, details, fingerprint FROM findings"
                              " ORDER BY sev, rule, url, fingerprint, rowid", ())

    def iter_json(self) -> Iterator[str]:
        """Every finding as one compact JSON object (no newline), sorted like ``iter()``.

        Built from the stored columns and the already-serialised details: a million findings
        are written in seconds, without a json.loads/json.dumps round trip each.
        """
        self._index()
        rows = self._conn.execute("SELECT rule, severity, category, url, message, details, fingerprint FROM findings"
                                  " ORDER BY sev, rule, url, fingerprint, rowid")
        enc = _encode_string
        for rule_id, severity, category, url, message, details, fp in rows:
            yield (f'{{"rule":{enc(rule_id)},"severity":"{severity}","category":"{category}","url":{enc(url)},'
                   f'"message":{enc(message)},"details":{details},"fingerprint":"{fp}"}}')

    def for_rule(self, rule_id: str) -> Iterator[Finding]:
        self._index()
        yield from self._read("SELECT rule, severity, category, url, message, details, fingerprint FROM findings"
                              " WHERE rule = ? ORDER BY url, fingerprint, rowid", (rule_id,))

    def _read(self, sql: str, params: tuple[Any, ...]) -> Iterator[Finding]:
        for row in self._conn.execute(sql, params):
            yield _finding(row)

    def __len__(self) -> int:
        return self.count

    def absorb(self, path: str, sink: Sink | None = None) -> None:
        """Append the findings of another spool file (a worker's), in its order; then delete it."""
        self.flush()
        if sink is not None:
            other = sqlite3.connect(path)
            try:
                for row in other.execute("SELECT rule, severity, category, url, message, details, fingerprint"
                                         " FROM findings ORDER BY rowid"):
                    sink(_finding(row))
            finally:
                other.close()
        self._conn.execute("ATTACH DATABASE ? AS worker", (path,))
        try:
            self.count += self._conn.execute("INSERT INTO findings SELECT * FROM worker.findings").rowcount
        finally:
            self._conn.execute("DETACH DATABASE worker")
            _unlink(path)

    def detach(self) -> None:
        """Flush and close, keeping the file (a worker hands its spool to the parent)."""
        self.flush()
        self._conn.close()

    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            _unlink(self.path)


def new_spool_path() -> str:
    fd, path = tempfile.mkstemp(prefix="emaudit-findings-", suffix=".sqlite")
    os.close(fd)
    return path


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _finding(row: Sequence[Any]) -> Finding:
    rule_id, severity, category, url, message, details, fp = row
    return Finding(rule_id, severity, category, url, message, json.loads(details), fp)


# ---------------------------------------------------------------- the engine
def run_audit(
    store: Store,
    rules: Sequence[ActiveRule],
    *,
    target: str | None = None,
    sink: Sink | None = None,
    workers: int | None = None,
) -> AuditResult:
    """Audit a store with ``rules``; findings go to ``sink`` as produced and to the result's spool.

    ``workers`` > 1 splits the page pass over forked processes (None: decided by site size).
    """
    started = datetime.now(timezone.utc)
    run = store.run_info()
    crawl = crawl_summary(store, run)
    spool = FindingSpool()
    try:
        results = {r.id: RuleResult(r) for r in rules}
        engine = _Engine(store, run["start_url"], results, spool, sink)
        page_rules = [r for r in rules if r.spec.scope == "page"]
        site_rules = [r for r in rules if r.spec.scope == "site"]
        count = worker_count(crawl["html_pages"], workers) if page_rules else 1
        if count > 1:
            engine.parallel_passes(page_rules, site_rules, count)
        else:
            engine.page_pass(page_rules)
            engine.site_pass(site_rules)
        engine.settle(rules)
    except BaseException:
        spool.close()
        raise
    ordered = list(results.values())
    return AuditResult(
        target=target or store.path,
        store_path=store.path,
        start_url=run["start_url"],
        started_at=started,
        finished_at=datetime.now(timezone.utc),
        crawl=crawl,
        rules=ordered,
        scores=compute_scores(r.tally() for r in ordered),
        findings=spool,
    )


def worker_count(html_pages: int, requested: int | None = None) -> int:
    """Processes for the page pass: one below PARALLEL_MIN_PAGES, else one per CPU (capped).

    Forking is the only start method used: rules loaded from ``--rules`` files live in modules
    a spawned interpreter could not import by name. Without fork (Windows) the pass is serial.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if requested is not None:
        return max(1, requested)
    if html_pages < PARALLEL_MIN_PAGES:
        return 1
    return max(1, min(MAX_WORKERS, usable_cpus(), html_pages // (PARALLEL_MIN_PAGES // 2)))


def crawl_summary(store: Store, run: dict[str, Any]) -> dict[str, Any]:
    counts = store.counts()
    return {
        "start_url": run["start_url"],
        "store": store.path,
        "state": run["state"],
        "started_at": iso_utc(run["started_at"]),
        "finished_at": iso_utc(run["finished_at"]) if run["finished_at"] else None,
        "urls": counts["urls"],
        "pages": counts["pages"],
        "html_pages": counts["html_pages"],
        "by_status_class": dict(sorted(counts["by_status_class"].items())),
    }


def iso_utc(value: float | datetime) -> str:
    """UTC ISO-8601 with a Z, to the second: what every machine output uses."""
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(value, timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def unit_level(rec: UrlRecord, page: PageRecord | None) -> int:
    """Index in PAGE_UNITS of the narrowest unit ``rec`` is (-1: not audited at all)."""
    if not rec.internal or rec.state not in (DONE, BLOCKED):
        return -1
    if rec.kind != "page" or rec.state != DONE:
        return 0
    if page is None or rec.status != 200 or not rec.is_html:
        return 1
    return 3 if page.indexable else 2


class _Engine:
    """One audit run's moving parts: the store, the counters, the spool and the sink."""

    def __init__(self, store: Store, start_url: str, results: dict[str, RuleResult],
                 spool: FindingSpool, sink: Sink | None, id_range: tuple[int, int] | None = None) -> None:
        self.store = store
        self.start_url = start_url
        self.results = results
        self.spool = spool
        self.sink = sink
        self.id_range = id_range
        self.level_counts = [0] * len(PAGE_UNITS)

    # ---- page rules
    def page_pass(self, rules: list[ActiveRule]) -> None:
        """Evaluate every unit (in ``id_range``) once, with the page rules that apply to it."""
        by_level = [[r for r in rules if PAGE_UNITS.index(r.spec.applies_to) <= level]
                    for level in range(len(PAGE_UNITS))]
        plans = [[(r.spec.func, r.options, r.bound(), self.results[r.id]) for r in level] for level in by_level]
        for rec, page in self._units():
            level = unit_level(rec, page)
            if level < 0:
                continue
            for lower in range(level + 1):
                self.level_counts[lower] += 1
            if plans[level]:
                self._evaluate(PageView(rec, page, self.start_url, self.store.inlink_sources), plans[level])

    def _units(self) -> Iterator[tuple[UrlRecord, PageRecord | None]]:
        """Internal URLs with their page record when they have one (merge join on id)."""
        lo, hi = self.id_range or (0, ID_MAX)
        pages = self.store.iter_pages_cached_targets(id_range=self.id_range)
        pending = next(pages, None)
        for rec in self.store.iter_urls(internal=True):
            if not lo <= rec.id <= hi:
                continue
            while pending is not None and pending.url.id < rec.id:
                pending = next(pages, None)
            if pending is not None and pending.url.id == rec.id:
                yield pending.url, pending
            else:
                yield rec, None

    def _evaluate(self, view: PageView, plan: list[tuple[Any, Any, Any, RuleResult]]) -> None:
        weight = -1.0
        for func, options, bound, result in plan:
            view._bound = bound
            found = False
            try:
                for finding in func(view, options):
                    if not found:
                        found = True
                        if weight < 0:
                            rec = view.record
                            weight = importance(rec.inlinks, rec.depth, rec.in_sitemap)
                        result.failing += 1
                        result.importance += weight
                    self._emit(finding, result, view.record.id, weight)
            except PluginError:
                raise
            except Exception as exc:
                raise _crash(result, view.url, exc) from exc

    def _emit(self, finding: Any, result: RuleResult, unit: int, weight: float) -> None:
        if not isinstance(finding, Finding):
            raise _not_a_finding(result, finding)
        result.count += 1
        self.spool.add(finding, unit, weight)
        if self.sink is not None:
            self.sink(finding)

    # ---- site rules
    def site_pass(self, rules: list[ActiveRule]) -> None:
        """Run each site rule once; its failing units are the distinct URLs it reported."""
        site = SiteView(self.store, self.start_url)
        for r in rules:
            self._run_site_rule(site, r, self.results[r.id])

    def _run_site_rule(self, site: SiteView, r: ActiveRule, result: RuleResult) -> None:
        from emaudit.urls import url_id

        site._bind(r.bound())
        since = self.spool.last_rowid()
        batch: list[Finding] = []
        try:
            for finding in r.spec.func(site, r.options):
                if not isinstance(finding, Finding):
                    raise _not_a_finding(result, finding)
                if self.sink is not None:
                    self.sink(finding)
                batch.append(finding)
                if len(batch) >= 500:
                    self._spool_site(batch, result, url_id)
        except PluginError:
            raise
        except Exception as exc:
            raise _crash(result, "the site", exc) from exc
        self._spool_site(batch, result, url_id)
        result.failing, result.importance = self.spool.units_since(since)

    def _spool_site(self, batch: list[Finding], result: RuleResult, url_id: Callable[[str], int]) -> None:
        """Spool site findings with the importance of their URL (looked up 500 at a time)."""
        ids = [url_id(f.url) for f in batch]
        records = self.store.get_many(set(ids))
        for f, uid in zip(batch, ids):
            rec = records.get(uid)
            weight = importance(rec.inlinks, rec.depth, rec.in_sitemap) if rec else 1.0
            self.spool.add(f, uid, weight)
            result.count += 1
        batch.clear()

    # ---- both, in parallel
    def parallel_passes(self, page_rules: list[ActiveRule], site_rules: list[ActiveRule], workers: int) -> None:
        """Page pass split by id range over forked workers; site rules run here meanwhile."""
        jobs = [_start_worker(self.store.path, self.start_url, page_rules, bounds) for bounds in _id_ranges(workers)]
        try:
            self.site_pass(site_rules)
            for job in jobs:
                self._merge(job.wait())
        finally:
            for job in jobs:
                job.stop()

    def _merge(self, outcome: dict[str, Any]) -> None:
        for level, n in enumerate(outcome["levels"]):
            self.level_counts[level] += n
        for rule_id, (failing, count, weight) in outcome["rules"].items():
            result = self.results[rule_id]
            result.failing += failing
            result.count += count
            result.importance += weight
        self.spool.absorb(outcome["spool"], self.sink)

    def settle(self, rules: Sequence[ActiveRule]) -> None:
        """Once every unit is counted: applicability, capped failing units, example URLs."""
        self.spool.flush()
        for r in rules:
            result = self.results[r.id]
            level = r.spec.applies_to
            result.applicable = 1 if level == "site" else self.level_counts[PAGE_UNITS.index(level)]
            result.failing = min(result.failing, result.applicable)
            if result.count:
                result.examples = self.spool.examples(result.id)


# ---------------------------------------------------------------- workers
class _Worker:
    """A forked page-pass worker: its process, the pipe its outcome comes back on, its spool file."""

    def __init__(self, process: Any, pipe: Any, spool: str) -> None:
        self.process, self.pipe, self.spool = process, pipe, spool

    def wait(self) -> dict[str, Any]:
        try:
            outcome = self.pipe.recv()
        except EOFError:
            raise RuntimeError(f"audit worker {self.process.pid} died (exit code {self.process.exitcode})") from None
        self.process.join()
        if "plugin_error" in outcome:
            raise PluginError(outcome["plugin_error"])
        if "error" in outcome:
            raise RuntimeError(outcome["error"])
        return outcome

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.pipe.close()
        _unlink(self.spool)


def _id_ranges(parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous inclusive ranges covering every URL id (ids are uniform 63-bit hashes)."""
    step = (ID_MAX + 1) // parts
    return [(i * step, ID_MAX if i == parts - 1 else (i + 1) * step - 1) for i in range(parts)]


def _start_worker(store_path: str, start_url: str, rules: list[ActiveRule], bounds: tuple[int, int]) -> _Worker:
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    spool = new_spool_path()
    process = ctx.Process(target=_page_worker, args=(send, store_path, start_url, rules, bounds, spool), daemon=True)
    process.start()
    send.close()
    return _Worker(process, receive, spool)


def _page_worker(send: Any, store_path: str, start_url: str, rules: list[ActiveRule],
                 bounds: tuple[int, int], spool_path: str) -> None:
    """In a forked child: the page pass over one id range, findings into its own spool file."""
    try:
        spool = FindingSpool(spool_path)
        results = {r.id: RuleResult(r) for r in rules}
        with Store.open(store_path) as store:
            engine = _Engine(store, start_url, results, spool, None, bounds)
            engine.page_pass(rules)
        spool.detach()
        send.send({"levels": engine.level_counts, "spool": spool_path,
                   "rules": {i: (r.failing, r.count, r.importance) for i, r in results.items()}})
    except PluginError as exc:
        send.send({"plugin_error": str(exc)})
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        send.send({"error": f"audit worker failed: {type(exc).__name__}: {exc}"})
    finally:
        send.close()


def _crash(result: RuleResult, where: str, exc: Exception) -> PluginError:
    return PluginError(
        f"rule '{result.id}' (module {result.rule.spec.module}) failed on {where}: {type(exc).__name__}: {exc}"
        " (run with --debug for the traceback)"
    )


def _not_a_finding(result: RuleResult, value: Any) -> PluginError:
    return PluginError(
        f"rule '{result.id}' (module {result.rule.spec.module}) yielded {type(value).__name__}, not a Finding:"
        " use page.finding(...) or site.finding(...)"
    )


def audit_store(path: str | Path, settings: AuditSettings, *, target: str | None = None,
                sink: Sink | None = None, workers: int | None = None) -> AuditResult:
    """Open a crawl store read-only and audit it (what ``emaudit audit STORE`` does).

    A store left by an interrupted crawl is finalised first (indexes, inlinks, depths); a
    Ctrl-C or SIGTERM meanwhile stops that within milliseconds and raises :class:`Interrupted`."""
    if needs_finalizing(str(path)):  # only then are signals a flag: elsewhere a Ctrl-C interrupts as usual
        with signals_as_flag() as asked:
            if not finalize_left_store(str(path), should_stop=asked):
                raise Interrupted(f"interrupted while finalising {path} (left as it was: the next audit finalises it)")
    with Store.open(path) as store:
        return run_audit(store, settings.rules, target=target, sink=sink, workers=workers)
