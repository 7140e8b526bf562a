"""Built-in rule modules (one per rule group).

``RULES`` is every built-in rule, module by module: the registry loads it through the
``emaudit.rules`` entry point (``builtin = "emaudit.rules"``), the same way as third-party plugins.
"""

from __future__ import annotations

from . import (
    canonical,
    content,
    h1,
    headings,
    hreflang,
    images,
    index,
    links,
    meta_description,
    redirect,
    robots,
    security,
    sitemap,
    status,
    structured_data,
    title,
)

RULES = (
    *status.RULES,
    *redirect.RULES,
    *links.RULES,
    *index.RULES,
    *canonical.RULES,
    *title.RULES,
    *meta_description.RULES,
    *h1.RULES,
    *headings.RULES,
    *content.RULES,
    *images.RULES,
    *sitemap.RULES,
    *robots.RULES,
    # Beyond the core catalogue of issue #3 §6.
    *hreflang.RULES,
    *security.RULES,
    *structured_data.RULES,
)
