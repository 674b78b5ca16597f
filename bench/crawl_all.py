"""Crawl every portal of the replica in one Scrapy process; print totals as JSON on stdout.

``python -m bench.crawl_all REPLICA_URL DB [bare] [SETTING=VALUE …] [PORTAL …]`` (default: every
portal of the configuration, GOVARCHIVE_PORTALS included): ``bare`` switches off the
item pipelines and govarchive's middlewares (a plain link-following crawl of the same pages, what
`scrapy bench` measures); otherwise the full pipeline runs: extraction and the archive.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from crawler.portals import portals


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not ru_maxrss: on Linux that keeps the peak of
    the parent that forked us, so a large benchmark process would inflate it."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    replica, db, *rest = sys.argv[1:]
    bare = "bare" in rest
    s = get_project_settings()
    s.set("REPLICA", replica, priority="cmdline")
    s.set("ARCHIVE_DB", db, priority="cmdline")
    s.set("LOG_LEVEL", "WARNING", priority="cmdline")
    if os.environ.get("EXTRACTION_WORKERS"):
        s.set("EXTRACTION_WORKERS", int(os.environ["EXTRACTION_WORKERS"]), priority="cmdline")
    for kv in (r for r in rest if "=" in r):
        s.set(*kv.split("=", 1), priority="cmdline")
    if bare:
        s.set("ITEM_PIPELINES", {}, priority="cmdline")
        s.set("DOWNLOADER_MIDDLEWARES", {"crawler.middlewares.ConditionalRequestMiddleware": None,
                                         "crawler.middlewares.ResumeMiddleware": None}, priority="cmdline")
        s.set("SPIDER_MIDDLEWARES", {"crawler.middlewares.RevisitPolicyMiddleware": None}, priority="cmdline")
    process = CrawlerProcess(s)
    crawlers = []
    for p in [r for r in rest if r != "bare" and "=" not in r] or portals():
        c = process.create_crawler(p)
        crawlers.append(c)
        process.crawl(c, revisit="0" if bare else None)
    t = time.perf_counter()
    process.start()
    elapsed = time.perf_counter() - t
    stats = [c.stats.get_stats() for c in crawlers]
    out = {"elapsed": elapsed,
           "responses": sum(x.get("response_received_count", 0) for x in stats),
           "items": sum(x.get("item_scraped_count", 0) for x in stats),
           "peak_rss_mb": peak_rss_mb(),
           "crawler_cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
           "workers_peak_rss_mb": max(x.get("govarchive/extraction_workers_peak_rss_kb", 0) for x in stats) / 1024,
           "outcomes": {k: sum(x.get(f"govarchive/{k}", 0) for x in stats)
                        for k in ("new_version", "unchanged", "not_modified", "gone", "error", "not_due")}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
