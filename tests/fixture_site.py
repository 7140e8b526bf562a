"""The foundation fixture site: every case the crawl store must record precisely."""

from __future__ import annotations

from sitekit import Resp, SiteServer, gz, html

ROBOTS = """User-agent: *
Disallow: /private/
Crawl-delay: 0.05
Sitemap: {base}/sitemap_index.xml
"""

INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{base}/sitemap-pages.xml</loc></sitemap>
  <sitemap><loc>{base}/sitemap-more.xml.gz</loc></sitemap>
</sitemapindex>"""

PAGES_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>{base}/</loc><lastmod>2026-01-01</lastmod></url>
  <url><loc>{base}/about</loc></url>
</urlset>"""

MORE_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>{base}/orphan</loc><lastmod>2026-02-03</lastmod></url>
  <url><loc>{base}/private/secret</loc></url>
</urlset>"""


def build_site(site: SiteServer) -> None:
    """Install the fixture routes on ``site`` (URLs need the server's port)."""
    b = site.base
    home_links = "".join(
        f'<a href="{href}">{text}</a>'
        for href, text in [
            ("/about", "About us"),
            ("/old", "Old page"),
            ("/chain1", "Chain"),
            ("/loop-a", "Loop"),
            ("/missing", "Missing"),
            ("/error", "Error"),
            ("/noindex-meta", "Noindex meta"),
            ("/noindex-header", "Noindex header"),
            ("/latin1", "Latin"),
            ("/broken-bytes", "Broken"),
            ("/private/page", "Private"),
            ("/fr/", "Français"),
            ("https://external.example/page", "External"),
            ("mailto:contact@example.com", "Mail"),
            ("javascript:void(0)", "JS"),
            ("/about#team", "Team"),
        ]
    )
    r = site.routes
    r["/robots.txt"] = Resp(body=ROBOTS.format(base=b), content_type="text/plain")
    r["/sitemap_index.xml"] = Resp(body=INDEX.format(base=b), content_type="application/xml")
    r["/sitemap-pages.xml"] = Resp(body=PAGES_SITEMAP.format(base=b), content_type="application/xml")
    r["/sitemap-more.xml.gz"] = Resp(body=gz(MORE_SITEMAP.format(base=b)), content_type="application/x-gzip")
    r["/"] = Resp(body=html(
        "Home page of the fixture site",
        f"<h1>Welcome</h1>{home_links}<img src=\"/logo.png\" alt=\"Logo\"><p>Some words here.</p>",
        head=f'<link rel="canonical" href="{b}/"><link rel="alternate" hreflang="fr" href="{b}/fr/">'
             f'<link rel="alternate" hreflang="en" href="{b}/"><link rel="stylesheet" href="/style.css">',
    ))
    r["/logo.png"] = Resp(body=b"\x89PNG\r\n\x1a\n" + b"0" * 100, content_type="image/png")
    r["/style.css"] = Resp(body="body{}", content_type="text/css")
    r["/about"] = Resp(body=html("About", "<h1>About</h1><a href='/'>Home</a>", head=f'<link rel="canonical" href="{b}/about">'))
    r["/old"] = Resp(301, headers={"Location": "/about"})
    r["/chain1"] = Resp(302, headers={"Location": f"{b}/chain2"})
    r["/chain2"] = Resp(301, headers={"Location": "/chain3"})
    r["/chain3"] = Resp(body=html("Chain end", "<h1>End</h1>"))
    r["/loop-a"] = Resp(301, headers={"Location": "/loop-b"})
    r["/loop-b"] = Resp(301, headers={"Location": "/loop-a"})
    r["/error"] = Resp(500, body=html("Server error", "oops"))
    r["/noindex-meta"] = Resp(body=html("Noindex meta", "<h1>x</h1>", head='<meta name="robots" content="noindex, follow">'))
    r["/noindex-header"] = Resp(body=html("Noindex header", "<h1>y</h1>"), headers={"X-Robots-Tag": "noindex"})
    r["/latin1"] = Resp(
        body="<html><head><meta charset=\"iso-8859-1\"><title>Café crème</title></head><body><h1>Été</h1></body></html>".encode("latin-1"),
        content_type="text/html",
    )
    r["/broken-bytes"] = Resp(
        body=b"<html><head><title>Broken \xff\xfe bytes</title></head><body><p>caf\xe9 ok</p></body></html>",
        content_type="text/html; charset=utf-8",
    )
    r["/fr/"] = Resp(body=html(
        "Accueil", "<h1>Bienvenue</h1><a href='/'>Home</a>", lang="fr",
        head=f'<link rel="alternate" hreflang="en" href="{b}/"><link rel="alternate" hreflang="fr" href="{b}/fr/">',
    ))
    r["/orphan"] = Resp(body=html("Orphan page", "<h1>Orphan</h1>"))
    r["/private/page"] = Resp(body=html("Private", "secret"))
    r["/private/secret"] = Resp(body=html("Private", "secret"))
