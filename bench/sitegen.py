"""Deterministic generator of a realistic marketing site for the crawl benchmark.

The site looks like a mid-size French/English marketing site (see shared/PERF-NOTES.md for the
anchors it reproduces): pages of 30–60 KB (mean ~46 KB), ~95 links per page (header nav, body
cards, in-text links, footer, a few external links to example.org), ~12 images with alt text,
3 JSON-LD blocks, GTM/GA4 snippets, inline critical CSS and an SVG sprite.

Layout (BFS depth 2 from the home page)::

    /                     home: links to every category page
    /c/0000.html …        category pages: ~100 pages each
    /p/00000.html …       content pages: 30–80 links to other pages each
    /a-propos.html …      a handful of static pages linked from the footer
    /robots.txt           one Disallow + a Sitemap: line
    /sitemap.xml          a sitemap index with 2 children, the second gzipped

Defects a crawler/auditor should find: duplicate titles (~3 %), thin pages (~5 %), noindex
pages (~1 %), links to 404 URLs (~5 % of pages), one Disallow'd section, images without alt.

Every internal URL in the HTML is host-relative, so one generated site can be served on any
port; robots.txt and the sitemaps need absolute URLs and are written by :func:`write_site_meta`
once the server's base URL is known (cheap: one line per page).

Speed and memory: pages are built from plain string templates and a pre-computed pool of
sentences, and written one by one (nothing held but the current page): ~0.2 ms per page.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gzip
import json
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

GENERATOR_VERSION = 1
PAGES_PER_CATEGORY = 100
NAV_CATEGORIES = 18  # + home + contact ≈ 20 nav links
STATIC_PAGES = (
    ("a-propos.html", "À propos"),
    ("contact.html", "Contact"),
    ("mentions-legales.html", "Mentions légales"),
    ("confidentialite.html", "Politique de confidentialité"),
    ("cgv.html", "Conditions générales de vente"),
    ("plan-du-site.html", "Plan du site"),
)
DISALLOWED_PREFIX = "/prive/"
CHUNK = 2000  # pages per generation task

# ---------------------------------------------------------------------------------------------
# Vocabulary: small hand-written lists, combined into a fixed pool of sentences per language.

_FR_WORDS = (
    "stratégie marketing digital référencement naturel contenu audience conversion client "
    "entreprise solution performance croissance campagne visibilité marque offre service "
    "accompagnement expertise équipe projet résultat analyse données outil plateforme "
    "optimisation site web page mobile recherche utilisateur expérience parcours achat "
    "prospect fidélisation valeur qualité innovation réseau social publicité budget retour "
    "investissement mesure objectif tableau bord rapport mensuel agence conseil formation "
    "atelier webinaire guide livre blanc étude cas témoignage partenaire tarif devis gratuit "
    "simple rapide efficace durable local national européen français nouveau meilleur complet "
    "personnalisé sur mesure professionnel moderne intuitif sécurisé fiable transparent"
).split()
_EN_WORDS = (
    "strategy marketing digital search engine optimisation content audience conversion "
    "customer business solution performance growth campaign visibility brand offer service "
    "support expertise team project result analysis data tool platform website page mobile "
    "user experience journey purchase lead retention value quality innovation social network "
    "advertising budget return investment measure goal dashboard monthly report agency advice "
    "training workshop webinar guide white paper case study testimonial partner pricing quote "
    "free simple fast effective sustainable local national european new best complete "
    "personalised tailored professional modern intuitive secure reliable transparent"
).split()
_FR_GLUE = ("de", "la", "le", "des", "et", "pour", "avec", "votre", "notre", "un", "une", "en", "sur")
_EN_GLUE = ("the", "of", "and", "for", "with", "your", "our", "a", "an", "to", "in", "on", "that")


@dataclass(frozen=True)
class SiteSpec:
    """What was generated; written as ``manifest.json`` so a ``--site-dir`` can be reused."""

    pages: int
    seed: int
    version: int = GENERATOR_VERSION

    @property
    def categories(self) -> int:
        return max(1, -(-self.pages // PAGES_PER_CATEGORY))


def _sentence(rng: random.Random, words: tuple[str, ...] | list[str], glue: tuple[str, ...]) -> str:
    n = rng.randint(8, 22)
    parts = [rng.choice(words) if rng.random() < 0.7 else rng.choice(glue) for _ in range(n)]
    return parts[0].capitalize() + " " + " ".join(parts[1:]) + "."


def _sentence_pool(seed: int, lang: str, size: int = 600) -> list[str]:
    rng = random.Random(f"{seed}:{lang}:sentences")
    words, glue = (_FR_WORDS, _FR_GLUE) if lang == "fr" else (_EN_WORDS, _EN_GLUE)
    return [_sentence(rng, words, glue) for _ in range(size)]


def _title_words(rng: random.Random, lang: str, n: int) -> str:
    words = _FR_WORDS if lang == "fr" else _EN_WORDS
    return " ".join(rng.choice(words) for _ in range(n)).capitalize()


def _phrase_pools(seed: int) -> dict[tuple[str, int], list[str]]:
    """Pre-built short phrases (anchors, headings, alt text) per language and word count:
    choosing one per use is ~10x cheaper than drawing every word, which dominated generation."""
    rng = random.Random(f"{seed}:phrases")
    return {(lang, n): [_title_words(rng, lang, n) for _ in range(256)] for lang in ("fr", "en") for n in range(2, 10)}


def _pick(rng: random.Random, items: list):
    return items[int(rng.random() * len(items))]


# ---------------------------------------------------------------------------------------------
# Fixed blocks: built once, identical on every page (as a real site's template chrome is).

_CRITICAL_CSS = "".join(
    f".c{i}{{display:flex;margin:{i % 7}px {i % 5}px;padding:{i % 9}px;color:#{(i * 2654435761) % 0xFFFFFF:06x};"
    f"font:{12 + i % 6}px/1.{i % 9} system-ui,sans-serif;border-radius:{i % 4}px}}\n"
    for i in range(50)
)
_SVG_SPRITE = (
    '<svg xmlns="http://www.w3.org/2000/svg" style="display:none">'
    + "".join(
        f'<symbol id="icon-{i}" viewBox="0 0 24 24"><path d="M{i % 12} {i % 7}l{i % 5} {i % 9}'
        f'h{i % 11}v{i % 6}c0 1.1-.9 2-2 2H{i % 8}a2 2 0 0 1-2-2V{i % 10}z"/></symbol>'
        for i in range(36)
    )
    + "</svg>"
)
_GTM_HEAD = (
    "<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),"
    "event:'gtm.js'});var f=d.getElementsByTagName(s)[0],j=d.createElement(s),dl=l!='dataLayer'?"
    "'&l='+l:'';j.async=true;j.src='https://www.googletagmanager.com/gtm.js?id='+i+dl;"
    "f.parentNode.insertBefore(j,f);})(window,document,'script','dataLayer','GTM-BENCH42');</script>\n"
    '<script async src="https://www.googletagmanager.com/gtag/js?id=G-BENCH4242"></script>\n'
    "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
    "gtag('js',new Date());gtag('config','G-BENCH4242',{anonymize_ip:true});</script>\n"
)
_GTM_BODY = (
    '<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-BENCH42" height="0" '
    'width="0" style="display:none;visibility:hidden"></iframe></noscript>\n'
)
_CONSENT_JS = (
    "<script>/* cookie consent */(function(){var k='consent-v2',s=localStorage.getItem(k);"
    + "".join(f"function f{i}(a,b){{return a&&b?a+'{i}'+b:(a||b||'');}}" for i in range(40))
    + "if(!s){document.documentElement.classList.add('needs-consent');}})();</script>\n"
)
_ORG_JSONLD = json.dumps(
    {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": "Agence Exemple",
        "url": "/",
        "logo": "/img/logo.png",
        "sameAs": ["https://example.org/agence", "https://example.org/agence-linkedin"],
        "contactPoint": {"@type": "ContactPoint", "telephone": "+33-1-23-45-67-89", "contactType": "customer service"},
    },
    ensure_ascii=False,
)


def _nav(categories: list[tuple[str, str]]) -> str:
    items = [f'<li class="nav__item"><a class="nav__link" href="/">Accueil</a></li>']
    items += [
        f'<li class="nav__item"><a class="nav__link" href="{href}">{name}</a></li>' for href, name in categories
    ]
    items.append('<li class="nav__item nav__item--cta"><a class="nav__link" href="/contact.html">Contact</a></li>')
    return (
        '<header class="site-header c1"><a class="logo" href="/"><svg class="icon"><use href="#icon-0"/></svg>'
        'Agence Exemple</a><nav class="nav" aria-label="Navigation principale"><ul class="nav__list">'
        + "".join(items)
        + "</ul></nav></header>\n"
    )


def _footer() -> str:
    links = "".join(f'<li><a class="footer__link" href="/{href}">{name}</a></li>' for href, name in STATIC_PAGES)
    return (
        '<footer class="site-footer c2"><div class="footer__cols"><ul class="footer__list">'
        + links
        + '<li><a class="footer__link" href="/">Accueil</a></li>'
        + '<li><a class="footer__link" href="/prive/espace-client.html">Espace client</a></li>'
        + '</ul><form class="newsletter" action="/newsletter" method="post"><label for="nl">Newsletter</label>'
        '<input id="nl" name="email" type="email" placeholder="vous@exemple.fr"><button type="submit">'
        "S'inscrire</button></form>"
        '<p class="social"><a href="https://example.org/agence-linkedin" rel="noopener">LinkedIn</a> '
        '<a href="https://example.org/agence" rel="noopener">Blog</a></p></div>'
        "<p class=\"legal\">© 2024 Agence Exemple — tous droits réservés.</p></footer>\n"
    )


# ---------------------------------------------------------------------------------------------
# One page


@dataclass
class _Chrome:
    """Per-site pre-computed pieces shared by every page."""

    spec: SiteSpec
    nav: str
    footer: str
    pools: dict[str, list[str]]
    titles: list[str]  # a title per "title slot"; duplicates come from shared slots
    phrases: dict[tuple[str, int], list[str]]

    def phrase(self, rng: random.Random, lang: str, lo: int, hi: int | None = None) -> str:
        n = lo if hi is None else lo + int(rng.random() * (hi - lo + 1))
        return _pick(rng, self.phrases[lang, n])

    def target(self, rng: random.Random) -> int:
        return int(rng.random() * self.spec.pages)

    @classmethod
    def build(cls, spec: SiteSpec) -> _Chrome:
        cats = [(f"/c/{c:04d}.html", f"Catégorie {c}") for c in range(min(spec.categories, NAV_CATEGORIES))]
        rng = random.Random(f"{spec.seed}:titles")
        titles = [_title_words(rng, "fr", rng.randint(3, 9)) for _ in range(512)]
        pools = {"fr": _sentence_pool(spec.seed, "fr"), "en": _sentence_pool(spec.seed, "en")}
        return cls(spec, _nav(cats), _footer(), pools, titles, _phrase_pools(spec.seed))


def page_lang(i: int) -> str:
    return "en" if i % 4 == 3 else "fr"


def _head(ch: _Chrome, rng: random.Random, i: int, lang: str, title: str, description: str) -> str:
    path = f"/p/{i:05d}.html"
    parts = [
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f"<title>{title}</title>\n",
        f'<meta name="description" content="{description}">\n',
        f'<link rel="canonical" href="{path}">\n',
    ]
    if i % 50 == 7:
        parts.append('<meta name="robots" content="noindex, follow">\n')
    if i % 10 in (0, 1) and i + 1 < ch.spec.pages:  # fr/en pairs (i, i+1) with x-default
        pair = i - (i % 10)
        parts.append(
            f'<link rel="alternate" hreflang="fr" href="/p/{pair:05d}.html">\n'
            f'<link rel="alternate" hreflang="en" href="/p/{pair + 1:05d}.html">\n'
            f'<link rel="alternate" hreflang="x-default" href="/p/{pair:05d}.html">\n'
        )
    parts += [
        f'<meta property="og:title" content="{title}">\n<meta property="og:type" content="article">\n',
        f'<meta property="og:url" content="{path}">\n<meta property="og:image" content="/img/p{i:05d}-0.jpg">\n',
        f'<meta property="og:description" content="{description}">\n',
        '<link rel="preconnect" href="https://www.googletagmanager.com">\n',
        '<link rel="stylesheet" href="/assets/site.css?v=42">\n<link rel="icon" href="/favicon.ico">\n',
        f"<style>{_CRITICAL_CSS}</style>\n",
        _GTM_HEAD,
        _jsonld(rng, i, lang, title, description),
        "</head>\n",
    ]
    return "".join(parts)


def _jsonld(rng: random.Random, i: int, lang: str, title: str, description: str) -> str:
    cat = i // PAGES_PER_CATEGORY
    crumbs = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "Accueil", "item": "/"},
            {"@type": "ListItem", "position": 2, "name": f"Catégorie {cat}", "item": f"/c/{cat:04d}.html"},
            {"@type": "ListItem", "position": 3, "name": title, "item": f"/p/{i:05d}.html"},
        ],
    }
    article = {
        "@context": "https://schema.org",
        "@type": "Article" if i % 3 else "Product",
        "headline": title,
        "description": description,
        "inLanguage": lang,
        "image": [f"/img/p{i:05d}-{k}.jpg" for k in range(3)],
        "datePublished": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "author": {"@type": "Person", "name": f"Auteur {rng.randint(1, 40)}"},
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": 3 + rng.randint(0, 20) / 10, "reviewCount": rng.randint(1, 900)},
    }
    blocks = (_ORG_JSONLD, json.dumps(crumbs, ensure_ascii=False), json.dumps(article, ensure_ascii=False))
    return "".join(f'<script type="application/ld+json">{b}</script>\n' for b in blocks)


def _paragraphs(ch: _Chrome, rng: random.Random, i: int, lang: str, words: int) -> str:
    """Body text: ~``words`` words in <p>, an <h2> every third paragraph, a few in-text links."""
    pool = ch.pools[lang]
    out: list[str] = []
    count = n = 0
    while count < words:
        sentences = rng.choices(pool, k=rng.randint(3, 7))
        text = " ".join(sentences)
        if rng.random() < 0.35:
            text += f' <a href="/p/{ch.target(rng):05d}.html">{ch.phrase(rng, lang, 3)}</a>.'
        if n % 3 == 0:
            out.append(f'<h2 id="s{n}">{ch.phrase(rng, lang, 3, 7)}</h2>\n')
        out.append(f"<p>{text}</p>\n")
        count += text.count(" ") + 1
        n += 1
    return "".join(out)


def _images(ch: _Chrome, rng: random.Random, i: int, lang: str, count: int) -> str:
    out = []
    for k in range(count):
        src = f"/img/p{i:05d}-{k}"
        missing_alt = i % 17 == 0 and k == count - 1
        alt = "" if missing_alt else f' alt="{ch.phrase(rng, lang, 2, 6)}"'
        out.append(
            f'<figure class="media c{k % 50}"><img src="{src}.jpg"{alt} width="800" height="600" '
            f'loading="lazy" decoding="async" srcset="{src}-400.jpg 400w, {src}.jpg 800w" '
            f'sizes="(max-width: 600px) 400px, 800px"><figcaption>{ch.phrase(rng, lang, 4)}</figcaption></figure>\n'
        )
    return "".join(out)


def _cards(ch: _Chrome, rng: random.Random, i: int, lang: str, count: int, thin: bool = False) -> str:
    """Related-content cards: the bulk of a page's internal links (mixed href styles).

    Thin pages get bare two-word cards so that their visible text stays ~150 words.
    """
    out = ['<section class="related c3"><h2>' + ("À lire aussi" if lang == "fr" else "Read next") + "</h2>\n"]
    pool = ch.pools[lang]
    for k in range(count):
        target = ch.target(rng)
        style = k % 10
        if style == 0:
            href = f"{target:05d}.html"  # relative to /p/
        elif style == 1:
            href = f"/p/{target:05d}.html#avis"  # fragment: same page as without it
        elif style == 2:
            href = f"../p/{target:05d}.html"
        else:
            href = f"/p/{target:05d}.html"
        if thin:
            out.append(f'<article class="card"><a href="{href}">{ch.phrase(rng, lang, 2)}</a></article>\n')
            continue
        out.append(
            f'<article class="card c{k % 50}"><a class="card__link" href="{href}">'
            f'<h3 class="card__title">{ch.phrase(rng, lang, 3, 6)}</h3></a>'
            f'<p class="card__excerpt">{_pick(rng, pool)[:90]}</p>'
            f'<span class="card__meta"><svg class="icon"><use href="#icon-{k % 36}"/></svg>{2 + k % 14} min</span></article>\n'
        )
    out.append("</section>\n")
    return "".join(out)


def render_page(ch: _Chrome, i: int) -> str:
    rng = random.Random(ch.spec.seed * 1_000_003 + i)
    lang = page_lang(i)
    dup = i % 33 == 5  # ~3 % share a title with the previous page of the same pattern
    title_slot = (i - 33) % len(ch.titles) if dup and i >= 33 else (i % len(ch.titles))
    title = ch.titles[title_slot] + ("" if dup else f" — {i}") + " | Agence Exemple"
    description = rng.choice(ch.pools[lang])[:155]
    thin = i % 20 == 11
    words = rng.randint(40, 100) if thin else int(rng.triangular(300, 1900, 550))
    cat = i // PAGES_PER_CATEGORY
    body = [
        "<body>\n",
        _GTM_BODY,
        _SVG_SPRITE,
        ch.nav,
        f'<nav class="breadcrumb c4"><a href="/">Accueil</a> › <a href="/c/{cat:04d}.html">Catégorie {cat}</a> › '
        f"<span>{title}</span></nav>\n",
        f'<main class="content c5"><article><h1>{title.split(" | ")[0]}</h1>\n',
        f'<p class="lead">{description}</p>\n',
        _paragraphs(ch, rng, i, lang, words),
        _images(ch, rng, i, lang, rng.randint(10, 14)),
    ]
    if i % 20 == 13:  # ~5 % of pages link to a page that no longer exists
        body.append(f'<p>Voir aussi <a href="/p/{i:05d}-ancienne-version.html">l\'ancienne version</a>.</p>\n')
    body += [
        "</article>\n",
        _cards(ch, rng, i, lang, rng.randint(30, 80), thin),
        '<aside class="external c6"><a href="https://example.org/etude-' + str(i % 97) + '" rel="noopener">Étude</a> '
        '<a href="https://example.org/" rel="nofollow noopener">Source</a></aside>\n',
        "</main>\n",
        ch.footer,
        _CONSENT_JS,
        "</body>\n</html>\n",
    ]
    return _head(ch, rng, i, lang, title, description) + "".join(body)


def _simple_page(ch: _Chrome, title: str, path: str, links: Iterator[tuple[str, str]], extra: str = "") -> str:
    items = "".join(f'<li><a href="{href}">{text}</a></li>\n' for href, text in links)
    return (
        f'<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n<title>{title} | Agence Exemple</title>\n'
        f'<meta name="description" content="{title} — Agence Exemple, agence de marketing digital.">\n'
        f'<link rel="canonical" href="{path}">\n<style>{_CRITICAL_CSS}</style>\n{_GTM_HEAD}'
        f'<script type="application/ld+json">{_ORG_JSONLD}</script>\n</head>\n<body>\n{_GTM_BODY}{ch.nav}'
        f'<main class="content"><h1>{title}</h1>\n{extra}<ul class="listing">\n{items}</ul></main>\n{ch.footer}</body>\n</html>\n'
    )


# ---------------------------------------------------------------------------------------------
# Writing the site


def _write(path: Path, text: str) -> int:
    data = text.encode("utf-8")
    with open(path, "wb") as fh:
        fh.write(data)
    return len(data)


def page_paths(spec: SiteSpec) -> Iterator[str]:
    """Every URL path that answers 200 with HTML (what the fetch-only client requests)."""
    yield "/"
    for c in range(spec.categories):
        yield f"/c/{c:04d}.html"
    for href, _ in STATIC_PAGES:
        yield f"/{href}"
    for i in range(spec.pages):
        yield f"/p/{i:05d}.html"


def generate(site_dir: Path, spec: SiteSpec, log=print, jobs: int | None = None) -> dict:
    """Write the site into ``site_dir``; reuse it when its manifest matches ``spec``."""
    manifest = site_dir / "manifest.json"
    if manifest.exists():
        try:
            old = json.loads(manifest.read_text())
            if old.get("spec") == asdict(spec):
                log(f"site: reusing {site_dir} ({spec.pages} pages)")
                return old
        except (OSError, ValueError):
            pass
    jobs = jobs or min(4, os.cpu_count() or 1)
    started = time.perf_counter()
    for sub in ("p", "c", "prive"):
        (site_dir / sub).mkdir(parents=True, exist_ok=True)
    sizes = _write_pages(site_dir, spec, jobs)
    _write_hubs(site_dir, _Chrome.build(spec), spec)
    with open(site_dir / "urls.txt", "w") as fh:
        fh.writelines(p + "\n" for p in page_paths(spec))
    elapsed = time.perf_counter() - started
    info = {
        "spec": asdict(spec),
        "categories": spec.categories,
        "html_urls": spec.pages + spec.categories + 1 + len(STATIC_PAGES),
        "page_bytes": sizes,
        "generate_seconds": round(elapsed, 2),
    }
    manifest.write_text(json.dumps(info, indent=2))
    log(
        f"site: generated {spec.pages} pages in {elapsed:.1f} s into {site_dir} "
        f"(page size min/mean/max {sizes['min'] / 1024:.0f}/{sizes['mean'] / 1024:.1f}/{sizes['max'] / 1024:.0f} KB)"
    )
    return info


def _write_range(site_dir: Path, spec: SiteSpec, first: int, last: int) -> tuple[int, int, int]:
    """Write pages ``first``..``last - 1``; returns (total bytes, smallest, largest)."""
    ch = _Chrome.build(spec)  # cheap, and identical in every worker
    total, lo, hi = 0, sys.maxsize, 0
    pdir = site_dir / "p"
    for i in range(first, last):
        size = _write(pdir / f"{i:05d}.html", render_page(ch, i))
        total += size
        lo, hi = min(lo, size), max(hi, size)
    return total, lo, hi


def _write_pages(site_dir: Path, spec: SiteSpec, jobs: int) -> dict:
    """Pages are seeded one by one, so chunks can be written by several processes (rendering and
    disk writes then overlap: ~2x faster on 2 cores) with byte-identical output."""
    chunks = [(a, min(a + CHUNK, spec.pages)) for a in range(0, spec.pages, CHUNK)]
    if jobs <= 1 or len(chunks) == 1:
        parts = [_write_range(site_dir, spec, a, b) for a, b in chunks]
    else:
        ctx = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
            futures = [pool.submit(_write_range, site_dir, spec, a, b) for a, b in chunks]
            parts = [f.result() for f in futures]
    total = sum(p[0] for p in parts)
    lo = min((p[1] for p in parts), default=0)
    hi = max((p[2] for p in parts), default=0)
    return {"min": lo, "max": hi, "mean": round(total / max(1, spec.pages)), "total": total}


def _write_hubs(site_dir: Path, ch: _Chrome, spec: SiteSpec) -> None:
    cats = ((f"/c/{c:04d}.html", f"Catégorie {c}") for c in range(spec.categories))
    _write(site_dir / "index.html", _simple_page(ch, "Accueil", "/", cats, "<p>Agence de marketing digital.</p>\n"))
    for c in range(spec.categories):
        first, last = c * PAGES_PER_CATEGORY, min(spec.pages, (c + 1) * PAGES_PER_CATEGORY)
        links = ((f"/p/{i:05d}.html", ch.titles[i % len(ch.titles)]) for i in range(first, last))
        _write(site_dir / "c" / f"{c:04d}.html", _simple_page(ch, f"Catégorie {c}", f"/c/{c:04d}.html", links))
    for href, name in STATIC_PAGES:
        _write(site_dir / href, _simple_page(ch, name, f"/{href}", iter(()), "<p>Page institutionnelle.</p>\n"))
    _write(site_dir / "prive" / "espace-client.html", _simple_page(ch, "Espace client", "/prive/espace-client.html", iter(())))


def write_site_meta(site_dir: Path, spec: SiteSpec, base_url: str) -> None:
    """robots.txt and sitemaps need absolute URLs: written once the server's address is known."""
    base = base_url.rstrip("/")
    (site_dir / "robots.txt").write_text(
        f"User-agent: *\nDisallow: {DISALLOWED_PREFIX}\n\nSitemap: {base}/sitemap.xml\n"
    )
    paths = list(page_paths(spec))
    half = len(paths) // 2
    (site_dir / "sitemap-pages-1.xml").write_bytes(_urlset(base, paths[:half]))
    with gzip.open(site_dir / "sitemap-pages-2.xml.gz", "wb", compresslevel=5) as fh:
        fh.write(_urlset(base, paths[half:]))
    index = "".join(
        f"<sitemap><loc>{base}/{name}</loc><lastmod>2024-06-01</lastmod></sitemap>\n"
        for name in ("sitemap-pages-1.xml", "sitemap-pages-2.xml.gz")
    )
    (site_dir / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{index}</sitemapindex>\n'
    )


def _urlset(base: str, paths: list[str]) -> bytes:
    body = "".join(f"<url><loc>{base}{p}</loc><lastmod>2024-06-01</lastmod></url>\n" for p in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{body}</urlset>\n'
    ).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the benchmark site (no server).")
    parser.add_argument("site_dir", type=Path)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--jobs", type=int, help="writer processes (default: CPUs, max 4)")
    parser.add_argument("--base-url", default="http://127.0.0.1:8080/", help="for robots.txt and sitemaps")
    args = parser.parse_args(argv)
    spec = SiteSpec(args.pages, args.seed)
    args.site_dir.mkdir(parents=True, exist_ok=True)
    generate(args.site_dir, spec, jobs=args.jobs)
    write_site_meta(args.site_dir, spec, args.base_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
