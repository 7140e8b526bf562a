"""Click depths are recomputed breadth first at finalisation (batches and resumes can overstate them)."""

from __future__ import annotations

import pytest

from emaudit.store import NewUrl, Store
from emaudit.urls import url_id


def test_finalize_recomputes_click_depth(tmp_path):
    store = Store.create(str(tmp_path / "d.emaudit.db"))
    store.start_run("http://s/", "crawl", {}, "ua", "0")
    ids = {p: url_id("http://s" + p) for p in ("/", "/a", "/b", "/r", "/t", "/orphan")}
    depths = {"/": 0, "/a": 1, "/b": 5, "/r": 3, "/t": 4, "/orphan": None}

    def write():
        store.add_urls(
            NewUrl(ids[p], "http://s" + p, "done", "page", True, d, None, "start" if p == "/" else "a")
            for p, d in depths.items()
        )
        store.add_link(ids["/"], ids["/a"], "a")
        store.add_link(ids["/a"], ids["/b"], "a")
        store.add_link(ids["/a"], ids["/r"], "a")
        store.add_link(ids["/r"], ids["/t"], "redirect")  # a redirect is not a click

    store.batch(write)
    _forget_depth_tracking(store)
    store.requeue_unfinished()  # a resumed store from before depth tracking: depths are not trusted
    store.finalize()
    got = {p: store.get(i).depth for p, i in ids.items()}
    store.close()
    assert got == {"/": 0, "/a": 1, "/b": 2, "/r": 2, "/t": 2, "/orphan": None}


def _two_level_store(tmp_path, *, lower_state: str):
    """/ → /a → /b, where /b was first recorded at depth 5 (state ``lower_state``) and /a's link
    later lowers it to 2 through the crawler's own insert (an upsert)."""
    store = Store.create(str(tmp_path / "d.emaudit.db"))
    store.start_run("http://s/", "crawl", {}, "ua", "0")
    ids = {p: url_id("http://s" + p) for p in ("/", "/a", "/b", "/c")}

    def first():
        store.add_urls([
            NewUrl(ids["/"], "http://s/", "done", "page", True, 0, None, "start"),
            NewUrl(ids["/a"], "http://s/a", "done", "page", True, 1, ids["/"], "a"),
            NewUrl(ids["/b"], "http://s/b", lower_state, "page", True, 5, None, "a"),
            NewUrl(ids["/c"], "http://s/c", "queued", "page", True, 6, ids["/b"], "a"),
        ])
        store.add_link(ids["/"], ids["/a"], "a")
        store.add_link(ids["/a"], ids["/b"], "a")
        store.add_link(ids["/b"], ids["/c"], "a")

    store.batch(first)
    store.batch(lambda: store.add_urls([NewUrl(ids["/b"], "http://s/b", "queued", "page", True, 2, ids["/a"], "a")]))
    return store, ids


def test_lowering_a_fetched_url_marks_depths_stale_and_finalize_fixes_its_subtree(tmp_path):
    store, ids = _two_level_store(tmp_path, lower_state="done")
    assert store.get_meta("depths_stale") == "1"
    store.finalize()
    got = {p: store.get(i).depth for p, i in ids.items()}
    assert store.get_meta("depths_stale") is None  # recomputed, and the recomputation itself does not re-mark it
    store.close()
    assert got == {"/": 0, "/a": 1, "/b": 2, "/c": 3}


def test_lowering_a_queued_url_needs_no_recomputation(tmp_path):
    # /b is still waiting: it will hand its corrected depth down itself when it is fetched. The
    # stale depth of /c (6) is left alone: finalize() trusts depths when no fetched URL moved.
    store, ids = _two_level_store(tmp_path, lower_state="queued")
    assert store.get_meta("depths_stale") is None
    store.finalize()
    got = {p: store.get(i).depth for p, i in ids.items()}
    store.close()
    assert got == {"/": 0, "/a": 1, "/b": 2, "/c": 6}


