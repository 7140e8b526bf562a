"""Build crawl stores for audit tests and benchmarks through the Store's own write methods.

:class:`StoreBuilder` writes a handful of hand-made URLs and pages (what a test asserts on);
:func:`build_synthetic` writes a big, deterministic site (the audit benchmark: 50,000 pages
with ~60 links each, duplicate and long titles, broken links, noindex pages, redirects).

Run ``python tests/storekit.py --pages 50000 /tmp/synthetic.emaudit.db`` to write one.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from emaudit.models import PageFacts, Ref
from emaudit.store import DONE, FetchRecord, NewUrl, PageRow, Store
from emaudit.urls import url_id

BASE = "https://site.test"


# ``python -c SIGNAL_IN_FINALIZE SIGINT|SIGTERM ARGS…`` runs ``emaudit ARGS…`` whose
# Store.finalize first sends the process that signal: it lands while a store is being
# finalised (a crawl's end, an audit of an interrupted store), deterministically.
SIGNAL_IN_FINALIZE = """
import os, signal, sys
from emaudit import store
original = store.Store.finalize
SIG = getattr(signal, sys.argv[1])
def finalize(self, *args, **kwargs):
    os.kill(os.getpid(), SIG)
    return original(self, *args, **kwargs)
store.Store.finalize = finalize
from emaudit.cli import run
sys.argv = ["emaudit", *sys.argv[2:]]
run()
"""


@dataclass
class _Url:
    url: str
    status: int | None
    kind: str
    state: str
    depth: int
    content_type: str | None
    in_sitemap: bool
    location: str | None
    error_kind: str | None = None
    page: PageRow | None = None


@dataclass
class StoreBuilder:
    """Collect URLs and pages, then :meth:`build` writes them in one go and finalises the store."""

    path: str
    start_url: str = BASE + "/"
    urls: dict[str, _Url] = field(default_factory=dict)

    def url(self, path: str, *, status: int | None = 200, kind: str = "page", state: str = DONE, depth: int = 1,
            content_type: str | None = "text/html; charset=utf-8", in_sitemap: bool = False,
            location: str | None = None, error_kind: str | None = None) -> str:
        """A URL row (fetched unless ``state`` says otherwise); returns the absolute URL."""
        absolute = path if "://" in path else BASE + path
        self.urls[absolute] = _Url(absolute, status, kind, state, depth, content_type, in_sitemap,
                                   None if location is None else (location if "://" in location else BASE + location),
                                   error_kind)
        return absolute

    def page(self, path: str, *, title: str | None = "A page title of a decent length, fine", facts: PageFacts | None = None,
             links: Iterable[str] = (), images: Iterable[str] = (), indexable: bool = True, depth: int = 1,
             in_sitemap: bool = False, canonical: str | None = None, **fact_fields: Any) -> str:
        """An HTML page answering 200, with facts and ``<a>``/``<img>`` refs to other paths."""
        absolute = self.url(path, depth=depth, in_sitemap=in_sitemap)
        facts = facts or PageFacts(titles=[title] if title is not None else [], **fact_fields)
        refs = [Ref("a", _abs(link), anchor="a link") for link in links]
        refs += [Ref("img", _abs(src), alt="") for src in images]
        facts.refs = refs
        canonical_url = _abs(canonical) if canonical else None
        self.urls[absolute].page = PageRow(
            url_id(absolute), facts, url_id(canonical_url) if canonical_url else None, canonical_url,
            indexable and not facts.noindex, [(url_id(r.url), r) for r in refs if r.url],
        )
        return absolute

    def build(self) -> str:
        store = Store.create(self.path)
        store.start_run(self.start_url, "crawl", {}, "emaudit-test", "0")
        store.batch(self._write, store)
        store.finalize()
        store.set_run_state("finished", elapsed_add=1.0)
        store.close()
        return self.path

    def _write(self, store: Store) -> None:
        known = set(self.urls)
        extra = {r.url for u in self.urls.values() if u.page for r in u.page.facts.refs if r.url and r.url not in known}
        new = [NewUrl(url_id(u.url), u.url, "queued" if u.state == DONE else u.state, u.kind, True, u.depth, None, None)
               for u in self.urls.values()]
        new += [NewUrl(url_id(x), x, "queued", "page", x.startswith(BASE), 2, None, None) for x in sorted(extra)]
        store.add_urls(new)
        store.mark_in_sitemap(url_id(u.url) for u in self.urls.values() if u.in_sitemap)
        for u in self.urls.values():
            if u.state == DONE:
                store.record_fetch(_fetch(u))
            if u.page is not None:
                store.record_page(u.page)


def _abs(path: str) -> str:
    return path if "://" in path else BASE + path


def _fetch(u: _Url) -> FetchRecord:
    return FetchRecord(
        id=url_id(u.url), status=u.status, error_kind=u.error_kind, error=u.error_kind, location=u.location,
        redirect_id=url_id(u.location) if u.location else None, content_type=u.content_type if u.status else None,
        bytes=1000, truncated=False, response_ms=12.0, http_version="HTTP/1.1", attempts=1,
        headers={"content-type": u.content_type} if u.content_type else {}, fetched_at=time.time(),
    )


# ---------------------------------------------------------------- the benchmark site
WORDS = ("audit", "site", "marketing", "guide", "page", "conseil", "produit", "offre", "service", "contact")


def build_synthetic(path: str, pages: int = 50_000, links_per_page: int = 60, seed: int = 7) -> str:
    """A deterministic store of ``pages`` HTML pages plus redirects, 404s and images."""
    rng = random.Random(seed)
    store = Store.create(path)
    start = BASE + "/"
    store.start_run(start, "crawl", {}, "emaudit-bench", "0")
    page_urls = [start] + [f"{BASE}/p/{i:06d}.html" for i in range(1, pages)]
    broken = [f"{BASE}/gone/{i}.html" for i in range(max(1, pages // 100))]
    redirects = [f"{BASE}/old/{i}.html" for i in range(max(1, pages // 100))]
    images = [f"{BASE}/img/{i}.png" for i in range(max(1, pages // 50))]
    chunk = 1000
    for lo in range(0, pages, chunk):
        store.batch(_write_chunk, store, rng, page_urls, lo, min(pages, lo + chunk), broken, redirects, images,
                    links_per_page)
    store.batch(_write_others, store, broken, redirects, images, page_urls)
    store.finalize()
    store.set_run_state("finished", elapsed_add=1.0)
    store.close()
    return path


def _write_chunk(store: Store, rng: random.Random, page_urls: list[str], lo: int, hi: int, broken: list[str],
                 redirects: list[str], images: list[str], links_per_page: int) -> None:
    store.add_urls(NewUrl(url_id(u), u, "queued", "page", True, min(5, i.bit_length() // 3), None, None)
                   for i, u in enumerate(page_urls[lo:hi], lo))
    store.mark_in_sitemap(url_id(u) for u in page_urls[lo:hi:2])
    for i in range(lo, hi):
        url = page_urls[i]
        store.record_fetch(FetchRecord(url_id(url), 200, None, None, None, None, "text/html; charset=utf-8", 40_000,
                                       False, 30.0, "HTTP/1.1", 1, {"content-type": "text/html"}, time.time()))
        store.record_page(_synthetic_page(rng, i, url, page_urls, broken, redirects, images, links_per_page))


def _synthetic_page(rng: random.Random, i: int, url: str, page_urls: list[str], broken: list[str],
                    redirects: list[str], images: list[str], links_per_page: int) -> PageRow:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.choice((3, 6, 12))))
    title = f"Page {i % 997} {words}".title() if i % 30 else "Duplicate title of the synthetic site"
    targets = rng.sample(page_urls, min(links_per_page, len(page_urls)))
    if i % 20 == 0:
        targets.append(rng.choice(broken))
    if i % 25 == 0:
        targets.append(rng.choice(redirects))
    refs = [Ref("a", t, anchor=rng.choice(("read more", "Offre produit", "Guide", ""))) for t in targets]
    refs += [Ref("img", rng.choice(images), alt=None if k == 0 and i % 7 == 0 else "an image") for k in range(8)]
    facts = PageFacts(
        titles=[title], meta_descriptions=[] if i % 11 == 0 else [f"Description {i} " + words * 3],
        headings=[(1, f"Heading {i}"), (2, "Section"), (4 if i % 13 == 0 else 3, "Sub")],
        word_count=rng.randint(50, 1500), content_hash=f"{i % 4000:040x}", simhash=rng.getrandbits(63),
        html_lang="fr" if i % 17 else None, viewport="width=device-width", refs=refs,
        meta_robots={"robots": ["noindex"]} if i % 100 == 0 else {},
    )
    return PageRow(url_id(url), facts, None, None, not facts.noindex, [(url_id(r.url), r) for r in refs if r.url])


def _write_others(store: Store, broken: list[str], redirects: list[str], images: list[str], page_urls: list[str]) -> None:
    others = [(u, "page", 404, None, None) for u in broken]
    others += [(u, "page", 301, page_urls[k % len(page_urls)], None) for k, u in enumerate(redirects)]
    others += [(u, "resource", 200 if k % 10 else 404, None, "image/png") for k, u in enumerate(images)]
    store.add_urls(NewUrl(url_id(u), u, "queued", kind, True, 3, None, None) for u, kind, _, _, _ in others)
    for u, _kind, status, location, ctype in others:
        store.record_fetch(FetchRecord(url_id(u), status, None, None, location, url_id(location) if location else None,
                                       ctype or "text/html", 500, False, 10.0, "HTTP/1.1", 1, {}, time.time()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Write a synthetic crawl store for the audit benchmark.")
    parser.add_argument("path")
    parser.add_argument("--pages", type=int, default=50_000)
    parser.add_argument("--links", type=int, default=60)
    args = parser.parse_args()
    t0 = time.perf_counter()
    build_synthetic(args.path, args.pages, args.links)
    print(f"wrote {args.path}: {args.pages} pages in {time.perf_counter() - t0:.1f} s")
