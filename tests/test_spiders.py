"""Every spider crawls the replica end to end: real `scrapy crawl` processes, real archive."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from archive.search import search
from tests.helpers import Archive, control
from crawler.cleaning import t2s
from seeds.replica import site
from tests.crawl import PORTALS, ROOT, crawl


def official(manifest, portal, epochs=(1,)):
    """Manifest documents a portal's spider must archive by these epochs (robots.txt forbids one)."""
    return {d["url"]: d for d in manifest["documents"]
            if d["portal"] == portal and any(d["epochs"][str(e)] for e in epochs) and not d["robots_disallowed"]}


@pytest.mark.parametrize("portal", PORTALS)
def test_each_spider_archives_every_manifest_document_once(crawled, manifest, portal):
    want = official(manifest, portal, epochs=(1, 2))     # the module crawls both epochs
    with Archive(crawled["db"]) as a:
        got = {r["url"]: r for r in a.db.query(
            "SELECT d.url, v.title, v.metadata, v.reply FROM documents d JOIN versions v ON v.document_id = d.id "
            "AND v.number = 1 WHERE d.site = ? AND d.kind IS NOT 'attachment'", [portal])}
        first_versions = a.conn.execute(
            "SELECT count(*) FROM versions v JOIN documents d ON d.id = v.document_id WHERE d.site = ? AND v.number = 1 "
            "AND d.kind IS NOT 'attachment'",
            (portal,)).fetchone()[0]
    assert set(got) == set(want)
    assert first_versions == len(want)
    for url, d in want.items():
        g = d["epochs"]["1"] or d["epochs"]["2"]
        assert got[url]["title"] == g["title"], url
        meta = json.loads(got[url]["metadata"])
        assert {k: meta[k] for k in g["metadata"]} == g["metadata"], url
        assert json.loads(got[url]["reply"] or "null") == g["reply"], url


def test_robots_disallow_is_honoured(crawled, manifest):
    forbidden = [d["url"] for d in manifest["documents"] if d["robots_disallowed"]]
    assert len(forbidden) >= 5
    with Archive(crawled["db"]) as a:
        for url in forbidden:
            assert a.conn.execute("SELECT count(*) FROM fetch_log WHERE url = ?", (url,)).fetchone()[0] == 0
    assert all(crawled["runs"][(p, 1)].stat("robotstxt/forbidden") >= 1 for p in PORTALS)
    requested = {(e["host"], e["path"]) for e in crawled["log_again"]}
    for url in forbidden:
        host, path = url.split("/", 3)[2], "/" + url.split("/", 3)[3]
        assert (host, path) not in requested


def test_no_request_leaves_the_replica(crawled):
    """Every request Scrapy made was answered by the replica, and only portal hosts were asked."""
    served = len(crawled["log_again"])
    made = sum(crawled["runs"][(p, "again")].stat("downloader/request_count") for p in PORTALS)
    assert served == made > 0
    hosts = {e["host"] for e in crawled["log_again"]}
    assert hosts == {"www.panjin.gov.cn", "www.shuangtaizi.gov.cn", "kjj.cq.gov.cn", "kjj.linyi.gov.cn",
                     "fgw.linyi.gov.cn", "kjj.suzhou.gov.cn"}


def test_identical_second_crawl_adds_no_versions(crawled):
    s1, s2 = crawled["s1"], crawled["s_again"]
    assert s2["versions"] == s1["versions"] and s2["documents"] == s1["documents"]
    assert s2["fetch_outcomes"].get("not_modified", 0) >= s1["documents"] - 10
    conditional = [e for e in crawled["log_again"] if e.get("conditional")]
    split = [d for d in site.documents() if d.extra.get("split")]    # fetched whole each time: no validators
    assert len(conditional) == s1["documents"] - len(split)
    assert all(e["status"] == 304 for e in conditional)


def test_epoch_2_recrawl_yields_exactly_the_manifest_changes(crawled, manifest):
    want = {"changed": set(), "removed": set(), "new": set()}
    for d in manifest["documents"]:
        if d["portal"] not in PORTALS or d["robots_disallowed"]:
            continue
        c = d["change_in_epoch_2"]
        if c in ("amended", "invalidated"):
            want["changed"].add(d["url"])
        elif c == "removed":
            want["removed"].add(d["url"])
        elif c == "new":
            want["new"].add(d["url"])
    with Archive(crawled["db"]) as a:
        got = {"changed": set(), "removed": set(), "new": set()}
        for r in a.changes(crawled["since"]):
            if r["kind"] != "attachment":        # files: tests/test_attachments.py
                got[r["change"]].add(r["url"])
        assert got == want
        for url in want["removed"]:
            assert a.document(url)["status"] == "gone"
            assert a.version(url, content=True)["text"]          # the old text stays readable
        for d in manifest["documents"]:
            if d["url"] in want["changed"]:
                v2 = a.version(d["url"])
                g = d["epochs"]["2"]
                assert v2["number"] == 2 and v2["metadata"]["validity"] == g["metadata"]["validity"]
                assert v2["title"] == g["title"]
        assert search(a, "经复核")      # the amendments are searchable


