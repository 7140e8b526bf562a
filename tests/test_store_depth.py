"""Click depths are recomputed breadth first at finalisation (batches and resumes can overstate them)."""

from __future__ import annotations

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
    store.finalize()
    got = {p: store.get(i).depth for p, i in ids.items()}
    store.close()
    assert got == {"/": 0, "/a": 1, "/b": 2, "/r": 2, "/t": 2, "/orphan": None}
