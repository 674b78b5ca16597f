"""Spider bases: what every portal crawl shares, and one class per CMS family for its pagination.

A portal spider walks its list pages to the last page (or ``-a max_pages=N``, or until a page is
older than ``-a since=YYYY-MM-DD``) and requests every detail page they link, conditionally.
Detail responses, failures included, become PageItems for the extraction and archive pipelines.
"""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import urljoin, urlsplit

import scrapy
import scrapy.spidermiddlewares.httperror
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider

from crawler.items import PageItem
from crawler.metadata import iso_date
from crawler.pipelines import archive_for
from crawler.portals import Portal, canonical_url

DATE_IN_URL = re.compile(r"(?:/(\d{4})-(\d{2})-(\d{2})/)|(?:/t(\d{4})(\d{2})(\d{2})_)|(?:/(\d{4})_(\d{2})/(\d{2})_)")
POLICY_SKIPS = ("robots.txt", "offsite", "already archived by this job")
REPLICA_SETTINGS = {            # the replica is ours: no need to be gentle with it
    "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "RETRY_BACKOFF_BASE": 0.05,
}


class ArchiveSpider(scrapy.Spider):
    """Turns detail responses and failures into PageItems."""

    ARGUMENTS: dict[str, str] = {}      # -a name=value the spider takes, with what each means

    @classmethod
    def check_arguments(cls, args: dict) -> None:
        """Unknown or malformed -a arguments, as one UsageError line, before the crawl starts."""
        unknown = sorted(set(args) - set(cls.ARGUMENTS))
        if unknown:
            accepted = ", ".join(f"{k}={v}" for k, v in cls.ARGUMENTS.items()) or "none"
            raise scrapy.exceptions.UsageError(f"unknown argument -a {unknown[0]}={args[unknown[0]]}; "
                                               f"accepted: {accepted}")
        cls.parse_arguments(**args)

    @classmethod
    def parse_arguments(cls, **args) -> dict:
        return args

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        if settings.get("REPLICA"):
            for k, v in REPLICA_SETTINGS.items():
                settings.set(k, v, priority="spider")

    def detail_request(self, url: str, kind: str | None) -> Request:
        # dont_filter: a crawl de-duplicates detail pages itself, and a resumed job learns what is
        # done from the archive, not from JOBDIR's seen-set (which a kill leaves ahead of the truth)
        return Request(url, callback=self.parse_detail, errback=self.failed, priority=1, dont_filter=True,
                       meta={"conditional": True, "kind": kind, "handle_httpstatus_list": [304, 404, 410]})

    def parse_detail(self, response):
        headers = {k.decode("latin-1").lower(): v[0].decode("latin-1") for k, v in response.headers.items() if v}
        latency = response.meta.get("download_latency")
        yield PageItem(url=_asked(response.request), status=response.status,
                       body=response.body if response.status == 200 else None,
                       headers=headers, kind=response.meta.get("kind"),
                       duration_ms=int(latency * 1000) if latency is not None else None)

    def failed(self, failure):
        request = failure.request
        if failure.check(scrapy.exceptions.IgnoreRequest) and any(
                s in failure.getErrorMessage() for s in POLICY_SKIPS):
            return   # robots.txt, offsite, already archived by this job: a policy, nothing was fetched
        if failure.check(scrapy.spidermiddlewares.httperror.HttpError):     # 5xx after retries, 403 …
            yield PageItem(url=_asked(request), status=failure.value.response.status, kind=request.meta.get("kind"))
            return
        yield PageItem(url=_asked(request), status=None, kind=request.meta.get("kind"),
                       error=f"{failure.type.__name__}: {failure.getErrorMessage()}"[:500])


