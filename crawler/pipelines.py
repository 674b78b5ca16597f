"""Item pipelines: extraction, the attachments a page links, then the archive. The last one hands
feeds the extracted document."""
from __future__ import annotations

import logging
import os
import weakref
from concurrent.futures import CancelledError
from concurrent.futures.process import BrokenProcessPool

from scrapy import logformatter
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer
from twisted.internet.defer import Deferred

from archive.store import Archive, ArchiveError, ArchiveWriteError, default_path

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
            from .portals import sites
            archive = Archive(path, sites=sites())     # every item arrives extracted: no extractor needed
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


def die_with_parent() -> None:
    """Have the kernel kill this process when its parent dies, however the parent dies (a SIGKILL
    gives it no chance to stop its children). Linux only; elsewhere a no-op."""
    import signal
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)      # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker_start(parent: int) -> None:
    """Initialise an extraction worker: it dies with the crawl, and loads the rules and converter once."""
    import threading
    die_with_parent()

    def watch():            # where prctl is not available, or the parent died before it was set
        import time
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)
    threading.Thread(target=watch, daemon=True, name="parent-watch").start()
    from .rules import rules
    rules()
    from .cleaning import t2s
    t2s()


def _deferred(future) -> Deferred:
    """A Deferred fired in the reactor thread with a worker's result: no thread sits waiting on it."""
    from twisted.internet import reactor
    d: Deferred = Deferred()

    def fire(method, value):
        if not d.called:        # a timed-out Deferred has fired already
            method(value)

    def done(f):
        if f.cancelled():
            reactor.callFromThread(fire, d.errback, CancelledError())
        elif f.exception() is not None:
            reactor.callFromThread(fire, d.errback, f.exception())
        else:
            reactor.callFromThread(fire, d.callback, f.result())
    future.add_done_callback(done)
    return d


class _OverTime(BaseException):
    """Raised by the alarm in the middle of an extraction (not an Exception: nothing may catch it)."""


def extract_within(body: bytes, url: str, ctype: str | None, limit: float, ocr: bool = False):
    """extract_or_error, stopped after ``limit`` seconds of its own work (a SIGALRM timer in the
    process that extracts, so time spent queued for a worker does not count)."""
    import signal

    def expire(signum, frame):
        raise _OverTime
    if limit <= 0:
        return extract_or_error(body, url, ctype, ocr)
    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return extract_or_error(body, url, ctype, ocr)
    except _OverTime:
        return None, f"extraction took longer than {limit:g} s (EXTRACTION_TIMEOUT)"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class _Pool:
    """The process's extraction workers, shared by its crawlers; replaced when a worker dies."""
    MAX_DEATHS = 3          # after this many, extraction runs in the crawl's own process

    def __init__(self, workers: int):
        self.workers, self.users, self.deaths = workers, 0, 0
        self.executor = self._new()

    def _new(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_worker_start, initargs=(os.getpid(),))

    def replace(self, broken, died: bool = True) -> None:
        """A worker of ``broken`` died (or was killed for overrunning): start new workers, once."""
        if self.executor is not broken:
            return
        self.kill(broken)
        broken.shutdown(wait=False, cancel_futures=True)
        self.deaths += died
        if self.deaths >= self.MAX_DEATHS:
            log.error("extraction workers died %d times: extracting in the crawl's own process from now on",
                      self.deaths)
            self.executor = None
        else:
            self.executor = self._new()

    @staticmethod
    def kill(executor) -> None:
        import signal
        for pid in list(getattr(executor, "_processes", None) or ()):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def peak_rss_kb(self) -> int:
        return sum(_peak_rss_kb(pid) for pid in list(getattr(self.executor, "_processes", None) or ()))


_POOL: list[_Pool] = []      # one pool per process, however many crawlers


class ExtractionPipeline:
    """Extract clean text and metadata from every 200 page, in worker processes.

    Extraction is CPU work; in the crawl's own process it would stall the downloader. With
    EXTRACTION_WORKERS > 0 (default: one per core but one) pages go to a process pool, shared
    by all crawlers of the process, while Scrapy keeps fetching; 0 extracts in-process. A page
    whose extraction takes longer than EXTRACTION_TIMEOUT seconds becomes an error fetch (a worker
    stuck beyond the alarm's reach is killed). A worker that dies (killed, out of memory) is replaced and its pages are
    extracted again; after repeated deaths extraction moves into the crawl's process.
    """
    TRIES = 3

    def __init__(self, workers: int, timeout: float, stats, ocr: bool = False):
        self.workers = workers
        self.timeout = timeout
        self.stats = stats
        self.ocr = ocr
        self.pool: _Pool | None = None

    @classmethod
    def from_crawler(cls, crawler):
        n = crawler.settings.get("EXTRACTION_WORKERS")
        return cls(max(1, (os.cpu_count() or 2) - 1) if n is None else int(n),
                   crawler.settings.getfloat("EXTRACTION_TIMEOUT", 60.0), crawler.stats,
                   crawler.settings.getbool("ATTACHMENT_OCR", False))

    def open_spider(self, spider=None):
        if not self.workers:
            return
        if not _POOL:
            _POOL.append(_Pool(self.workers))
        _POOL[0].users += 1
        self.pool = _POOL[0]

    def close_spider(self, spider=None):
        if not self.pool:
            return
        pool, self.pool = self.pool, None
        pool.users -= 1
        if pool.users == 0:
            _POOL.clear()
            self.stats.set_value("govarchive/extraction_workers_peak_rss_kb", pool.peak_rss_kb())
            if pool.executor is not None:
                pool.executor.shutdown(wait=True, cancel_futures=True)

    async def process_item(self, item, spider=None):
        if not isinstance(item, PageItem) or item.status != 200 or item.body is None or item.error:
            return item
        ctype = item.headers.get("content-type")
        for _ in range(self.TRIES):
            executor = self.pool.executor if self.pool else None
            if executor is None:
                item.document, item.error = extract_within(item.body, item.url, ctype, self.timeout, self.ocr)
                return item
            try:
                d = _deferred(executor.submit(extract_within, item.body, item.url, ctype, self.timeout, self.ocr))
                if self.timeout > 0:        # a worker stuck where its alarm cannot reach (inside C code)
                    from twisted.internet import reactor
                    d.addTimeout(max(60.0, 4 * self.timeout), reactor)
                item.document, item.error = await maybe_deferred_to_future(d)
                return item
            except (BrokenProcessPool, CancelledError):     # a worker died, or its pool was replaced
                self.stats.inc_value("govarchive/extraction_worker_deaths")
                if self.pool is not None:
                    self.pool.replace(executor)
            except defer.TimeoutError:
                self.stats.inc_value("govarchive/extraction_timeouts")
                if self.pool is not None:
                    self.pool.replace(executor, died=False)    # the worker is still busy with the page
                item.error = f"extraction took longer than {max(60.0, 4 * self.timeout):g} s and was stopped"
                return item
        item.error = f"the extraction worker died {self.TRIES} times on this page"
        return item


