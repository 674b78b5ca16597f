"""Killed crawls lose nothing: SIGKILL at random moments, verify after each, resume to the end."""
from __future__ import annotations

import random
import signal
import sqlite3

import pytest

from archive.integrity import verify
from archive.store import Archive
from tests.crawl import crawl, start
from tests.helpers import control

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
        docs = {r[0] for r in a.conn.execute("SELECT url FROM documents")}
        assert docs == expected(manifest)
        assert a.conn.execute("SELECT count(*) FROM versions").fetchone()[0] == len(docs)
        assert a.conn.execute("SELECT count(*) FROM fetches WHERE outcome = 'new_version'").fetchone()[0] == len(docs)
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
