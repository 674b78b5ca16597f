"""Readers during a crawl never see 'database is locked'; two crawls writing one archive stay consistent."""
from __future__ import annotations

import http.client
import json
import socket
import sqlite3
import subprocess
import sys
import time

from archive.integrity import verify
from tests.helpers import Archive, control, page_urls, page_versions
from tests.crawl import ENV, ROOT, start

SLOW = [{"match": r"/(html/\d+/\d{4}-\d\d-\d\d/content-\d+\.html|info/\d+/\d+\.htm)$", "fault": "slow", "delay": 0.02}]


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archive.cli", *args], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readers_during_a_crawl_never_fail(replica, tmp_path):
    db = tmp_path / "a.db"
    control(replica, "state", {"faults": SLOW})
    crawl = start("panjin", replica, db, "-s", "ARCHIVE_BATCH_SIZE=5")
    assert replica.state.log.wait_for(20, timeout=60, give_up=lambda: crawl.poll() is not None)
    assert db.exists()
    port = free_port()
    serve = subprocess.Popen([sys.executable, "-m", "archive.cli", "serve", "--db", str(db), "--port", str(port)],
                             cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    failures, rounds, served = [], 0, 0
    try:
        while crawl.poll() is None or rounds < 3:
            rounds += 1
            for args in (["export", "--db", str(db), "--format", "jsonl", "--out", str(tmp_path / f"x{rounds}.jsonl")],
                         ["search", "--db", str(db), "科技"], ["stats", "--db", str(db)]):
                r = cli(*args)
                if r.returncode != 0:
                    failures.append((args[0], r.stderr[-500:]))
            served += _query_datasette(port)
            if rounds > 200:
                break
        assert crawl.wait(timeout=300) == 0, crawl.stderr.read()[-2000:]
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        control(replica, "state", {"faults": []})
    assert failures == []
    assert served >= 1                        # datasette answered while the crawl wrote
    assert rounds >= 3
    with Archive(db) as a:
        assert verify(a) == [] and a.stats()["documents"] > 100


def _query_datasette(port: int) -> int:
    """1 if datasette answered a query over the archive, 0 while it is still starting."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/a/documents.json?_shape=array&_size=5")
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200, body[:300]
        assert isinstance(json.loads(body), list)
        return 1
    except ConnectionRefusedError:
        time.sleep(0.2)     # datasette still starting: not a synchronisation, just a pause between polls
        return 0


def test_two_crawls_writing_one_archive(replica, tmp_path, manifest):
    db = tmp_path / "a.db"
    Archive(db).close()               # both find the schema in place
    a = start("linyi_kjj", replica, db)
    b = start("chongqing_kjj", replica, db)
    assert a.wait(timeout=300) == 0, a.stderr.read()[-2000:]
    assert b.wait(timeout=300) == 0, b.stderr.read()[-2000:]
    for p in (a, b):
        assert "Traceback" not in p.stderr.read()
    c = sqlite3.connect(db)
    assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    c.close()
    want = {d["url"] for d in manifest["documents"] if d["portal"] in ("linyi_kjj", "chongqing_kjj")
            and d["epochs"]["1"] and not d["robots_disallowed"]}
    with Archive(db) as arc:
        assert verify(arc) == []
        assert page_urls(arc) == want
        assert page_versions(arc) == len(want)