class AttachmentsPipeline:
    """Fetch the files (附件) an archived page links, on the same crawl, each once per crawl.

    A page fetched in full links the files its extraction found; a page that answered 304 the
    files of its archived version. Each file goes through the revisit policy (a file checked
    recently is not due) and is then requested like a page; its document has kind ``attachment``.
    ATTACHMENTS_ENABLED = False turns this off.
    """

    def __init__(self, crawler):
        if not crawler.settings.getbool("ATTACHMENTS_ENABLED", True):
            raise NotConfigured
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item, spider=None):
        if not isinstance(item, PageItem) or item.kind == "attachment" or item.error:
            return item
        if item.status == 200 and item.document is not None:
            request_attachments(self.crawler, [a["url"] for a in item.document.attachments])
        elif item.status == 304:
            request_attachments(self.crawler, archived_attachments(self.crawler, item.url))
        return item


_REQUESTED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()     # crawler -> file URLs requested


def archived_attachments(crawler, url: str) -> list[str]:
    """The file URLs the archived version of a page links."""
    try:
        return [a["url"] for a in archive_for(crawler).version(url, content=True)["attachments"]]
    except ArchiveError:
        return []


def request_attachments(crawler, urls: list[str]) -> None:
    """Request each file once per crawl, if the revisit policy says it is due."""
    if not crawler.settings.getbool("ATTACHMENTS_ENABLED", True):
        return
    from .middlewares import revisit_due
    seen = _REQUESTED.setdefault(crawler, set())
    for url in urls:
        if url in seen or not url.startswith(("http://", "https://")):
            continue
        seen.add(url)
        if not revisit_due(crawler, url):
            crawler.stats.inc_value("govarchive/not_due")
            continue
        crawler.stats.inc_value("govarchive/attachments_requested")
        crawler.engine.crawl(crawler.spider.attachment_request(url))


class ArchivePipeline:
    """Record every fetch in the archive (batched: ARCHIVE_BATCH_SIZE items or _SECONDS per commit,
    the latter on a timer, so a crawl waiting on the network never holds the write lock).

    If the archive cannot be written (disk full), the crawl stops at once with the reason
    ``archive_write_failed`` and a non-zero exit: the items of the lost batch were never stored,
    and a resumed JOBDIR fetches them again.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.timer = None
        self.failed = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        from twisted.internet import task
        self.archive = archive_for(self.crawler)
        spider = spider or self.crawler.spider
        self.run_id = self.archive.start_run(spider.name, job_of(self.crawler.settings))
        seconds = self.crawler.settings.getfloat("ARCHIVE_BATCH_SECONDS", 2.0)
        self.timer = task.LoopingCall(self._commit_due)
        self.timer.start(max(0.2, seconds / 2), now=False)

    def _commit_due(self):
        try:
            self.archive.flush_if_due()
        except ArchiveWriteError as e:
            self._fail(e)

    def _fail(self, e: ArchiveWriteError) -> None:
        if self.failed is None:
            self.failed = str(e)
            log.error("%s: stopping the crawl (resume it with the same JOBDIR to fetch the lost pages again)", e)
            self.crawler.stats.set_value("govarchive/archive_write_failed", str(e))
            self.crawler.engine.close_spider(self.crawler.spider, "archive_write_failed")

    def close_spider(self, spider=None):
        if self.timer and self.timer.running:
            self.timer.stop()
        try:
            self.archive.flush()
            counts = self.archive.finish_run(self.run_id,
                                             not_due=self.crawler.stats.get_value("govarchive/not_due", 0))
        except ArchiveWriteError as e:
            self._fail(e)
            counts = {}
        for k, v in counts.items():
            self.crawler.stats.set_value(f"govarchive/run/{k}", v)
        log.info("archive %s: run %s: %s", self.archive.path, self.run_id, counts)
        release_archive(self.crawler)

    def process_item(self, item, spider=None):
        if not isinstance(item, PageItem):
            return item
        if self.failed:
            raise DropItem(f"not archived, the archive could not be written: {item.url}")
        try:
            out = self.archive.ingest(item.url, status=item.status, body=item.body, headers=item.headers,
                                      document=item.document, error=item.error, run_id=self.run_id, kind=item.kind,
                                      duration_ms=item.duration_ms, refused=item.refused)
        except ArchiveWriteError as e:
            self._fail(e)
            raise DropItem(f"not archived: {e}") from e
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
