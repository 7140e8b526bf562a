"""Benchmark ``emaudit.extract.extract`` on a realistic marketing page.

The page mirrors the crawl benchmark's site (shared/PERF-NOTES.md): ~46 KB of HTML with ~95
links, 12 images, 3 JSON-LD blocks, GA4 and GTM snippets, Tailwind-style class lists, a French
body text. The crawl's budget is ~2.5 ms per page on one core.

Run: ``.venv/bin/python bench/bench_extract.py [--iterations 500] [--profile]``

Times are CPU (process) time: the benchmark machine is shared. Three figures: the same page
over and over (the brief's figure), 100 distinct pages of the same site (what a crawl sees),
and the worst case where every URL and word is new to the caches.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable

from lxml import etree

from emaudit import extract as extract_module
from emaudit import urls
from emaudit.extract import extract

PAGE_URL = "https://www.example.com/fr/produits/chaussures-de-randonnee"
WORDS = (
    "randonnée chaussure montagne légère imperméable confort semelle cuir télécharger guide "
    "sentier été hiver marche trail boutique livraison gratuite retour offert qualité matière "
    "respirante accroche pied cheville taille pointure conseil expert équipe nature aventure"
).split()
CLASSES = (
    "flex items-center justify-between px-4 py-2 text-sm font-medium text-gray-700 "
    "hover:text-gray-900 md:px-6 lg:px-8 rounded-lg shadow-sm bg-white border border-gray-200"
).split()


def _cls(rng: random.Random, n: int = 8) -> str:
    return " ".join(rng.sample(CLASSES, n))


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _jsonld() -> list[dict]:
    org = {"@context": "https://schema.org", "@type": "Organization", "name": "Example",
           "url": "https://www.example.com/", "logo": "https://www.example.com/logo.png",
           "sameAs": [f"https://social{i}.example/example" for i in range(6)]}
    product = {"@context": "https://schema.org", "@type": "Product", "name": "Chaussure Trail",
               "description": "Chaussure légère et imperméable " * 8, "sku": "TR-123",
               "offers": {"@type": "Offer", "price": "129.90", "priceCurrency": "EUR",
                          "availability": "https://schema.org/InStock"},
               "aggregateRating": {"@type": "AggregateRating", "ratingValue": "4.6", "reviewCount": "87"}}
    crumbs = {"@context": "https://schema.org", "@graph": [
        {"@type": "BreadcrumbList", "itemListElement": [
            {"@type": "ListItem", "position": i, "name": f"Niveau {i}",
             "item": f"https://www.example.com/fr/niveau-{i}"} for i in range(1, 5)]},
        {"@type": "WebSite", "url": "https://www.example.com/", "potentialAction": {
            "@type": "SearchAction", "target": "https://www.example.com/search?q={q}",
            "query-input": "required name=q"}}]}
    return [org, product, crumbs]


def _head(rng: random.Random) -> list[str]:
    out = ['<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>Chaussures de randonnée légères et imperméables | Example</title>",
           f'<meta name="description" content="{_sentence(rng, 25)}">',
           '<meta name="robots" content="index, follow, max-snippet:-1">',
           f'<link rel="canonical" href="{PAGE_URL}">']
    out += [f'<link rel="alternate" hreflang="{lang}" href="https://www.example.com/{lang}/products/hiking">'
            for lang in ("en", "de", "es", "it", "x-default")]
    out += [f'<meta property="og:{k}" content="{_sentence(rng, 6)}">' for k in ("title", "description", "type", "url", "image", "site_name")]
    out += [f'<meta name="twitter:{k}" content="{_sentence(rng, 4)}">' for k in ("card", "title", "description")]
    out += [f'<link rel="stylesheet" href="/assets/css/{n}.css">' for n in ("app", "vendor", "print")]
    out += ['<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABC123XYZ9"></script>',
            "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
            "gtag('js',new Date());gtag('config','G-ABC123XYZ9');</script>",
            "<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),"
            "event:'gtm.js'});var f=d.getElementsByTagName(s)[0],j=d.createElement(s),dl=l!='dataLayer'?"
            "'&l='+l:'';j.async=true;j.src='https://www.googletagmanager.com/gtm.js?id='+i+dl;"
            "f.parentNode.insertBefore(j,f);})(window,document,'script','dataLayer','GTM-AB12CD3');</script>",
            '<script defer src="/assets/js/app.js"></script>',
            f"<script>window.__CONFIG__ = {json.dumps({'routes': [f'/fr/{w}/{i}' for i, w in enumerate(WORDS)]})};</script>"]
    out += [f'<script type="application/ld+json">{json.dumps(block, ensure_ascii=False)}</script>' for block in _jsonld()]
    out.append("</head>")
    return out


def _nav(rng: random.Random, n: int, prefix: str) -> str:
    items = "".join(f'<li class="{_cls(rng, 5)}"><a class="{_cls(rng)}" href="/{prefix}/{i}/{rng.choice(WORDS)}">'
                    f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)}</a></li>" for i in range(n))
    return f'<ul class="{_cls(rng)}">{items}</ul>'


ICON = ('<svg class="h-5 w-5" viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><title>Panier</title>'
        '<path fill-rule="evenodd" d="M10 18a8 8 0 100-16 8 8 0 000 16zm3.707-9.293a1 1 0 00-1.414-1.414L9 '
        '10.586 7.707 9.293a1 1 0 00-1.414 1.414l2 2a1 1 0 001.414 0l4-4z" clip-rule="evenodd"/></svg>')


def _card(rng: random.Random, i: int) -> str:
    return (f'<div class="{_cls(rng, 10)}" data-product-id="{1000 + i}" data-position="{i}">'
            f'<a href="/fr/produit/{i}-{rng.choice(WORDS)}" class="{_cls(rng)}" title="Voir le produit {i}">'
            f'<img src="/media/produit-{i}.jpg" alt="{_sentence(rng, 4)}" width="400" height="300" loading="lazy"'
            f' class="{_cls(rng, 6)}"></a><h3 class="{_cls(rng, 5)}">{_sentence(rng, 5)}</h3>'
            f'<p class="{_cls(rng, 4)}">{_sentence(rng, 30)}</p><div class="{_cls(rng, 6)}">'
            f'<span class="{_cls(rng, 4)}">{rng.randint(20, 300)},90 €</span>'
            f'<span class="{_cls(rng, 4)}">{_sentence(rng, 3)}</span></div>'
            f'<a href="/fr/panier/ajouter?id={i}" rel="nofollow" class="{_cls(rng)}">{ICON}Ajouter au panier</a></div>')


def _body(rng: random.Random) -> list[str]:
    out = [f'<body class="{_cls(rng)}"><header class="{_cls(rng)}"><a href="/fr/"><img src="/logo.svg" alt="Example"></a>',
           f'<nav class="{_cls(rng)}" aria-label="Menu principal">{_nav(rng, 30, "fr/rayon")}</nav></header>',
           f'<main class="{_cls(rng)}"><nav aria-label="Fil d\'Ariane">{_nav(rng, 4, "fr/niveau")}</nav>',
           f"<h1>Chaussures de randonnée</h1><p>{' '.join(_sentence(rng, 20) for _ in range(6))}</p>"]
    for section in range(3):
        out.append(f'<section class="{_cls(rng)}"><h2>{_sentence(rng, 5)}</h2><div class="{_cls(rng)}">')
        out += [_card(rng, section * 4 + i) for i in range(4)]
        out.append(f"</div><p>{' '.join(_sentence(rng, 18) for _ in range(3))} "
                   f'<a href="/fr/guide/{section}">{_sentence(rng, 3)}</a></p></section>')
    faq = "".join(f"<details><summary>{_sentence(rng, 8)}</summary><p>{_sentence(rng, 40)}</p></details>"
                  for _ in range(6))
    out.append(f'<section class="{_cls(rng)}"><h2>Questions fréquentes</h2>{faq}'
               f'<p><a href="/fr/faq">{_sentence(rng, 4)}</a></p></section>')
    out.append(f'</main><footer class="{_cls(rng)}">')
    out += [f'<div class="{_cls(rng)}"><h4>{rng.choice(WORDS).capitalize()}</h4>{_nav(rng, 6, f"fr/aide/{c}")}</div>'
            for c in range(5)]
    out.append('<p>© Example — <a href="https://twitter.com/example">Twitter</a> '
               '<a href="mailto:contact@example.com">Contact</a></p></footer></body></html>')
    return out


def make_page(seed: int = 7) -> bytes:
    """A deterministic ~46 KB marketing page (UTF-8)."""
    rng = random.Random(seed)
    return "\n".join(_head(rng) + _body(rng)).encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary instead")
    args = parser.parse_args()
    page = make_page()
    headers = {"Content-Type": "text/html; charset=utf-8"}
    facts = extract(page, PAGE_URL, content_type=headers["Content-Type"], headers=headers)
    print(f"page: {len(page) / 1024:.1f} KB, {sum(r.kind == 'a' for r in facts.refs)} links, "
          f"{sum(r.kind == 'img' for r in facts.refs)} images, {len(facts.jsonld)} JSON-LD blocks, "
          f"{facts.word_count} words, tracking: {facts.tracking}")
    if args.profile:
        _profile(page, headers, args.iterations)
        return
    same = _ms_per_call(lambda: extract(page, PAGE_URL, content_type=headers["Content-Type"], headers=headers),
                        args.iterations)
    html_parser = etree.HTMLParser(recover=True, no_network=True, remove_comments=True, encoding="utf-8")
    parse_ms = _ms_per_call(lambda: etree.fromstring(page, html_parser), args.iterations)
    print(f"extract(), same page:       {same:.3f} ms/page CPU (median of 5 runs of {args.iterations // 5}); "
          f"lxml parse alone {parse_ms:.3f} ms (extract = {same / parse_ms:.1f}x parse)")
    batches = iter([[make_page(seed) for seed in range(start, start + 100)] for start in range(1, 501, 100)])
    distinct = _ms_per_call(lambda: [extract(p, PAGE_URL) for p in next(batches)], 5) / 100
    print(f"extract(), 500 other pages: {distinct:.3f} ms/page CPU (each page new: its words and product "
          f"links are new, menus and vocabulary repeat, as in a crawl)")
    pages = [make_page(seed) for seed in range(100)]
    cold = _ms_per_call(lambda: [(_clear_caches(), extract(p, PAGE_URL)) for p in pages], 5) / len(pages)
    print(f"extract(), cold caches:     {cold:.3f} ms/page CPU (worst case: every URL and word is new)")


def _clear_caches() -> None:
    """Empty the word-hash and URL-resolution caches (every lru_cache of both modules)."""
    for module in (extract_module, urls):
        for value in vars(module).values():
            if hasattr(value, "cache_clear"):
                value.cache_clear()


def _profile(page: bytes, headers: dict[str, str], iterations: int) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(lambda: [extract(page, PAGE_URL, headers=headers) for _ in range(iterations)])
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


def _ms_per_call(call: Callable[[], object], iterations: int) -> float:
    """Median CPU milliseconds per call over 5 runs: process time, not wall time, because the
    benchmark machine is shared and wall time swings with the neighbours' load."""
    runs = []
    for _ in range(5):
        start = time.process_time()
        for _ in range(max(1, iterations // 5)):
            call()
        runs.append((time.process_time() - start) * 1000 / max(1, iterations // 5))
    return statistics.median(runs)


if __name__ == "__main__":
    main()
