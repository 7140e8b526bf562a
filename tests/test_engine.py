"""The audit engine over small hand-built stores: exact findings, units, counts, streaming, failures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from storekit import BASE, StoreBuilder

from emaudit.api import Finding, Option, Options, PageView, rule
from emaudit.audit import audit_store, load_settings, run_audit, unit_level
from emaudit.config import ActiveRule, Config, resolve_rules
from emaudit.errors import PluginError
from emaudit.registry import Registry, load_registry
from emaudit.store import Store

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture
def site(tmp_path) -> str:
    b = StoreBuilder(str(tmp_path / "site.emaudit.db"))
    b.page("/", title="Home", links=["/a", "/b", "/missing", "/old"], depth=0, html_lang="fr", in_sitemap=True)
    b.page("/a", title="A title that is definitely too long", links=["/missing", "/"], html_lang="fr")
    b.page("/b", title="Home", links=["/"], indexable=False, meta_robots={"robots": ["noindex"]})
    b.page("/c", title="Home", links=["/"], depth=2)
    b.url("/missing", status=404)
    b.url("/old", status=301, location="/a")
    b.url("/img.png", kind="resource", content_type="image/png")
    b.url("/private/", state="blocked")
    b.url("/later", state="queued")  # never fetched: not a unit
    return b.build()


def _settings(**kw):
    return load_settings(rule_paths=[PLUGINS], entry_points=False, **kw)


def _pairs(result):
    return sorted((f.rule, f.url.removeprefix(BASE)) for f in result.findings)


def test_exact_findings_and_units(site):
    with audit_store(site, _settings()) as result:
        assert _pairs(result) == [
            ("test.broken_link", "/"), ("test.broken_link", "/a"),
            ("test.client_error", "/missing"),
            ("test.duplicate_title", "/"), ("test.duplicate_title", "/c"),  # /b is noindex: not a unit
            ("test.long_title", "/a"),
            ("test.no_lang", "/b"), ("test.no_lang", "/c"),
        ]
        by_id = {r.id: r for r in result.rules}
        # url: 4 pages + 404 + 301 + image + blocked; html: 4 pages; indexable: 3 (not /b)
        assert by_id["test.client_error"].applicable == 8
        assert by_id["test.broken_link"].applicable == 4
        assert by_id["test.long_title"].applicable == 3
        assert by_id["test.duplicate_title"].applicable == 3
        assert by_id["test.duplicate_title"].failing == 2
        assert by_id["test.broken_link"].score == 50.0
        broken = [f for f in result.findings if f.rule == "test.broken_link"]
        assert broken[0].details == {"status": 404, "target": BASE + "/missing"}
        assert broken[0].fingerprint != broken[1].fingerprint


def test_findings_come_back_sorted_by_severity_rule_url(site):
    with audit_store(site, _settings()) as result:
        keys = [({"error": 0, "warning": 1, "notice": 2}[f.severity], f.rule, f.url) for f in result.findings]
        assert keys == sorted(keys)
        assert len(result.findings) == result.total == 8


def test_each_url_is_evaluated_once_per_rule(site):
    seen: list[str] = []

    @rule(id="spy.every_url", category="indexability", severity="notice", scope="page", title="Spy", applies_to="url")
    def spy(page: PageView, opts):
        seen.append(page.url)
        yield from ()

    with Store.open(site) as store:
        run_audit(store, [_active(spy)]).close()
    assert sorted(u.removeprefix(BASE) for u in seen) == ["/", "/a", "/b", "/c", "/img.png", "/missing", "/old", "/private/"]


def test_unit_levels(site):
    with Store.open(site) as store:
        levels = {r.url.removeprefix(BASE): unit_level(r, None) for r in store.iter_urls()}
        pages = {p.url.url.removeprefix(BASE): unit_level(p.url, p) for p in store.iter_pages()}
    assert levels["/later"] == -1 and levels["/private/"] == 0 and levels["/img.png"] == 0
    assert levels["/missing"] == 1 and levels["/old"] == 1
    assert pages == {"/": 3, "/a": 3, "/b": 2, "/c": 3}


def test_config_severity_reaches_findings_scores_and_fail_on(site):
    settings = _settings(select=["test.no_lang"])
    with audit_store(site, settings) as result:
        assert {f.severity for f in result.findings} == {"notice"}
        assert result.scores.overall is None  # notices do not cost
        assert not result.fails("warning") and result.fails("notice")
    registry = _registry()
    config = Config(rules={"test.no_lang": {"severity": "error"}})
    rules = resolve_rules(config, registry, select=["test.no_lang"])
    with Store.open(site) as store, run_audit(store, rules) as result:
        assert {f.severity for f in result.findings} == {"error"}
        assert result.scores.categories == {"content": 50.0}
        assert result.fails("error")


def test_sink_gets_every_finding_as_produced(site):
    got: list[Finding] = []
    with audit_store(site, _settings(), sink=got.append) as result:
        assert sorted(f.fingerprint for f in got) == sorted(f.fingerprint for f in result.findings)


def test_issue_ranking_and_examples(site):
    with audit_store(site, _settings()) as result:
        issues = result.issues
        assert issues[0].id == "test.broken_link"  # error on the home page: highest impact
        impacts = [r.impact for r in issues]
        assert impacts == sorted(impacts, reverse=True)
        assert issues[0].examples[0] == BASE + "/"  # the home page (depth 0, most inlinks) first


def test_spool_is_deleted_on_close(site):
    result = audit_store(site, _settings())
    path = result.findings.path
    assert os.path.exists(path)
    result.close()
    assert not os.path.exists(path)


def test_crashing_rule_names_rule_and_url(site):
    @rule(id="bad.crash", category="content", severity="error", scope="page", title="Crash")
    def crash(page, opts):
        if page.url.endswith("/a"):
            raise KeyError("boom")
        yield from ()

    with Store.open(site) as store, pytest.raises(PluginError, match=r"rule 'bad.crash' .* failed on https://site.test/a: KeyError"):
        run_audit(store, [_active(crash)])


def test_rule_yielding_something_else_is_an_error(site):
    @rule(id="bad.yield", category="content", severity="error", scope="site", title="Yield")
    def wrong(site_view, opts):
        yield "not a finding"

    with Store.open(site) as store, pytest.raises(PluginError, match="yielded str, not a Finding"):
        run_audit(store, [_active(wrong)])


def test_site_rule_with_site_unit_and_options(site):
    @rule(id="site.ratio", category="indexability", severity="error", scope="site", title="Ratio",
          options=(Option("limit", 0.2, "Largest share", source="tests"),))
    def ratio(view, opts):
        pages = list(view.pages())
        noindex = sum(1 for p in pages if p.noindex)
        if noindex / len(pages) >= opts.limit:
            yield view.finding(view.start_url, f"{noindex} of {len(pages)} pages are noindex", share=noindex / len(pages))

    with Store.open(site) as store, run_audit(store, [_active(ratio)]) as result:
        [r] = result.rules
        assert (r.applicable, r.failing, r.count) == (1, 1, 1)
        assert [f.details for f in result.findings] == [{"share": 0.25}]
    with Store.open(site) as store, run_audit(store, [_active(ratio, limit=0.5)]) as result:
        assert result.total == 0 and result.rules[0].score == 100.0


def test_empty_store_audits_cleanly(tmp_path):
    path = StoreBuilder(str(tmp_path / "empty.db")).build()
    with audit_store(path, _settings()) as result:
        assert result.total == 0
        assert all(r.applicable == 0 for r in result.rules if r.rule.spec.applies_to != "site")
        assert result.scores.overall is None


def _registry() -> Registry:
    return load_registry([PLUGINS], entry_points=False)


def _active(func, **options) -> ActiveRule:
    """A rule defined in a test, activated without the registry (which would ask for docs)."""
    spec = func.__emaudit_rule__
    return ActiveRule(spec, spec.severity, Options({**spec.defaults(), **options}))


def test_cached_target_pages_equal_joined_pages_even_with_a_tiny_cache(site):
    with Store.open(site) as store:
        joined = [(p.url, p.facts, p.targets, p.indexable) for p in store.iter_pages(with_refs=True)]
        for size in (1, 3, 100_000):
            cached = [(p.url, p.facts, p.targets, p.indexable) for p in store.iter_pages_cached_targets(cache_size=size)]
            assert cached == joined
    assert any(targets for _, _, targets, _ in joined)


def _snapshot(result):
    rules = [(r.id, r.applicable, r.failing, r.count, round(r.importance, 6), r.examples) for r in result.rules]
    return rules, [f.to_dict() for f in result.findings], result.scores


def test_parallel_page_pass_matches_the_serial_one(site):
    rules = _settings().rules
    with Store.open(site) as store, run_audit(store, rules, workers=1) as serial:
        expected = _snapshot(serial)
    streamed: list[Finding] = []
    with Store.open(site) as store, run_audit(store, rules, workers=3, sink=streamed.append) as parallel:
        assert _snapshot(parallel) == expected
        assert sorted(f.fingerprint for f in streamed) == sorted(f["fingerprint"] for f in expected[1])


def test_parallel_worker_failure_is_raised_and_cleaned_up(site, tmp_path, monkeypatch):
    import tempfile

    @rule(id="bad.crash", category="content", severity="error", scope="page", title="Crash", applies_to="url")
    def crash(page, opts):
        raise ValueError("kaput")
        yield

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with Store.open(site) as store, pytest.raises(PluginError, match=r"rule 'bad.crash' .* failed on .*: ValueError: kaput"):
        run_audit(store, [_active(crash)], workers=2)
    assert not list(tmp_path.glob("emaudit-findings-*"))


def test_worker_count():
    from emaudit.audit import PARALLEL_MIN_PAGES, worker_count

    assert worker_count(10) == 1
    assert worker_count(PARALLEL_MIN_PAGES - 1) == 1
    assert worker_count(10, requested=3) == 3
    assert 1 <= worker_count(1_000_000) <= 8


def test_page_memo_is_shared_by_the_rules_of_one_page_only(site):
    calls: list[str] = []

    def derive(page):
        calls.append(page.url)
        return len(page.links)

    @rule(id="memo.one", category="links", severity="notice", scope="page", title="One")
    def one(page, opts):
        if page.memo("link_count", lambda: derive(page)) > 1:
            yield page.finding("many links")

    @rule(id="memo.two", category="links", severity="notice", scope="page", title="Two")
    def two(page, opts):
        if page.memo("link_count", lambda: derive(page)) > 1:
            yield page.finding("many links")

    with Store.open(site) as store, run_audit(store, [_active(one), _active(two)], workers=1) as result:
        assert sorted(calls) == sorted(set(calls)) and len(calls) == 4  # once per HTML page
        assert [r.count for r in result.rules] == [2, 2]
