"""Slices and shards: a crawl elsewhere gets what it needs; merging is idempotent and keeps
history in fetch-time order whatever the order of the shards; health flags stale portals."""
from __future__ import annotations

import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from archive import shards
from archive.cli import main
from archive.search import search
from tests.helpers import Archive

P = "https://kjj.cq.gov.cn/zwgk_176/zwxxgkml/zcwj/xzgfxwj/202101/t20210105_100.html"
Q = "https://kjj.cq.gov.cn/zwgk_176/zwxxgkml/zcwj/xzgfxwj/202101/t20210106_101.html"
OTHER = "http://kjj.linyi.gov.cn/info/1091/6300.htm"


def page(title: str, body: str) -> bytes:
    return (f"<html><head><title>{title}</title></head><body><div class='zwxl-article'><h1>{title}</h1>"
            f"<p>{body}</p><p>{'科技创新政策落实情况良好。' * 6}</p></div></body></html>").encode()


def fetch(a, url, at, body, **kw):
    return a.ingest(url, status=200, body=body, headers={"etag": f'"{hash(body) & 0xffff:x}"'}, fetched_at=at,
                    run_id=kw.pop("run_id", None), **kw)


def state(path) -> list[tuple]:
    c = sqlite3.connect(path)
    try:
        return c.execute("SELECT d.url, v.number, v.fetched_at, v.status, v.content_hash FROM documents d "
                         "JOIN versions v ON v.document_id = d.id ORDER BY d.url, v.number").fetchall()
    finally:
        c.close()


@pytest.fixture
def world(tmp_path):
    """An archive with P (and a page of another portal), and two shards crawled from its slices."""
    main_db = tmp_path / "main.db"
    with Archive(main_db) as a:
        fetch(a, P, "2026-01-01T00:00:00+00:00", page("关于印发科技政策的通知", "第一版正文。"))
        fetch(a, OTHER, "2026-01-01T00:00:00+00:00", page("临沂政策", "其他门户。"))
        shards.take_slice(a, "chongqing_kjj", tmp_path / "a.db")
        shards.take_slice(a, "chongqing_kjj", tmp_path / "b.db")
    with Archive(tmp_path / "a.db") as s:      # the later crawl: P amended, Q new
        run = s.start_run("chongqing_kjj", "job-a")
        fetch(s, P, "2026-03-01T00:00:00+00:00", page("关于印发科技政策的通知", "第二版正文，已修订。"), run_id=run)
        fetch(s, Q, "2026-03-01T00:00:05+00:00", page("新政策", "新文件正文。"), run_id=run)
        s.finish_run(run)
    with Archive(tmp_path / "b.db") as s:      # an earlier crawl: P unchanged, then Q as it first was
        run = s.start_run("chongqing_kjj", "job-b")
        fetch(s, P, "2026-02-01T00:00:00+00:00", page("关于印发科技政策的通知", "第一版正文。"), run_id=run)
        fetch(s, Q, "2026-02-01T00:00:05+00:00", page("新政策", "新文件的初稿。"), run_id=run)
        s.ingest("https://kjj.cq.gov.cn/broken.html", status=None, error="TimeoutError", run_id=run,
                 fetched_at="2026-02-01T00:00:09+00:00")
        s.finish_run(run)
    return tmp_path


def test_a_slice_holds_what_a_crawl_needs_and_nothing_else(world):
    with Archive(world / "main.db") as a:
        shards.take_slice(a, "chongqing_kjj", world / "c.db")
        with Archive(world / "c.db") as s:
            assert s.last_fetch_validators(P) == a.last_fetch_validators(P) != (None, None)
            assert s.check_times(P) == a.check_times(P)
            assert s.active_urls("chongqing_kjj") == [P] and s.site_keys() == ["chongqing_kjj"]
            assert s.conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 0
            assert [h["url"] for h in search(s, "第一版")] == [P]
        with pytest.raises(shards.ArchiveError, match="exists"):
            shards.take_slice(a, "chongqing_kjj", world / "c.db")


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_merge_keeps_history_in_time_order_whatever_the_order(world, order):
    with Archive(world / "main.db") as a:
        for name in order:
            shards.merge(a, world / f"{name}.db")
        assert [(v["number"], v["fetched_at"][:10]) for v in a.versions(P)] == [(1, "2026-01-01"), (2, "2026-03-01")]
        assert [(v["number"], v["fetched_at"][:10]) for v in a.versions(Q)] == [(1, "2026-02-01"), (2, "2026-03-01")]
        assert "已修订" in a.version(P)["text"] and "新文件正文" in a.version(Q)["text"]
        assert [h["outcome"] for h in a.history(P)] == ["new_version", "unchanged", "new_version"]
        assert len(a.runs()) == 2


