"""Audit the fixture site end to end (crawl over 127.0.0.1, then every built-in rule).

The exact set of (rule, URL) pairs is asserted: no more, no fewer.
"""

from __future__ import annotations

import json

import pytest
from fixture_site import build_site
from sitekit import SiteServer

from emaudit.cli import main

EXPECTED = {
    ("canonical.missing", p) for p in ("/broken-bytes", "/chain3", "/fr/", "/latin1", "/orphan")
} | {
    ("content.lang_missing", "/broken-bytes"),
    ("content.lang_missing", "/latin1"),
    ("content.viewport_missing", "/broken-bytes"),
    ("content.viewport_missing", "/latin1"),
    ("h1.missing", "/broken-bytes"),
    ("index.noindex", "/noindex-header"),
    ("index.noindex", "/noindex-meta"),
    ("index.orphan", "/orphan"),
    ("links.broken", "/"),
    ("links.to_redirect", "/"),
    ("links.uncrawlable", "/"),
    ("redirect.chain", "/chain1"),
    ("redirect.loop", "/loop-a"),
    ("redirect.temporary", "/chain1"),
    ("sitemap.non_indexable", "/private/secret"),
    ("status.blocked_by_robots", "/private/page"),
    ("status.blocked_by_robots", "/private/secret"),
    ("status.client_error", "/missing"),
    ("status.server_error", "/error"),
    ("title.same_as_h1", "/about"),
} | {
    ("content.thin", p) for p in ("/", "/about", "/broken-bytes", "/chain3", "/fr/", "/latin1", "/orphan")
} | {
    ("links.dead_end", p) for p in ("/broken-bytes", "/chain3", "/latin1", "/noindex-header", "/noindex-meta", "/orphan")
} | {
    ("meta_description.missing", p) for p in ("/", "/about", "/broken-bytes", "/chain3", "/fr/", "/latin1", "/orphan")
} | {
    ("redirect.internal", p) for p in ("/chain1", "/chain2", "/loop-a", "/loop-b", "/old")
} | {
    ("sitemap.not_listed", p) for p in ("/broken-bytes", "/chain3", "/fr/", "/latin1")
} | {
    ("title.too_short", p) for p in ("/", "/about", "/broken-bytes", "/chain3", "/fr/", "/latin1", "/orphan")
}


@pytest.fixture(scope="module")
def audit_doc(tmp_path_factory):
    store = str(tmp_path_factory.mktemp("audit") / "site.emaudit.db")
    with SiteServer() as site:
        build_site(site)
        base = site.base
        yield base, store, site


def _run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_exact_rule_url_pairs(audit_doc, capsys):
    base, store, site = audit_doc
    code, out, err = _run(["audit", site.url("/"), "--store", store, "--format", "json", "--quiet"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    pairs = {(f["rule"], f["url"].replace(base, "", 1)) for f in doc["findings"]}
    assert pairs == EXPECTED
    broken = sorted(f["details"]["target"].replace(base, "") for f in doc["findings"] if f["rule"] == "links.broken")
    assert broken == ["/error", "/missing"]
    assert doc["crawl"]["store"] == store


def test_reaudit_store_without_refetching(audit_doc, capsys):
    base, store, site = audit_doc
    before = len(site.log)
    code, out, _ = _run(["audit", store, "--format", "jsonl", "--select", "status,redirect"], capsys)
    assert code == 0
    assert len(site.log) == before  # nothing fetched
    rules = {json.loads(line)["rule"].split(".")[0] for line in out.splitlines()}
    assert rules == {"status", "redirect"}
    code, _, _ = _run(["audit", store, "--format", "json", "--fail-on", "error", "-o", store + ".json"], capsys)
    assert code == 1  # status.server_error, links.broken, redirect.loop … are errors


def test_client_error_lists_its_inlink_sources(audit_doc, capsys):
    base, store, _ = audit_doc
    code, out, _ = _run(["audit", store, "--format", "json", "--select", "status.client_error"], capsys)
    finding = json.loads(out)["findings"][0]
    assert finding["url"] == base + "/missing"
    assert finding["details"]["inlink_sources"] == [base + "/"]
    assert finding["details"]["inlinks"] == 1
