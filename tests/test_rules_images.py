"""Image rules: alt attributes and broken internal images."""

from __future__ import annotations

from rulekit import U, bad_good_tests, doc, page, site_from_pages

GONE_IMG = U("/img/old.png", status=404, kind="resource", content_type="text/html")

FIXTURES = {
    "images.alt_missing": (
        page(doc(body='<img src="/img/boot.jpg">')),
        page(doc(body='<img src="/img/boot.jpg" alt="Brown leather boot"><img src="/img/line.png" alt="">')),
    ),
    "images.broken": (
        page(doc(body='<img src="/img/old.png" alt="Acme">'), others=(GONE_IMG,)),
        page(doc(body='<img src="/img/logo.png" alt="Acme">')),
    ),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)


def test_alt_missing_lists_each_src_once() -> None:
    (finding,) = page(doc(body='<img src="/a.png"><img src="/a.png"><img src="b.png"><img src="/c.png" alt="C">')).run(
        "images.alt_missing")
    assert finding.details["srcs"] == ["/a.png", "b.png"] and finding.message == "2 image(s) without an alt attribute"


def test_broken_images_one_finding_per_image() -> None:
    site = site_from_pages([
        U("/", doc(body='<img src="/img/old.png" alt="a"><img src="/img/old.png" alt="b"><img src="/x.png" alt="x">'
                        '<img src="https://cdn.example.net/gone.png" alt="c">')),
        GONE_IMG, U("/x.png", status=None, error_kind="timeout", kind="resource"),
    ])
    findings = site.run("images.broken", "/")
    assert [(f.details["target"], f.details["status"]) for f in findings] == [
        ("https://example.com/img/old.png", 404), ("https://example.com/x.png", "timeout")]