def test_merge_order_does_not_change_the_result(world, tmp_path_factory):
    copy = tmp_path_factory.mktemp("copy")
    for f in ("main.db", "a.db", "b.db"):
        shutil.copy(world / f, copy / f)
    with Archive(world / "main.db") as a:
        shards.merge(a, world / "a.db")
        shards.merge(a, world / "b.db")
    with Archive(copy / "main.db") as a:
        shards.merge(a, copy / "b.db")
        shards.merge(a, copy / "a.db")
    assert state(world / "main.db") == state(copy / "main.db") != []


def test_merging_twice_changes_nothing_and_stores_each_body_once(world):
    with Archive(world / "main.db") as a:
        shards.merge(a, world / "a.db")
        shards.merge(a, world / "b.db")
        tables = ("documents", "versions", "fetches", "blobs", "runs", "links")
        before = {t: a.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        again = shards.merge(a, world / "b.db") | shards.merge(a, world / "a.db")
        after = {t: a.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        assert set(again) == {"duplicate"} and after == before
        # P's first text came in the archive and again in shard b: one blob
        shas = [r[0] for r in a.conn.execute("SELECT blob_sha256 FROM fetches f JOIN documents d ON d.id = "
                                             "f.document_id WHERE d.url = ? ORDER BY f.fetched_at", (P,))]
        assert shas[0] == shas[1] and a.conn.execute("SELECT count(*) FROM blobs WHERE sha256 = ?",
                                                     (shas[0],)).fetchone()[0] == 1
        assert a.conn.execute("SELECT count(*) FROM fetch_log WHERE url LIKE '%broken.html'").fetchone()[0] == 1


def test_cli_slice_and_merge_refuse_bad_input_and_touch_nothing(world, tmp_path):
    run = lambda *args: CliRunner().invoke(main, list(args), catch_exceptions=False)
    r = run("slice", "--db", str(world / "main.db"), "chongqin_kjj", str(tmp_path / "s.db"))
    assert r.exit_code == 1 and "no documents of portal 'chongqin_kjj'" in r.output and "chongqing_kjj" in r.output
    assert not (tmp_path / "s.db").exists()
    r = run("slice", "--db", str(world / "main.db"), "chongqing_kjj", str(tmp_path / "s.db"))
    assert r.exit_code == 0 and (tmp_path / "s.db").exists()
    before = state(world / "main.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    r = run("merge", "--db", str(world / "main.db"), str(junk))
    assert r.exit_code == 1 and "not a govarchive archive" in r.output and "Traceback" not in r.output
    r = run("merge", "--db", str(tmp_path / "typo.db"), str(world / "a.db"))
    assert r.exit_code == 1 and "no archive" in r.output and not (tmp_path / "typo.db").exists()
    assert state(world / "main.db") == before


def test_health_flags_a_portal_with_nothing_new(tmp_path):
    with Archive(tmp_path / "h.db") as a:
        old = a.start_run("chongqing_kjj")
        fetch(a, P, "2026-01-01T00:00:00+00:00", page("旧文件", "正文。"), run_id=old)
        a.finish_run(old)
        fresh = a.start_run("linyi_kjj")
        fetch(a, OTHER, "2026-01-20T00:00:00+00:00", page("新文件", "正文。"), run_id=fresh)
        a.ingest("http://kjj.linyi.gov.cn/info/1091/6301.htm", status=403, error="blocked", refused="blocked",
                 run_id=fresh, fetched_at="2026-01-20T00:00:01+00:00")
        a.finish_run(fresh)
        rows = {r["portal"]: r for r in a.health(stale_days=7, at="2026-01-21T00:00:00+00:00")}
    assert rows["chongqing_kjj"]["stale"] and rows["chongqing_kjj"]["days_since_new"] == 20.0
    assert not rows["linyi_kjj"]["stale"] and rows["linyi_kjj"]["blocked_rate"] == 0.5
    assert rows["linyi_kjj"]["last_success"] and rows["linyi_kjj"]["documents"] == 1


def test_merge_shards_task_merges_what_it_can_and_sets_aside_what_it_cannot(world, monkeypatch):
    from crawler.jobs import Transport, merge_shards
    t = world / "transport"
    (t / "shards").mkdir(parents=True)
    shutil.copy(world / "a.db", t / "shards" / "chongqing_kjj--1.db")
    (t / "shards" / "chongqing_kjj--2.db").write_bytes(b"not an archive" * 100)
    monkeypatch.setenv("GOVARCHIVE_SHARDS", str(t))
    monkeypatch.setenv("GOVARCHIVE_DB", str(world / "main.db"))
    assert merge_shards() == {"new_version": 2}
    assert Transport().names("merged") == ["chongqing_kjj--1.db"] and Transport().names("failed") == ["chongqing_kjj--2.db"]
    assert Transport().names("shards") == []
    monkeypatch.setenv("GOVARCHIVE_SHARDS", "s3://bucket/prefix")
    with pytest.raises(ValueError, match="only a directory transport"):
        Transport()