def _forget_depth_tracking(store):
    """Make ``store`` look like one written before depth tracking existed."""
    store.batch(lambda: store._conn.execute("DELETE FROM meta WHERE key = 'depth_tracking'"))


@pytest.mark.parametrize(("tracked", "stale", "depth_c"), [(False, "1", 3), (True, None, 6)])
def test_resume_recomputes_depths_only_for_stores_without_depth_tracking(tmp_path, tracked, stale, depth_c):
    # Tracked: the trigger was on throughout the first run, nothing fetched moved, nothing to
    # recompute (the resume overhead stays small: the breadth-first pass is ~0.5 s at 5,000 pages).
    store, ids = _two_level_store(tmp_path, lower_state="queued")
    if not tracked:
        _forget_depth_tracking(store)
    store.requeue_unfinished()
    assert store.get_meta("depths_stale") == stale
    store.finalize()
    got = {p: store.get(i).depth for p, i in ids.items()}
    store.close()
    assert got["/c"] == depth_c


def test_later_lowerings_keep_the_flag(tmp_path):
    # A resumed crawl (flag already set) that lowers two fetched URLs in one statement and then
    # another one: the flag's row exists each time and nothing fails.
    store, ids = _two_level_store(tmp_path, lower_state="done")
    _forget_depth_tracking(store)
    store.requeue_unfinished()
    extra = [NewUrl(url_id(f"http://s/x{i}"), f"http://s/x{i}", "done", "page", True, 9, None, "a") for i in range(3)]
    store.batch(lambda: store.add_urls(extra))
    lowered = [NewUrl(n.id, n.url, "queued", "page", True, 2, ids["/a"], "a") for n in extra]
    store.batch(lambda: store.add_urls(lowered[:2]))
    store.batch(lambda: store.add_urls(lowered[2:]))
    assert store.get_meta("depths_stale") == "1"
    store.finalize()
    assert store.get_meta("depths_stale") is None
    store.close()


def test_claim_takes_the_frontier_in_priority_order_from_its_index(tmp_path):
    # Depth first decides (prio), then discovery order (seq); sitemap-only URLs wait unless asked
    # for. The query names the partial frontier index: sorting the whole frontier on each claim
    # (what the planner chose without statistics) made a 50,000-page crawl 11 % slower.
    store = Store.create(str(tmp_path / "f.emaudit.db"))
    store.start_run("http://s/", "crawl", {}, "ua", "0")
    depths = [(i * 7) % 5 for i in range(300)]
    urls = [NewUrl(url_id(f"http://s/{i}"), f"http://s/{i}", "queued", "page", True, d, None, "a")
            for i, d in enumerate(depths)]
    urls.append(NewUrl(url_id("http://s/from-sitemap"), "http://s/from-sitemap", "queued", "page", True, None, None, "sitemap"))
    store.batch(lambda: store.add_urls(urls))
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    first = store.claim(5, sitemap_only=False)
    store._conn.set_trace_callback(None)
    assert any("INDEXED BY urls_frontier" in sql for sql in statements)
    assert [c.url for c in first] == [f"http://s/{i}" for i, d in enumerate(depths) if d == 0][:5]
    everything = first + store.claim(1000, sitemap_only=False)
    assert len(everything) == 300 and "http://s/from-sitemap" not in {c.url for c in everything}
    assert [c.depth for c in everything] == sorted(depths)
    assert [c.url for c in store.claim(10)] == ["http://s/from-sitemap"]
    assert store.claim(10) == []  # claimed URLs are no longer in the frontier
    store.close()


