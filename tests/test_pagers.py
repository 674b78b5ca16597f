"""Pagination on the real CMS pager variants the replica can draw (seeds/replica/site.py PAGERS):
every family finds every detail page of its lists, archives no other channel's page under its
list's kind, and every crawl ends by itself, also on pagers that loop."""
from __future__ import annotations

import re
from collections import Counter

import pytest
from scrapy.http import HtmlResponse, Request

from tests.helpers import Archive, control
from spiders.base import TrsWcmSpider, VsbSpider, trs_page_count
from tests.crawl import PORTALS, crawl

PAGE_KINDS = "SELECT url, kind FROM documents WHERE kind IS NOT 'attachment'"     # files: test_attachments.py
PAGES = "SELECT url FROM documents WHERE kind IS NOT 'attachment'"


def expected(manifest, portal: str) -> dict[str, str]:
    return {d["url"]: d["kind"] for d in manifest["documents"]
            if d["portal"] == portal and d["epochs"]["1"] and d["epochs"]["1"]["status"] == 200
            and not d["robots_disallowed"] and not d.get("mirror_of")}


@pytest.mark.parametrize("pagers", ["alt", "alt2"])
def test_every_family_finds_every_detail_page_on_real_pager_markup(replica, tmp_path, manifest, pagers):
    control(replica, "state", {"pagers": pagers})
    try:
        for portal in PORTALS:
            db = tmp_path / f"{portal}.db"
            control(replica, "log", {})
            crawl(portal, replica, db, "-s", "REVISIT_MIN=0", "-a", "revisit=0")
            want = expected(manifest, portal)
            with Archive(db) as a:
                got = dict(a.conn.execute(PAGE_KINDS))
            assert set(got) == set(want), (portal, pagers, set(want) ^ set(got))
            assert got == want, (portal, pagers)        # no side-box page took this list's kind
            lists = Counter(e["path"] for e in control(replica, "log")[1] if not re.search(
                manifest_detail_pattern(portal), e["path"]))
            assert max(lists.values()) == 1, lists      # no list page fetched twice
    finally:
        control(replica, "state", {"pagers": "default"})


def manifest_detail_pattern(portal: str) -> str:
    from crawler.portals import portals
    return portals()[portal].detail.pattern


def test_a_pager_that_loops_and_a_list_without_end_both_stop(replica, tmp_path, manifest):
    try:
        control(replica, "state", {"pagers": "loop"})      # the last page's 下一页 leads back to page 1
        control(replica, "log", {})
        run = crawl("panjin", replica, tmp_path / "p.db", "-a", "revisit=0", timeout=120)
        looped = control(replica, "log")[1]
        control(replica, "state", {"pagers": "default", "faults": [     # a 下一页 on every page, for ever
            {"match": r"www\.shuangtaizi\.gov\.cn/jyta/(index_\d+\.html)?(\?page=\d+)?$", "fault": "endless"}]})
        control(replica, "log", {})
        crawl("shuangtaizi", replica, tmp_path / "s.db", "-a", "revisit=0", timeout=120)
        endless = control(replica, "log")[1]
    finally:
        control(replica, "state", {"pagers": "default", "faults": []})
    for log in (looped, endless):
        lists = Counter((e["host"], e["path"]) for e in log if "content-" not in e["path"])
        assert max(lists.values()) == 1, lists
    extra = [e["path"] for e in endless if "?page=" in e["path"]]
    assert 0 < len(extra) <= 2, extra          # two pages that add nothing, then the list stops
    with Archive(tmp_path / "p.db") as a:
        assert {r[0] for r in a.conn.execute(PAGES)} == set(expected(manifest, "panjin"))
    with Archive(tmp_path / "s.db") as a:
        assert {r[0] for r in a.conn.execute(PAGES)} == set(expected(manifest, "shuangtaizi"))
    assert "Traceback" not in run.log


def response(url: str, body: str, page: int = 1) -> HtmlResponse:
    return HtmlResponse(url=url, body=body.encode(), encoding="utf-8",
                        request=Request(url, meta={"page": page, "kind": "policy", "list": "/x/"}))


@pytest.mark.parametrize("script,count", [
    ('createPage(34, 0, "index", "html");', 34),
    ('var countPage = 7//共多少页\nvar currentPage = 0;\ncreatePageHTML(countPage, currentPage, "index", "html");', 7),
    ('createPageHTML(5, 0, "index", "html");', 5),
    ("var m_nRecordCount = 123;\nvar m_nPageSize = 15;", 9),
    ("var nothing = 1;", 1),
])
def test_trs_page_count_in_every_script_form(script, count):
    assert trs_page_count(f"<html><body><ul class='list'></ul><script>{script}</script></body></html>") == count


def test_the_vsb_fanye_table_is_read():
    body = ('<html><body><div class="list"><ul></ul></div><table><tr><td id="fanye214374">共23条&nbsp;&nbsp;1/3&nbsp;'
            '</td><td><a href="rdjy/2.htm" class="Next">下页</a>&nbsp;<a href="rdjy/1.htm" class="Next">尾页</a>'
            '</td></tr></table></body></html>')
    spider = VsbSpider.__new__(VsbSpider)
    pages = spider.next_pages(response("http://kjj.linyi.gov.cn/jyta/rdjy.htm", body))
    assert pages == [(2, "http://kjj.linyi.gov.cn/jyta/rdjy/2.htm"), (3, "http://kjj.linyi.gov.cn/jyta/rdjy/1.htm")]
    assert TrsWcmSpider  # the TRS family is covered by test_trs_page_count_in_every_script_form


def test_a_split_article_is_one_document_and_a_change_in_part_two_is_a_new_version(replica, tmp_path, manifest):
    from seeds.replica import site
    split = [d for d in site.documents() if d.extra.get("split")]
    amended = next(d for d in split if d.amended)
    db = tmp_path / "a.db"
    crawl("panjin", replica, db)
    with Archive(db) as a:
        for d in split:
            v = a.version(d.url)
            assert v["text"] == site.gold(d, 1)["text"] and v["flags"]["parts"] == 2, d.url
        parts = [r[0] for r in a.conn.execute("SELECT url FROM documents WHERE url LIKE '%-2.html'")]
        assert parts == []                         # part 2 is no document of its own
    control(replica, "state", {"epoch": 2})
    try:
        crawl("panjin", replica, db)
    finally:
        control(replica, "state", {"epoch": 1})
    with Archive(db) as a:
        vs = a.versions(amended.url)
        assert len(vs) == 2 and vs[-1]["text"] == site.gold(amended, 2)["text"]
        assert site.gold(amended, 2)["text"] != site.gold(amended, 1)["text"]


def test_hanweb_lists_come_from_the_page_s_datastore_and_dataproxy(replica, tmp_path, manifest):
    control(replica, "log", {})
    crawl("suzhou_kjj", replica, tmp_path / "a.db")
    paths = [e["path"] for e in control(replica, "log")[1]]
    assert any("/module/web/jpage/dataproxy.jsp?page=2&" in p for p in paths)
    with Archive(tmp_path / "a.db") as a:
        got = dict(a.conn.execute(PAGE_KINDS))
    assert got == expected(manifest, "suzhou_kjj")
