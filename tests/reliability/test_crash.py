"""Killed crawls lose nothing: SIGKILL at random moments, verify after each, resume to the end."""
from __future__ import annotations

import random
import signal
import sqlite3

import pytest

from archive.integrity import verify
from tests.helpers import Archive, control, page_urls
from tests.crawl import crawl, start

SLOW = [{"match": r"kjj\.cq\.gov\.cn/zwgk_176/.*/t\d+_\d+\.html$", "fault": "slow", "delay": 0.03}]


def expected(manifest, portal="chongqing_kjj"):
    return {d["url"] for d in manifest["documents"]
            if d["portal"] == portal and d["epochs"]["1"] and not d["robots_disallowed"]}


def check(db):
    """The guarantees after a kill: integrity_check ok, verify clean, no version twice."""
    c = sqlite3.connect(db)
    assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    c.close()
    with Archive(db) as a:
        assert verify(a) == []
        assert a.conn.execute("SELECT count(*) FROM (SELECT document_id, content_hash FROM versions "
                              "GROUP BY document_id, content_hash HAVING count(*) > 1)").fetchone()[0] == 0


def kill_and_resume(replica, tmp_path, manifest, kills: int, seed: int):
    rng = random.Random(seed)
    db, job = tmp_path / "a.db", tmp_path / "job"
    control(replica, "state", {"faults": SLOW})
    killed = 0
    for _ in range(kills):
        served = replica.state.log.count
        proc = start("chongqing_kjj", replica, db, "-s", f"JOBDIR={job}", "-s", "ARCHIVE_BATCH_SIZE=7")
        # a random moment: after k more requests reach the replica (k covers start-up to the end)
        k = rng.randint(1, 60)
        replica.state.log.wait_for(served + k, timeout=120, give_up=lambda: proc.poll() is not None)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait(timeout=60)
        proc.stderr.close()
        if db.exists():
            check(db)
    crawl("chongqing_kjj", replica, db, "-s", f"JOBDIR={job}")
    control(replica, "state", {"faults": []})
    check(db)
    with Archive(db) as a:
        assert page_urls(a) == expected(manifest)
        assert not a.conn.execute("SELECT l.url FROM links l WHERE NOT EXISTS (SELECT 1 FROM fetch_log f WHERE "
                                  "f.url = l.url)").fetchall()         # every file a page links was fetched
        docs = a.conn.execute("SELECT count(*) FROM documents").fetchone()[0]      # pages and their files
        assert a.conn.execute("SELECT count(*) FROM versions").fetchone()[0] == docs
        assert a.conn.execute("SELECT count(*) FROM fetches WHERE outcome = 'new_version'").fetchone()[0] == docs
    return killed


def test_sigkill_at_ten_random_moments_then_resume(replica, tmp_path, manifest):
    assert kill_and_resume(replica, tmp_path, manifest, kills=10, seed=7) >= 8


@pytest.mark.long
def test_sigkill_at_forty_random_moments_then_resume(replica, tmp_path, manifest):
    assert kill_and_resume(replica, tmp_path, manifest, kills=40, seed=11) >= 30


def test_a_failure_inside_an_ingest_leaves_no_partial_version(tmp_path, monkeypatch):
    """Versions are written in one transaction with their fetch, document and index rows."""
    from seeds.replica import site
    d = next(x for x in site.documents() if x.seed == "003")
    p = site.build(1)[(d.host, d.path)]
    with Archive(tmp_path / "a.db") as a:
        def crash(*args, **kw):
            raise KeyboardInterrupt("killed between the version row and the search index")
        monkeypatch.setattr(a, "_index", crash)
        with pytest.raises(KeyboardInterrupt):
            a.ingest(d.url, status=200, body=p.body, headers={})
        monkeypatch.undo()
        for table in ("documents", "versions", "fetches", "blobs"):
            assert a.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
        assert a.ingest(d.url, status=200, body=p.body, headers={}).outcome == "new_version"
        assert verify(a) == []


def _page(url):
    from seeds.replica import site
    d = next(x for x in site.documents() if x.url == url)
    return site.build(1)[(d.host, d.path)]


def _ingest(a, url):
    pg = _page(url)
    return a.ingest(url, status=pg.status, body=pg.body,
                    headers={"content-type": pg.content_type, "etag": pg.etag, "last-modified": pg.last_modified})


def test_a_rollback_after_a_dictionary_was_trained_leaves_every_body_readable(tmp_path, monkeypatch):
    """A site's dictionary is trained inside a crawl's transaction; if that rolls back, later bodies must
    not refer to it. Once trained for good, the bodies stored before it are compressed again with it."""
    from archive import store
    from seeds.replica import site
    arc = Archive(tmp_path / "a.db")
    monkeypatch.setattr(store, "DICT_AFTER", 8)
    urls = [d.url for d in site.documents() if d.portal == "panjin" and not d.gone][:12]
    with pytest.raises(RuntimeError):
        with arc.batch():
            for u in urls[:10]:            # the dictionary is trained at the 8th body, then rolled back
                _ingest(arc, u)
            raise RuntimeError("crash after the dictionary was trained")
    assert arc.conn.execute("SELECT count(*) FROM dicts").fetchone()[0] == 0
    for u in urls:
        _ingest(arc, u)
    codecs = [r[0] for r in arc.conn.execute("SELECT codec FROM blobs")]
    assert len(codecs) == 12 and all(c.startswith("zstd:") for c in codecs)      # the first 7 compressed again
    assert arc.conn.execute("SELECT count(*) FROM dicts").fetchone()[0] == 1
    assert verify(arc) == []
    for u in urls:
        assert arc.version(u)["text"] and arc.get_blob(arc.version(u)["blob_sha256"]) == _page(u).body


def test_a_failing_item_in_a_crawl_batch_loses_only_itself(tmp_path, monkeypatch):
    """A crawl commits every 25 items; one that fails is undone alone, not with the others of its batch."""
    from seeds.replica import site
    arc = Archive(tmp_path / "a.db")
    urls = [d.url for d in site.documents() if d.portal == "linyi_kjj" and not d.gone][:3]
    arc.set_batching(25, 60)
    _ingest(arc, urls[0])
    real = arc._ingest
    monkeypatch.setattr(arc, "_ingest", lambda *a, **k: (_ for _ in ()).throw(sqlite3.IntegrityError("boom")))
    with pytest.raises(sqlite3.IntegrityError):
        _ingest(arc, urls[1])
    monkeypatch.setattr(arc, "_ingest", real)
    _ingest(arc, urls[2])
    arc.flush()
    assert {r["url"] for r in arc.list_documents()} == {urls[0], urls[2]}