class PortalSpider(ArchiveSpider):
    """A portal from crawler/portals.toml: list pages, pagination by family, detail pages."""

    portal: Portal
    ARGUMENTS = {"since": "YYYY-MM-DD (stop paging once lists are older)", "max_pages": "N (list pages per column)",
                 "revisit": "0|1 (check archived pages no list links any more)"}

    @classmethod
    def parse_arguments(cls, since: str | None = None, max_pages: str | None = None, revisit: str | None = None,
                        **_) -> dict:
        try:
            since = date.fromisoformat(since).isoformat() if since else None
        except ValueError:
            raise scrapy.exceptions.UsageError(f"-a since={since}: not a date; give YYYY-MM-DD") from None
        if max_pages and not (max_pages.isdigit() and int(max_pages) > 0):
            raise scrapy.exceptions.UsageError(f"-a max_pages={max_pages}: give a whole number of at least 1")
        if revisit and revisit.lower() not in ("0", "1", "true", "false", "yes", "no"):
            raise scrapy.exceptions.UsageError(f"-a revisit={revisit}: give 0 or 1")
        # A full crawl also revisits archived documents no list links any more, to see removals.
        full = not (since or max_pages)
        return {"since": since, "max_pages": int(max_pages) if max_pages else None,
                "revisit": (revisit or ("1" if full else "0")).lower() not in ("0", "false", "no")}

    def __init__(self, since: str | None = None, max_pages: str | None = None, revisit: str | None = None,
                 *args, **kwargs):
        super().__init__(*args, **kwargs)
        parsed = self.parse_arguments(since, max_pages, revisit)
        self.since, self.max_pages, self.revisit = parsed["since"], parsed["max_pages"], parsed["revisit"]
        self.allowed_domains = [self.portal.host, *self.portal.aliases]
        self._seen_details: set[str] = set()
        self._revisited = False

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.revisit_unlisted, signal=signals.spider_idle)
        return spider

    def revisit_unlisted(self):
        """When the lists are done: request archived documents that no list linked this time."""
        if self._revisited or not self.revisit:
            return
        self._revisited = True
        seen = {canonical_url(u) for u in self._seen_details}
        missing = [u for u in archive_for(self.crawler).active_urls(self.portal.key) if u not in seen]
        for url in missing:     # straight to the engine, past the revisit policy: likely removals
            self.crawler.engine.crawl(self.detail_request(url, None))
        if missing:
            self.logger.info("revisiting %d archived documents no list links any more", len(missing))
            raise DontCloseSpider

    async def start(self):
        for lst in self.portal.lists:
            yield Request(self.portal.base + lst["path"], callback=self.parse_list, dont_filter=True,
                          meta={"kind": lst["kind"], "page": 1, "list": lst["path"]})

    def parse_list(self, response):
        items = self.list_items(response)
        kind = response.meta["kind"]
        for url, when in items:
            if self.since and when and when < self.since:
                continue
            if url not in self._seen_details:
                self._seen_details.add(url)
                yield self.detail_request(url, kind)
        dated = [w for _, w in items if w]
        if self.since and dated and max(dated) < self.since:
            return      # lists are newest first: everything further is older still
        for k, url in self.next_pages(response):
            if self.max_pages and k > self.max_pages:
                continue
            yield Request(url, callback=self.parse_list, dont_filter=True,
                          meta={"kind": kind, "page": k, "list": response.meta["list"]})

    def list_items(self, response) -> list[tuple[str, str | None]]:
        """(detail URL, date if the list shows one) for links matching the family's detail pattern."""
        out, seen = [], set()
        for a in response.css("a[href]"):
            url = response.urljoin(a.attrib["href"])
            if urlsplit(url).hostname not in self.allowed_domains or not self.portal.detail.search(urlsplit(url).path):
                continue
            if url in seen:
                continue
            seen.add(url)
            context = " ".join(a.xpath("./ancestor::*[self::li or self::tr][1]//text()").getall())
            out.append((url, iso_date(context) or _date_from_url(url)))
        return out

    def next_pages(self, response) -> list[tuple[int, str]]:
        raise NotImplementedError


class NextLinkSpider(PortalSpider):
    """Panjin platform and its subsites: follow the 下一页 anchor [I]."""

    def next_pages(self, response):
        for a in response.css("a[href]"):
            if "".join(a.css("::text").getall()).strip() in ("下一页", "下页", "后一页"):
                return [(response.meta["page"] + 1, response.urljoin(a.attrib["href"]))]
        return []


class TrsWcmSpider(PortalSpider):
    """TRS WCM: page 1 is index.html, page n is index_{n-1}.html, createPage(N, …) gives N [C]."""

    def next_pages(self, response):
        if response.meta["page"] != 1:
            return []
        m = re.search(r"createPage\(\s*(\d+)", response.text)
        total = int(m.group(1)) if m else 1
        return [(n, urljoin(response.url, f"index_{n - 1}.html")) for n in range(2, total + 1)]


class VsbSpider(PortalSpider):
    """VSB: page 1 is {column}.htm, page k is {column}/{N-k+1}.htm, counting down [G]."""

    def next_pages(self, response):
        if response.meta["page"] != 1:
            return []
        pager = " ".join(response.css(".p_pages ::text, .pb_sys_common ::text").getall())
        m = re.search(r"\d+\s*/\s*(\d+)", pager)
        nums = [int(t) for t in response.css(".p_pages a::text, .pb_sys_common a::text").getall() if t.strip().isdigit()]
        total = int(m.group(1)) if m else max(nums, default=1)
        column = response.url.rsplit("/", 1)[1][: -len(".htm")]
        return [(k, urljoin(response.url, f"{column}/{total - k + 1}.htm")) for k in range(2, total + 1)]


FAMILIES = {"next_link": NextLinkSpider, "create_page": TrsWcmSpider, "vsb": VsbSpider}


def _asked(request) -> str:
    """The URL the crawl asked for: documents keep their identity across redirects."""
    return request.meta.get("redirect_urls", [request.url])[0]


def _date_from_url(url: str) -> str | None:
    m = DATE_IN_URL.search(urlsplit(url).path)
    if not m:
        return None
    y, mo, d = [g for g in m.groups() if g][:3]
    return iso_date(f"{y}-{mo}-{d}")
