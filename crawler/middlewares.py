"""Middlewares: the revisit policy (spider); conditional requests, crash-safe resume, retry with backoff (downloader)."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor, task

from .pipelines import archive_for, job_of

log = logging.getLogger(__name__)


class ConditionalRequestMiddleware:
    """Send If-None-Match / If-Modified-Since from the archive's last good fetch of a document.

    Only requests marked ``meta['conditional']`` (detail pages); list pages are always fetched.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        if not request.meta.get("conditional"):
            return None
        etag, last_modified = archive_for(self.crawler).last_fetch_validators(request.url)
        if etag and b"If-None-Match" not in request.headers:
            request.headers["If-None-Match"] = etag
        if last_modified and b"If-Modified-Since" not in request.headers:
            request.headers["If-Modified-Since"] = last_modified
        if etag or last_modified:
            self.crawler.stats.inc_value("govarchive/conditional_requests")
        return None


def due(last_checked: datetime, last_changed: datetime, at: datetime, minimum: float, maximum: float,
        factor: float) -> bool:
    """Is a document checked at ``last_checked``, whose content last changed at ``last_changed``,
    due for another check at ``at``? The wait grows with how long it has stayed unchanged."""
    unchanged = (last_checked - last_changed).total_seconds()
    wait = min(maximum, max(minimum, factor * unchanged))
    return (at - last_checked).total_seconds() >= wait


class RevisitPolicyMiddleware(BaseSpiderMiddleware):
    """A spider middleware: drop requests for archived detail pages not due for a check yet
    (adaptive revisiting), before they are scheduled, as scrapy-deltafetch drops seen ones.

    A page is due once the time since its last check reaches REVISIT_FACTOR times the time it
    had then gone unchanged, bounded by REVISIT_MIN and REVISIT_MAX seconds: a reply published
    this week is checked on every run after REVISIT_MIN, a letter unchanged for years about once
    every REVISIT_MAX. So re-running a crawl soon after the last one fetches list pages and new
    documents only. Pages no list links any more are requested by the spider straight to the
    engine, past spider middlewares: they are checked at once (they may have been removed).
    ``-s REVISIT_MIN=0`` checks every archived page on every run.
    """

    def __init__(self, crawler):
        super().__init__(crawler)
        s = crawler.settings
        self.minimum, self.maximum = s.getfloat("REVISIT_MIN"), s.getfloat("REVISIT_MAX")
        self.factor = s.getfloat("REVISIT_FACTOR")
        if self.minimum <= 0:
            raise NotConfigured
        crawler.signals.connect(self.report, signal=signals.spider_closed)

    def get_processed_request(self, request, response):
        if not request.meta.get("conditional"):
            return request
        times = archive_for(self.crawler).check_times(request.url)
        if times is None or due(*(datetime.fromisoformat(t) for t in times), datetime.now(timezone.utc),
                                self.minimum, self.maximum, self.factor):
            return request
        self.crawler.stats.inc_value("govarchive/not_due")
        return None

    def report(self, spider=None):
        n = self.crawler.stats.get_value("govarchive/not_due", 0)
        if n:
            log.info("%d archived pages were checked recently and are not due yet (REVISIT_MIN=%gs; "
                     "-s REVISIT_MIN=0 checks every page)", n, self.minimum)


class ResumeMiddleware:
    """With JOBDIR, skip detail pages this job already archived, even after a SIGKILL.

    Scrapy's own JOBDIR state is written on a clean stop; the archive is written as pages
    arrive, so it is what survives a crash.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.job = job_of(crawler.settings)
        if not self.job:
            raise NotConfigured

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        if request.meta.get("conditional") and archive_for(self.crawler).done_in_job(self.job, request.url):
            self.crawler.stats.inc_value("govarchive/skipped_done_in_job")
            raise IgnoreRequest(f"already archived by this job: {request.url}")
        return None


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry policy, but waiting base * 2^n seconds (or Retry-After) before each retry."""

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)

    async def process_response(self, request, response, spider=None):
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await self._wait(result, response.headers.get(b"Retry-After"))
        return result

    async def process_exception(self, request, exception, spider=None):
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(result, None)
        return result

    async def _wait(self, retry: Request, retry_after: bytes | None) -> None:
        delay = min(self.cap, self.base * 2 ** (retry.meta.get("retry_times", 1) - 1))
        if retry_after and retry_after.strip().isdigit():
            delay = min(self.cap, max(delay, float(retry_after)))
        if delay > 0:
            self.crawler.stats.inc_value("govarchive/retry_backoff_seconds", delay)
            await maybe_deferred_to_future(task.deferLater(reactor, delay, lambda: None))
