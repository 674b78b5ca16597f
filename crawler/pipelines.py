"""Item pipelines: extraction, then the archive. The last one hands feeds the extracted document."""
from __future__ import annotations

import logging
import os
from concurrent.futures import CancelledError

from scrapy import logformatter
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from archive.store import Archive, default_path

from .extract import extract_or_error
from .items import PageItem

log = logging.getLogger(__name__)


_OPEN: dict[str, list] = {}     # archive path -> [Archive, users]: one connection per process


def archive_for(crawler) -> Archive:
    """The process's Archive for the crawl's ARCHIVE_DB, shared by middlewares and pipelines.

    Several crawlers in one process (CrawlerProcess) share one connection and one write batch:
    two connections in one reactor thread would wait on each other's lock forever.
    """
    a = getattr(crawler, "_govarchive", None)
    if a is None:
        path = str(default_path(crawler.settings.get("ARCHIVE_DB")).resolve())
        if path not in _OPEN:
            archive = Archive(path)
            s = crawler.settings
            archive.set_batching(s.getint("ARCHIVE_BATCH_SIZE", 25), s.getfloat("ARCHIVE_BATCH_SECONDS", 2.0))
            _OPEN[path] = [archive, 0]
        _OPEN[path][1] += 1
        a = crawler._govarchive = _OPEN[path][0]
    return a


def release_archive(crawler) -> None:
    """A crawler is done with its archive: commit what is pending; close it when nobody uses it."""
    a = getattr(crawler, "_govarchive", None)
    if a is None:
        return
    crawler._govarchive = None
    a.flush()
    path = str(a.path.resolve())
    _OPEN[path][1] -= 1
    if _OPEN[path][1] <= 0:
        del _OPEN[path]
        a.close()


def job_of(settings) -> str | None:
    """A crawl job's identity: its JOBDIR, so a resumed job recognises its own fetches."""
    jobdir = settings.get("JOBDIR")
    return os.path.realpath(jobdir) if jobdir else None


def _peak_rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


def _warm() -> None:
    from .rules import rules
    rules()
    from .cleaning import t2s
    t2s()


def _deferred(future) -> Deferred:
    """A Deferred fired in the reactor thread with a worker's result: no thread sits waiting on it."""
    from twisted.internet import reactor
    d: Deferred = Deferred()

    def done(f):
        if f.cancelled():
            reactor.callFromThread(d.errback, CancelledError())
        elif f.exception() is not None:
            reactor.callFromThread(d.errback, f.exception())
        else:
            reactor.callFromThread(d.callback, f.result())
    future.add_done_callback(done)
    return d


_POOL: list = []      # [ProcessPoolExecutor, users]: one pool per process, however many crawlers


class ExtractionPipeline:
    """Extract clean text and metadata from every 200 page, in worker processes.

    Extraction is CPU work; in the crawl's own process it would stall the downloader. With
    EXTRACTION_WORKERS > 0 (default: one per core but one) pages go to a process pool, shared
    by all crawlers of the process, while Scrapy keeps fetching; 0 extracts in-process.
    """

    def __init__(self, workers: int, stats):
        self.workers = workers
        self.stats = stats
        self.pool = None

    @classmethod
    def from_crawler(cls, crawler):
        n = crawler.settings.get("EXTRACTION_WORKERS")
        return cls(max(1, (os.cpu_count() or 2) - 1) if n is None else int(n), crawler.stats)

    def open_spider(self, spider=None):
        if not self.workers:
            return
        if not _POOL:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            _POOL[:] = [ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_warm), 0]
        _POOL[1] += 1
        self.pool = _POOL[0]

    def close_spider(self, spider=None):
        if not self.pool:
            return
        self.pool = None
        _POOL[1] -= 1
        if _POOL[1] == 0:
            pool = _POOL.pop(0)
            _POOL.clear()
            peak = sum(_peak_rss_kb(pid) for pid in list(getattr(pool, "_processes", None) or ()))
            self.stats.set_value("govarchive/extraction_workers_peak_rss_kb", peak)
            pool.shutdown(wait=True, cancel_futures=True)

    async def process_item(self, item, spider=None):
        if not isinstance(item, PageItem) or item.status != 200 or item.body is None or item.error:
            return item
        ctype = item.headers.get("content-type")
        if self.pool is None:
            item.document, item.error = extract_or_error(item.body, item.url, ctype)
        else:
            future = self.pool.submit(extract_or_error, item.body, item.url, ctype)
            item.document, item.error = await maybe_deferred_to_future(_deferred(future))
        return item


class ArchivePipeline:
    """Record every fetch in the archive (batched: ARCHIVE_BATCH_SIZE items or _SECONDS per commit)."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        self.archive = archive_for(self.crawler)
        spider = spider or self.crawler.spider
        self.run_id = self.archive.start_run(spider.name, job_of(self.crawler.settings))

    def close_spider(self, spider=None):
        self.archive.flush()
        counts = self.archive.finish_run(self.run_id)
        for k, v in counts.items():
            self.crawler.stats.set_value(f"govarchive/run/{k}", v)
        log.info("archive %s: run %s: %s", self.archive.path, self.run_id, counts)
        release_archive(self.crawler)

    def process_item(self, item, spider=None):
        if not isinstance(item, PageItem):
            return item
        out = self.archive.ingest(item.url, status=item.status, body=item.body, headers=item.headers,
                                  document=item.document, error=item.error, run_id=self.run_id, kind=item.kind,
                                  duration_ms=item.duration_ms)
        self.crawler.stats.inc_value(f"govarchive/{out.outcome}")
        if out.outcome == "error":
            log.warning("%s: %s", item.url, out.message)
        if item.document is None:
            raise DropItem(f"{out.outcome}: {item.url}" + (f" ({out.message})" if out.message else ""))
        doc = item.document.to_dict()
        doc.update(kind=item.kind, outcome=out.outcome, version=out.version)
        return doc


class QuietDropFormatter(logformatter.LogFormatter):
    """304s and unchanged pages are dropped from feeds on every re-crawl: log that at DEBUG."""

    def dropped(self, item, exception, response, spider=None):
        entry = super().dropped(item, exception, response, spider)
        entry["level"] = logging.DEBUG
        return entry
