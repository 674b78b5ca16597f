"""Middlewares: the revisit policy (spider); the address guard, truncation checks, conditional
requests, crash-safe resume, retry with backoff (downloader)."""
from __future__ import annotations

import ipaddress
import logging
import zlib
from datetime import datetime, timezone
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor, task
from twisted.internet.defer import Deferred

from .pipelines import archive_for, archived_attachments, job_of, request_attachments

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


def revisit_due(crawler, url: str) -> bool:
    """Is an archived document due for a check under the revisit policy? (New ones always are.)"""
    s = crawler.settings
    minimum = s.getfloat("REVISIT_MIN")
    if minimum <= 0:
        return True
    times = archive_for(crawler).check_times(url)
    return times is None or due(*(datetime.fromisoformat(t) for t in times), datetime.now(timezone.utc),
                                minimum, s.getfloat("REVISIT_MAX"), s.getfloat("REVISIT_FACTOR"))


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
        self.minimum = crawler.settings.getfloat("REVISIT_MIN")
        if self.minimum <= 0:
            raise NotConfigured
        crawler.signals.connect(self.report, signal=signals.spider_closed)

    def get_processed_request(self, request, response):
        if not request.meta.get("conditional") or revisit_due(self.crawler, request.url):
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
    arrive, so it is what survives a crash. A skipped page's files are requested again (those
    this job fetched are skipped in turn): a kill may have lost their requests.
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
            if request.meta.get("kind") != "attachment":
                request_attachments(self.crawler, archived_attachments(self.crawler, request.url))
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


