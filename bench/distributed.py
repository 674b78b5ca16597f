"""Crawl jobs on Celery: pages/s with 1, 2 and 3 crawl workers, and merge speed.

    python -m bench.distributed        (make bench-distributed)

Each round starts a fresh cluster (bench/cluster.py: Redis, the replica with PORTALS synthetic
portals, an archive worker and N crawl workers, each a process) and times from the first
dispatch to the last shard handed back. The anchor is the same portals crawled by one Scrapy
process (bench/crawl_all.py), measured in the same run. Merge speed: every shard of the last
round merged into a fresh archive, versions added per second. Writes the "distributed" section
of bench/README.md and the "distributed" key of results.json.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bench.cluster import ROOT, Cluster, wait_for
from bench.report import publish, scratch

PORTALS = int(os.environ.get("BENCH_PORTALS", 24))
WORKERS = (1, 2, 3)


def fetches(db: Path) -> int:
    c = sqlite3.connect(db)
    try:
        base = int((c.execute("SELECT value FROM meta WHERE key = 'slice_fetch_max'").fetchone() or [0])[0])
        return c.execute("SELECT count(*) FROM fetches WHERE id > ?", (base,)).fetchone()[0]
    finally:
        c.close()


def one_round(work: Path, workers: int) -> dict:
    c = Cluster(work, PORTALS, visibility=600, lock_ttl=30).start(workers)
    try:
        t = time.perf_counter()
        c.dispatch()
        wait_for(lambda: len(c.handed_back()) >= PORTALS, 3600, "every shard", every=0.5)
        seconds = time.perf_counter() - t
        pages = sum(fetches(s) for s in c.handed_back())
        single = None
        if workers == WORKERS[-1]:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "bench.crawl_all", c.replica.url, str(work / "single.db"),
                            *c.portals], cwd=ROOT, env=c.env, check=True, capture_output=True)
            single = {"seconds": time.perf_counter() - t, "pages": fetches(work / "single.db")}
            t = time.perf_counter()
            c.merge(*c.handed_back())
            merge_s = time.perf_counter() - t
            con = sqlite3.connect(c.db)
            versions = con.execute("SELECT count(*) FROM versions").fetchone()[0]
            con.close()
            single["merge"] = {"seconds": merge_s, "versions": versions, "shards": PORTALS}
        return {"workers": workers, "seconds": seconds, "pages": pages, "pages_per_s": pages / seconds,
                "single": single}
    finally:
        c.stop()


def render(res: dict) -> str:
    rounds = res["rounds"]
    single = next(r["single"] for r in rounds if r["single"])
    one = single["pages"] / single["seconds"]
    lines = [f"## Crawl jobs on Celery: `make bench-distributed` ({res['date']}, this machine)",
             "", f"{PORTALS} synthetic replica portals (copies of the four CMS families on hosts of their own, "
                 "attachments included), each crawled as one Celery job; time from the first dispatch to the last "
                 "shard handed back (slices, Scrapy start-up and shard copies included). Anchor: the same portals "
                 "in one Scrapy process, in the same run. This machine has 2 cores, so a third worker adds "
                 "little here: the figures are per core as much as per worker.", "",
             "| crawl workers | pages/s | vs one Scrapy process |", "|---|---|---|"]
    for r in rounds:
        lines.append(f"| {r['workers']} | {r['pages_per_s']:.1f} | {r['pages_per_s'] / one:.2f} |")
    m = single["merge"]
    lines += [f"| one Scrapy process, no Celery | {one:.1f} | 1.00 |", "",
              f"Merge: {m['shards']} shards, {m['versions']} versions in {m['seconds']:.1f} s: "
              f"{m['versions'] / m['seconds']:.0f} versions/s (one `govarchive merge` process, bodies "
              "decompressed from the shard and compressed again with the archive's dictionaries)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    rounds = []
    with scratch("govarchive-bench-dist-") as work:
        for n in WORKERS:
            rounds.append(one_round(work / f"w{n}", n))
            print(f"  {n} workers: {rounds[-1]['pages_per_s']:.1f} pages/s", file=sys.stderr)
    res = {"date": time.strftime("%Y-%m-%d"), "portals": PORTALS, "rounds": rounds}
    publish("distributed", res, render(res))


if __name__ == "__main__":
    main()