def test_page_flag_reads_use_the_covering_index_not_the_pages_rows(tmp_path):
    """Target look-ups, URL states, simhashes and the page count read only a page's flags:
    from the pages_flags index, never from the wide pages rows (one 4 KB leaf per page: at
    100,000 pages the target look-ups were 10x slower and COUNT(*) took 4 s on a cold cache)."""
    from storekit import build_synthetic

    path = build_synthetic(str(tmp_path / "s.emaudit.db"), pages=400, links_per_page=12)
    store = Store.open(path)
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    store.counts()
    list(store.iter_url_states(internal=True))
    list(store.iter_simhashes())
    pages = list(store.iter_pages_cached_targets())
    store._conn.set_trace_callback(None)
    assert len(pages) >= 400 and any(p.targets for p in pages)
    checked = 0
    for sql in statements:
        if " pages" not in sql or "p.facts" in sql or not sql.lstrip().upper().startswith("SELECT"):
            continue  # the page pass itself reads the facts: the rows are what it wants
        plan = " | ".join(row[3] for row in store._conn.execute("EXPLAIN QUERY PLAN " + sql))
        touches_pages = [step for step in plan.split(" | ") if " p " in f" {step} " or "pages" in step]
        assert touches_pages and all("COVERING INDEX pages_flags" in step for step in touches_pages), (sql, plan)
        checked += 1
    assert checked >= 4  # the count, the URL states, the simhashes and at least one target look-up
    store.close()


def test_pages_flags_hint_follows_the_index(tmp_path):
    """The reads name pages_flags only while it exists: a resume drops the audit indexes
    (a read must not then fail on a missing index), finalize() builds them again."""
    from storekit import build_synthetic

    path = build_synthetic(str(tmp_path / "h.emaudit.db"), pages=60, links_per_page=4)
    store = Store.open(path, readonly=False)
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    assert store.counts()["html_pages"] >= 60
    store.requeue_unfinished()
    assert store.counts()["html_pages"] >= 60 and len(list(store.iter_simhashes())) >= 1
    store.finalize()
    assert store.counts()["html_pages"] >= 60
    store._conn.set_trace_callback(None)
    counts = [sql for sql in statements if sql.startswith("SELECT COUNT(*) FROM pages")]
    assert [("INDEXED BY pages_flags" in sql) for sql in counts] == [True, False, True]
    store.close()


def test_finalize_stops_inside_a_long_statement_and_changes_nothing(tmp_path):
    """``should_stop`` is polled while an index sort runs (not only between statements): a
    true answer aborts it, rolls the whole finalisation back and returns False; a later
    finalize() completes. This is what makes Ctrl-C prompt on a million-page store."""
    from storekit import build_synthetic

    path = build_synthetic(str(tmp_path / "f.emaudit.db"), pages=1500, links_per_page=60)
    store = Store.open(path, readonly=False)
    store.requeue_unfinished()  # drops the audit indexes: unfinalised again
    started: list[str] = []
    store._conn.set_trace_callback(started.append)
    asked_during: list[str] = []

    def should_stop() -> bool:
        asked_during.append(started[-1] if started else "")
        return len(asked_during) >= 3

    assert store.finalize(should_stop=should_stop) is False
    store._conn.set_trace_callback(None)
    # Asked before links_src's sort (between statements), then twice while it ran.
    assert asked_during[0].startswith("PRAGMA cache_size")
    assert asked_during[1].startswith("CREATE INDEX IF NOT EXISTS links_src")
    assert asked_during[2].startswith("CREATE INDEX IF NOT EXISTS links_src")
    assert not store.finalized and not store._conn.in_transaction
    indexes = {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert not indexes & {"links_src", "links_dst", "pages_flags"}
    calls = len(asked_during)
    assert store.query("SELECT COUNT(*), MAX(LENGTH(kind) + (src % 7)) FROM links")[0][0] > 80_000  # ~10 steps a row
    assert len(asked_during) == calls  # the progress handler went with the finalisation
    assert store.finalize(should_stop=lambda: False) is True and store.finalized
    assert {"links_src", "links_dst", "pages_flags"} <= {r[0] for r in store.query("SELECT name FROM sqlite_master")}
    store.close()