class AddressGuardMiddleware:
    """Never connect to loopback, private, link-local, multicast or reserved addresses (cloud
    metadata services live there), and do not follow redirects off the spider's hosts.

    Every request passes here, and so does every redirect hop (Scrapy schedules each hop as a
    new request). Host names are resolved first, through the crawl's own caching resolver, so
    the address checked is the address connected to. A redirect leaving the portal's hosts is
    recorded as an error fetch naming its target; REDIRECT_ALLOWED_HOSTS lists hosts it may go
    to ("*": any public host). In replica mode every connection goes to the replica, so only
    the URLs themselves are checked.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.replica = bool(crawler.settings.get("REPLICA"))
        self.allowed = set(crawler.settings.getlist("REDIRECT_ALLOWED_HOSTS"))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request, spider=None):
        host = (urlsplit(request.url).hostname or "").lower()
        if request.meta.get("redirect_urls") and not self._may_redirect_to(host, spider or self.crawler.spider):
            raise IgnoreRequest(f"redirect from {request.meta['redirect_urls'][0]} to {request.url} leaves the "
                                f"portal's hosts: not followed (REDIRECT_ALLOWED_HOSTS allows hosts)")
        blocked = _blocked(host) if _is_ip(host) or host == "localhost" or host.endswith(".localhost") else None
        if blocked is None and not self.replica and not _is_ip(host):
            from twisted.internet import reactor
            try:
                addr = await maybe_deferred_to_future(reactor.resolve(host))
            except Exception:  # noqa: BLE001 - the download reports the DNS failure itself
                return None
            blocked = _blocked(addr)
        if blocked:
            self.crawler.stats.inc_value("govarchive/refused_address")
            raise IgnoreRequest(f"refused to connect to {host}: {blocked}")
        return None

    def _may_redirect_to(self, host: str, spider) -> bool:
        if "*" in self.allowed or host in self.allowed:
            return True
        domains = getattr(spider, "allowed_domains", None) or []
        return any(host == d or host.endswith("." + d) for d in domains)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _blocked(host: str) -> str | None:
    """Why an address (or localhost) must not be connected to, or None for a public address."""
    if host == "localhost" or host.endswith(".localhost"):
        return "a loopback name"
    ip = ipaddress.ip_address(host.strip("[]"))
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for what, test in (("a loopback address", ip.is_loopback), ("a link-local or metadata address", ip.is_link_local),
                       ("a private address", ip.is_private), ("a multicast address", ip.is_multicast),
                       ("a reserved address", ip.is_reserved or ip.is_unspecified)):
        if test:
            return f"{ip} is {what}"
    return None


class TruncatedResponse(Exception):
    """A body that did not arrive whole: it must never become a version."""


class TruncationMiddleware:
    """Refuse bodies that arrived cut short, before decompression hides it.

    Scrapy fails a body shorter than its Content-Length (or flags it ``dataloss``), but it
    decompresses a gzip stream that stops early into whatever came, and a body framed only by the
    connection closing has no length to check. Here: a ``dataloss`` flag, a gzip/deflate stream
    that does not reach its end, and an HTML body with neither Content-Length nor chunked
    framing that stops before ``</html>`` are each an error fetch.
    """

    def __init__(self, maxsize: int):
        self.maxsize = maxsize

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getint("DOWNLOAD_MAXSIZE"))

    def process_response(self, request, response, spider=None):
        if "dataloss" in response.flags:
            raise TruncatedResponse(f"truncated body: the connection closed early ({len(response.body)} bytes came)")
        encoding = response.headers.get(b"Content-Encoding", b"").decode("latin-1").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate") and response.body and not self._complete(response.body, encoding):
            raise TruncatedResponse(f"truncated body: the {encoding} stream ends early ({len(response.body)} bytes)")
        framed = b"Content-Length" in response.headers or b"chunked" in response.headers.get(b"Transfer-Encoding", b"")
        ctype = response.headers.get(b"Content-Type", b"").lower()
        if not framed and not encoding and response.status == 200 and b"html" in ctype \
                and b"</html>" not in response.body[-4096:].lower():
            raise TruncatedResponse("truncated body: no Content-Length, and the connection closed before </html>")
        return response

    def _complete(self, body: bytes, encoding: str) -> bool:
        """Does the compressed stream reach its end? Output is dropped, and bounded by DOWNLOAD_MAXSIZE
        (past that, Scrapy's own decompression refuses the body)."""
        d = zlib.decompressobj(47 if encoding != "deflate" else 15)
        try:
            out = len(d.decompress(body, 1 << 16))
            while d.unconsumed_tail and not d.eof:
                out += len(d.decompress(d.unconsumed_tail, 1 << 16))
                if self.maxsize and out > self.maxsize:
                    return True
        except zlib.error:
            if encoding != "deflate":
                return False
            d = zlib.decompressobj(-15)       # raw deflate, as some servers send it
            try:
                d.decompress(body)
            except zlib.error:
                return False
        return d.eof


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every request that waits for a host's robots.txt
    given its parser. Scrapy's hands the parser to the first waiter and None (which allows
    everything) to the others: a resumed crawl, whose queued requests for a host start at once,
    fetched pages robots.txt forbids."""

    async def robot_parser(self, request):
        from scrapy.utils.httpobj import urlparse_cached
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            mine: Deferred = Deferred()

            def share(result):
                mine.callback(result)
                return result           # passed on to the next waiter
            pending.addBoth(share)
            return await maybe_deferred_to_future(mine)
        return await super().robot_parser(request)


class ChallengeMiddleware:
    """Recognise answers that are not the page asked for, and never let them become versions.

    Anti-bot challenges (a 瑞数-style 202/412 with a $_ts script), WAF block pages and "访问过于
    频繁" notices are ``blocked``; pages that say the page is not there (served 200) and
    redirects to a site's home page are ``soft_404`` (rules.toml [challenge]). The request's
    meta carries the verdict to the spider, which records it as such a fetch. On a challenge the
    host is slowed down (one request at a time, CHALLENGE_DELAY seconds apart) and after
    CHALLENGE_STOP of them it is stopped for the rest of the crawl. Nothing here solves or works
    around a challenge.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.stop_after = crawler.settings.getint("CHALLENGE_STOP", 3)
        self.delay = crawler.settings.getfloat("CHALLENGE_DELAY", 30.0)
        self.challenges: dict[str, int] = {}
        self.stopped: dict[str, int] = {}
        crawler.signals.connect(self.report, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        host = urlsplit(request.url).hostname or ""
        if host in self.stopped:
            self.stopped[host] += 1
            raise IgnoreRequest(f"host stopped after {self.stop_after} challenge pages: {host}")
        return None

    def process_response(self, request, response, spider=None):
        verdict = refusal(request, response)
        if verdict is None:
            return response
        request.meta["refused"] = verdict
        self.crawler.stats.inc_value(f"govarchive/{verdict[0]}")
        if verdict[0] == "blocked":
            self._slow_down(request, urlsplit(request.url).hostname or "")
        return response

    def _slow_down(self, request, host: str) -> None:
        n = self.challenges[host] = self.challenges.get(host, 0) + 1
        slot = self.crawler.engine.downloader.slots.get(request.meta.get("download_slot") or host)
        if slot is not None:
            slot.concurrency, slot.delay = 1, max(slot.delay, self.delay)
        if n >= self.stop_after and host not in self.stopped:
            self.stopped[host] = 0
            log.warning("%s answered %d challenge pages: stopping it for the rest of this crawl", host, n)

    def report(self, spider=None):
        for host, skipped in self.stopped.items():
            log.warning("stopped host %s after %d challenge pages; %d requests to it were not sent",
                        host, self.challenges.get(host, 0), skipped)
            self.crawler.stats.set_value(f"govarchive/stopped_host/{host}", skipped)


HOME_PATHS = ("", "/", "/index.html", "/index.htm", "/index.shtml", "/index.jsp", "/index.php")


def refusal(request, response) -> tuple[str, str] | None:
    """('blocked' | 'soft_404', why) for a response that is not the page asked for, else None."""
    from .rules import rules
    from archive.imports import not_html
    rc = rules().challenge
    head = response.body[:20000]
    if response.status == 200 and head and not_html(head):
        return None         # a PDF, an Office file, an image: never a challenge or not-found page
    text = head.decode("utf-8", "ignore") + head.decode("gb18030", "ignore")
    if response.status in rc["script_statuses"] and any(m in text for m in rc["script_markers"]):
        return "blocked", f"HTTP {response.status} anti-bot challenge (a script that sets a cookie): not archived"
    marker = next((m for m in rc["block_markers"] if m in text), None)
    if marker and len(response.body) < 100_000:
        return "blocked", f"HTTP {response.status} block or rate-limit page ({marker}): not archived"
    first = (request.meta.get("redirect_urls") or [None])[0]
    if first and urlsplit(response.url).path in HOME_PATHS and urlsplit(first).path not in HOME_PATHS:
        return "soft_404", f"redirected to the home page {response.url}: the page is gone"
    if response.status == 200 and request.meta.get("conditional"):
        marker = next((m for m in rc["soft404_markers"] if m in text), None)
        if marker and _visible_chars(head) <= rc["soft404_max_text"]:
            return "soft_404", f"the portal says the page is not there ({marker}), with HTTP 200"
    return None


def _visible_chars(html: bytes) -> int:
    import re
    text = re.sub(rb"(?is)<(script|style)[^>]*>.*?</\1>|<[^>]+>|\s+|&nbsp;", b"", html)
    return len(text.decode("utf-8", "ignore"))