def test_feed_output_and_spider_list(replica, tmp_path):
    out = tmp_path / "out.jsonl"
    crawl("chongqing_kjj", replica, tmp_path / "a.db", "-O", str(out))
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    items = [i for i in items if i["kind"] != "attachment"]
    assert len(items) >= 60 and all(i["text"] and i["url"].startswith("https://kjj.cq.gov.cn/") for i in items)
    assert {i["kind"] for i in items} == {"npc_reply", "cppcc_reply", "policy"}
    listed = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT, capture_output=True, text=True).stdout
    assert listed.split() == sorted(PORTALS + ("urls",))


def test_fifth_portal_comes_from_configuration_alone():
    from crawler.portals import portals
    from spiders import portals as generated
    assert "linyi_fgw" in portals()
    cls = next(c for c in vars(generated).values() if getattr(c, "name", None) == "linyi_fgw")
    assert cls.__module__ == "spiders.portals" and cls.__mro__[1].__name__ == "VsbSpider"
    src = (ROOT / "spiders").read_text() if False else "".join(p.read_text() for p in (ROOT / "spiders").glob("*.py"))
    assert "fgw" not in src


def test_max_pages_and_since_bound_the_crawl(replica, tmp_path, manifest):
    import re
    from seeds.replica import site
    c = crawl("linyi_kjj", replica, tmp_path / "a.db", "-a", "max_pages=1")
    first_pages = "".join(site.build(1)[("kjj.linyi.gov.cn", p)].body.decode() for p in
                          ("/jyta/zxta.htm", "/jyta/rdjy.htm", "/zcwj/zcwj.htm"))
    linked = {"http://kjj.linyi.gov.cn/" + h for h in re.findall(r'href="\.\./(info/\d+/\d+\.htm)"', first_pages)}
    forbidden = {d["url"] for d in manifest["documents"] if d["robots_disallowed"]}
    assert len(linked) == 30
    with Archive(tmp_path / "a.db") as a:
        assert {r["url"] for r in a.list_documents() if r["kind"] != "attachment"} == linked - forbidden
    crawl("chongqing_kjj", replica, tmp_path / "b.db", "-a", "since=2022-06-01")
    with Archive(tmp_path / "b.db") as a:
        dates = [r["published_date"] for r in a.list_documents() if r["kind"] != "attachment"]
        assert dates and all(d >= "2022-06-01" for d in dates)
    assert c.stat("downloader/request_count") - c.stat("govarchive/attachments_requested") < 40


def test_urls_spider_archives_mirror_copies(replica, tmp_path, manifest):
    mirrors = [d for d in manifest["documents"] if d["mirror_of"]]
    f = tmp_path / "urls.txt"
    f.write_text("# mirror copies\n" + "\n".join(d["url"] for d in mirrors) + "\n", encoding="utf-8")
    crawl("urls", replica, tmp_path / "a.db", "-a", f"urls={f}")
    with Archive(tmp_path / "a.db") as a:
        for d in mirrors:
            v = a.version(d["url"])
            assert v["flags"]["mirror"] and "(pán)" not in v["text"]
            assert t2s().convert(v["title"]) == t2s().convert(d["epochs"]["1"]["title"])


def test_jobdir_resume_does_not_refetch_and_adds_no_duplicates(replica, tmp_path, manifest):
    job = tmp_path / "job"
    db = tmp_path / "a.db"
    first = crawl("chongqing_kjj", replica, db, "-s", f"JOBDIR={job}", "-s", "CLOSESPIDER_ITEMCOUNT=15",
                  "-s", "CONCURRENT_REQUESTS=1")
    with Archive(db) as a:
        done = {r[0] for r in a.conn.execute("SELECT url FROM fetch_log")}
    assert 15 <= len(done) < 63
    control(replica, "log", {})
    crawl("chongqing_kjj", replica, db, "-s", f"JOBDIR={job}")
    refetched = {f"https://{e['host']}{e['path']}" for e in control(replica, "log")[1]}
    assert not (done & refetched)
    with Archive(db) as a:
        pages = "FROM documents d WHERE d.kind IS NOT 'attachment'"
        assert {r[0] for r in a.conn.execute(f"SELECT url {pages}")} == set(official(manifest, "chongqing_kjj"))
        assert a.conn.execute(f"SELECT count(*) FROM versions WHERE document_id IN (SELECT id {pages})").fetchone()[0] \
            == len(official(manifest, "chongqing_kjj"))
    assert first.stat("item_scraped_count") >= 15


