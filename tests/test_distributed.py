"""Crawl jobs on Celery and Redis (real servers, separate worker processes): 30 replica portals,
a worker killed mid-job, shards merged into an archive equal to a single-process crawl."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import defaultdict

import pytest

from bench.cluster import Cluster, wait_for
from seeds.replica.site import synthetic
from tests.crawl import ROOT

PORTALS = 30
PER_DOMAIN = 8          # CONCURRENT_REQUESTS_PER_DOMAIN in replica mode (spiders/base.py REPLICA_SETTINGS)


def content(db) -> list[tuple]:
    c = sqlite3.connect(db)
    try:
        return sorted(c.execute("SELECT d.url, d.kind, v.number, v.status, v.content_hash FROM documents d "
                                "JOIN versions v ON v.document_id = d.id").fetchall())
    finally:
        c.close()


def tables(db) -> dict:
    c = sqlite3.connect(db)
    try:
        return {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("documents", "versions", "fetches", "blobs", "runs", "links")}
    finally:
        c.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp("cluster")
    c = Cluster(work, PORTALS, visibility=10, lock_ttl=6).start(crawl_workers=3)
    try:
        # the same portals crawled by one process, as `scrapy crawl` on one machine does
        base = subprocess.run([sys.executable, "-m", "bench.crawl_all", c.replica.url, str(work / "single.db"),
                               *c.portals], cwd=ROOT, env=c.env, capture_output=True, text=True, timeout=600)
        assert base.returncode == 0, base.stderr[-3000:]
        c.replica.state.log.clear()
        c.dispatch()
        hosts = {p["key"]: p["host"] for p in synthetic(PORTALS)}
        crawl_pids = {str(c.workers[f"crawl{k}"].pid): f"crawl{k}" for k in (1, 2, 3)}

        def busy():     # a crawl worker holding a portal whose host has already served it a few pages
            for portal, holder in c.locks().items():
                pid = holder.split(":")[1]
                served = sum(1 for e in c.replica.state.log.snapshot() if e["host"] == hosts[portal])
                if pid in crawl_pids and served >= 10:
                    return portal, crawl_pids[pid]
        killed_portal, victim = wait_for(busy, 300, "a crawl job under way")
        c.workers[victim].send_signal(signal.SIGKILL)
        c.workers[victim].wait()
        wait_for(lambda: len(c.handed_back()) >= PORTALS, 600, f"{PORTALS} shards handed back")
        first = c.merge(*c.handed_back())
        after_first = tables(c.db)
        second = c.merge(*reversed(c.handed_back()))
        yield {"c": c, "killed": killed_portal, "host": hosts[killed_portal], "first": first, "second": second,
               "after_first": after_first, "log": c.replica.state.log.snapshot(), "work": work}
    finally:
        c.stop()


def test_the_merged_archive_is_the_single_process_crawl(cluster):
    c = cluster["c"]
    merged, single = content(c.db), content(cluster["work"] / "single.db")
    assert len(merged) > 1500 and merged == single
    assert {u.split("/")[2] for u, *_ in merged} == {p["host"] for p in synthetic(PORTALS)}
    out = subprocess.run([sys.executable, "-m", "archive.cli", "verify", "--db", str(c.db)], cwd=ROOT, env=c.env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_killed_workers_portal_was_redone_by_another(cluster):
    c = cluster["c"]
    assert len(c.handed_back()) == PORTALS       # one shard per portal: the killed attempt handed back nothing
    jobs = {e["job"] for e in cluster["log"] if e["host"] == cluster["host"]}
    assert len(jobs) == 2 and None not in jobs   # the first attempt, and the redo on another worker
    assert len({j.rsplit(".", 1)[1] for j in jobs}) == 2


def test_merging_every_shard_again_changes_nothing(cluster):
    assert tables(cluster["c"].db) == cluster["after_first"]
    counts = [json.loads(line.split("\t")[1]) for line in cluster["second"].splitlines()]
    assert len(counts) == PORTALS and all(set(x) == {"duplicate"} for x in counts)


def test_no_host_saw_two_jobs_at_once_nor_too_many_requests(cluster):
    by_host = defaultdict(list)
    for e in cluster["log"]:
        by_host[e["host"]].append(e)
    assert len(by_host) == PORTALS
    for host, entries in by_host.items():
        spans = {}
        for e in entries:
            lo, hi = spans.get(e["job"], (e["t0"], e["t"]))
            spans[e["job"]] = (min(lo, e["t0"]), max(hi, e["t"]))
        ordered = sorted(spans.values())
        assert all(a[1] <= b[0] for a, b in zip(ordered, ordered[1:])), (host, spans)
        events = sorted([(e["t0"], 1) for e in entries] + [(e["t"], -1) for e in entries])
        peak = running = 0
        for _, step in events:
            running += step
            peak = max(peak, running)
        assert peak <= PER_DOMAIN, (host, peak)


def test_health_lists_every_portal_crawled(cluster):
    c = cluster["c"]
    out = subprocess.run([sys.executable, "-m", "archive.cli", "portals", "--health", "--db", str(c.db), "--json"],
                         cwd=ROOT, env=c.env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    rows = {r["portal"]: r for r in json.loads(out.stdout)}
    for key in c.portals:
        assert rows[key]["documents"] > 30 and not rows[key]["stale"] and rows[key]["error_rate"] < 0.05
    assert rows["panjin"]["stale"] and rows["panjin"]["last_success"] is None     # configured, never crawled


def test_beat_schedules_every_portal_on_its_cadence(tmp_path):
    entries = tmp_path / "p.toml"
    entries.write_text('[portals.weekly]\nfamily = "vsb"\nname = "x"\nbase = "http://x.example.gov.cn"\n'
                       'cadence = "7d"\nlists = [{ path = "/a.htm", kind = "policy" }]\n', encoding="utf-8")
    code = ("import json; from crawler.jobs import app; "
            "print(json.dumps({k: v['schedule'] for k, v in app.conf.beat_schedule.items()}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, GOVARCHIVE_PORTALS=str(entries), PYTHONPATH=str(ROOT)))
    sched = json.loads(out.stdout)
    assert sched["dispatch-weekly"] == 7 * 86400 and sched["dispatch-panjin"] == 86400
    assert "merge-shards" in sched
