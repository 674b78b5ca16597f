"""Item pipelines: extraction, then the archive. The last one hands feeds the extracted document."""
from __future__ import annotations

import logging
import os
import time

from scrapy import logformatter
from scrapy.exceptions import DropItem

from archive.store import Archive

from .extract import extract_or_error
from .items import PageItem

log = logging.getLogger(__name__)


def archive_for(crawler) -> Archive:
    """The one Archive of a crawl, shared by the middlewares and the pipeline."""
    a = getattr(crawler, "_govarchive", None)
    if a is None:
        a = Archive(crawler.settings.get("ARCHIVE_DB"))
        crawler._govarchive = a
    return a


def job_of(settings) -> str | None:
    """A crawl job's identity: its JOBDIR, so a resumed job recognises its own fetches."""
    jobdir = settings.get("JOBDIR")
    return os.path.realpath(jobdir) if jobdir else None


class ExtractionPipeline:
    """Extract clean text and metadata from every 200 page."""

    def process_item(self, item, spider=None):
        if not isinstance(item, PageItem) or item.status != 200 or item.body is None or item.error:
            return item
        item.document, item.error = extract_or_error(item.body, item.url, item.headers.get("content-type"))
        return item


class ArchivePipeline:
    """Record every fetch in the archive; batches commit every few items or seconds."""

    def __init__(self, crawler):
        self.crawler = crawler
        s = crawler.settings
        self.batch_size = s.getint("ARCHIVE_BATCH_SIZE", 25)
        self.batch_seconds = s.getfloat("ARCHIVE_BATCH_SECONDS", 2.0)
        self.pending = 0
        self.since = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        self.archive = archive_for(self.crawler)
        spider = spider or self.crawler.spider
        self.run_id = self.archive.start_run(spider.name, job_of(self.crawler.settings))

    def close_spider(self, spider=None):
        self._commit()
        counts = self.archive.finish_run(self.run_id)
        for k, v in counts.items():
            self.crawler.stats.set_value(f"govarchive/run/{k}", v)
        log.info("archive %s: run %s: %s", self.archive.path, self.run_id, counts)
        self.archive.close()
        self.crawler._govarchive = None

    def process_item(self, item, spider=None):
        if not isinstance(item, PageItem):
            return item
        if not self.pending:
            self.archive.begin()
            self.since = time.monotonic()
        try:
            out = self.archive.ingest(item.url, status=item.status, body=item.body, headers=item.headers,
                                      document=item.document, error=item.error, run_id=self.run_id, kind=item.kind,
                                      duration_ms=item.duration_ms)
        except BaseException:
            self.archive.rollback()
            self.pending = 0
            raise
        self.pending += 1
        if self.pending >= self.batch_size or time.monotonic() - self.since > self.batch_seconds:
            self._commit()
        self.crawler.stats.inc_value(f"govarchive/{out.outcome}")
        if out.outcome == "error":
            log.warning("%s: %s", item.url, out.message)
        if item.document is None:
            raise DropItem(f"{out.outcome}: {item.url}" + (f" ({out.message})" if out.message else ""))
        doc = item.document.to_dict()
        doc.update(kind=item.kind, outcome=out.outcome, version=out.version)
        return doc

    def _commit(self):
        if self.pending:
            self.archive.commit()
            self.pending = 0


class QuietDropFormatter(logformatter.LogFormatter):
    """304s and unchanged pages are dropped from feeds on every re-crawl: log that at DEBUG."""

    def dropped(self, item, exception, response, spider=None):
        entry = super().dropped(item, exception, response, spider)
        entry["level"] = logging.DEBUG
        return entry