def test_polite_defaults_against_real_hosts():
    from scrapy.utils.project import get_project_settings
    from spiders.portals import PanjinSpider
    s = get_project_settings()
    PanjinSpider.update_settings(s)
    assert s.getbool("ROBOTSTXT_OBEY") and s.getbool("AUTOTHROTTLE_ENABLED")
    assert s.getfloat("DOWNLOAD_DELAY") >= 1 and s.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 2
    assert "govarchive" in s.get("USER_AGENT") and "http" in s.get("USER_AGENT")
    assert s.getint("DOWNLOAD_MAXSIZE") > 0 and 404 not in s.getlist("RETRY_HTTP_CODES")
    assert 503 in [int(x) for x in s.getlist("RETRY_HTTP_CODES")]
    assert PanjinSpider.portal.base == "https://www.panjin.gov.cn"
    replica = get_project_settings()
    replica.set("REPLICA", "http://127.0.0.1:1", priority="cmdline")
    PanjinSpider.update_settings(replica)
    assert replica.getfloat("DOWNLOAD_DELAY") == 0          # lowered in replica mode only


def test_revisit_interval_grows_with_time_unchanged():
    from datetime import datetime, timedelta
    from crawler.middlewares import due
    t0 = datetime(2026, 1, 1)
    h, d = timedelta(hours=1), timedelta(days=1)
    policy = dict(minimum=6 * 3600, maximum=30 * 86400, factor=0.5)
    # just archived: due again after REVISIT_MIN
    assert not due(t0, t0, t0 + 5 * h, **policy) and due(t0, t0, t0 + 6 * h, **policy)
    # unchanged for 20 days at the last check: wait 10 days
    assert not due(t0 + 20 * d, t0, t0 + 29 * d, **policy) and due(t0 + 20 * d, t0, t0 + 30 * d, **policy)
    # unchanged for years: never longer than REVISIT_MAX
    assert due(t0 + 900 * d, t0, t0 + 930 * d, **policy)


def test_revisit_policy_fetches_lists_only_when_nothing_is_due(replica, tmp_path, manifest):
    db = tmp_path / "a.db"
    policy = ("-s", "REVISIT_MIN=21600")            # the default, over the tests' REVISIT_MIN=0
    want = {(u.split("/", 3)[2], "/" + u.split("/", 3)[3]) for u in official(manifest, "linyi_fgw")}
    crawl("linyi_fgw", replica, db, *policy)
    control(replica, "log", {})
    again = crawl("linyi_fgw", replica, db, *policy)
    asked = {(e["host"], e["path"]) for e in control(replica, "log")[1]}
    assert asked and not asked & want                # list pages only
    assert again.stat("govarchive/not_due") == len(want)
    assert "not due yet" in again.log
    with Archive(db) as a:      # nothing recorded for pages not fetched
        assert a.conn.execute("SELECT count(*) FROM fetches WHERE run_id = (SELECT max(id) FROM runs)").fetchone()[0] \
            == 0
    # a page gone from the lists is checked at once, whatever the policy: removals are seen
    removed = [d["url"] for d in manifest["documents"] if d["portal"] == "linyi_fgw"
               and d["change_in_epoch_2"] == "removed" and not d["robots_disallowed"]]
    control(replica, "state", {"epoch": 2})
    try:
        crawl("linyi_fgw", replica, db, *policy)
    finally:
        control(replica, "state", {"epoch": 1})
    with Archive(db) as a:
        assert removed and all(a.document(u)["status"] == "gone" for u in removed)
        assert a.conn.execute("SELECT count(*) FROM versions v JOIN documents d ON d.id = v.document_id WHERE "
                              "v.number > 1 AND v.status = 'active' AND d.kind IS NOT 'attachment'").fetchone()[0] == 0
    control(replica, "log", {})
    crawl("linyi_fgw", replica, db)                 # REVISIT_MIN=0: every archived page is checked
    assert want <= {(e["host"], e["path"]) for e in control(replica, "log")[1]}
