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

from crawler.extract import PART_MARK
from crawler.items import PageItem
from crawler.metadata import iso_date
from crawler.pipelines import archive_for
from crawler.portals import Portal, canonical_url

DATE_IN_URL = re.compile(r"(?:/(\d{4})-(\d{2})-(\d{2})/)|(?:/t(\d{4})(\d{2})(\d{2})_)|(?:/(\d{4})_(\d{2})/(\d{2})_)"
                         r"|(?:/art/(\d{4})/(\d{1,2})/(\d{1,2})/)")
POLICY_SKIPS = ("robots.txt", "offsite", "already archived by this job", "challenge pages")
REPLICA_SETTINGS = {            # the replica is ours: no need to be gentle with it
    "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "RETRY_BACKOFF_BASE": 0.05, "CHALLENGE_DELAY": 0.2,
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

    def attachment_request(self, url: str) -> Request:
        """A file a page links (附件): fetched like a page (robots, politeness, conditional, revisit
        policy), from any public host, up to ATTACHMENT_MAXSIZE bytes."""
        size = self.settings.getint("ATTACHMENT_MAXSIZE")
        return Request(url, callback=self.parse_attachment, errback=self.failed, priority=0, dont_filter=True,
                       meta={"conditional": True, "kind": "attachment", "allow_offsite": True,
                             "download_maxsize": size, "download_warnsize": size,
                             "handle_httpstatus_list": [304, 404, 410]})

    def parse_attachment(self, response):
        yield self.page_item(response)

    def page_item(self, response) -> PageItem:
        headers = {k.decode("latin-1").lower(): v[0].decode("latin-1") for k, v in response.headers.items() if v}
        latency = response.meta.get("download_latency")
        refused, why = response.meta.get("refused") or (None, None)
        return PageItem(url=_asked(response.request), status=response.status,
                        body=response.body if response.status == 200 else None,
                        headers=headers, kind=response.meta.get("kind"), error=why, refused=refused,
                        duration_ms=int(latency * 1000) if latency is not None else None)

    def parse_detail(self, response):
        item = self.page_item(response)
        parts = part_urls(response) if response.status == 200 and not item.refused else []
        if parts:       # an article split over pages: its parts are fetched and archived as one body
            yield self.part_request(item, [response.body], parts)
            return
        yield item

    def part_request(self, item: PageItem, bodies: list[bytes], rest: list[str]) -> Request:
        return Request(rest[0], callback=self.parse_part, errback=self.part_failed, priority=2, dont_filter=True,
                       meta={"item": item, "bodies": bodies, "rest": rest[1:], "kind": item.kind})

    def parse_part(self, response):
        item, bodies, rest = response.meta["item"], response.meta["bodies"] + [response.body], response.meta["rest"]
        if response.meta.get("refused") or response.status != 200:
            item.status, item.body = None, None
            item.error = f"part {len(bodies)} of the article ({response.url}) could not be read: HTTP {response.status}"
            yield item
            return
        if rest:
            yield self.part_request(item, bodies, rest)
            return
        item.body = PART_MARK.join(bodies)
        # every part is fetched in full on each check (a change in part 2 must be seen): no validators
        item.headers = {k: v for k, v in item.headers.items() if k not in ("etag", "last-modified", "content-length")}
        yield item

    def part_failed(self, failure):
        item = failure.request.meta["item"]
        item.status, item.body = None, None
        item.error = f"a part of the article ({failure.request.url}) failed: {failure.getErrorMessage()}"[:500]
        yield item

    def failed(self, failure):
        request = failure.request
        if failure.check(scrapy.exceptions.IgnoreRequest) and any(
                s in failure.getErrorMessage() for s in POLICY_SKIPS):
            return   # robots.txt, offsite, already archived by this job: a policy, nothing was fetched
        if failure.check(scrapy.spidermiddlewares.httperror.HttpError):     # 5xx after retries, 403 …
            refused, why = request.meta.get("refused") or (None, None)
            yield PageItem(url=_asked(request), status=failure.value.response.status, kind=request.meta.get("kind"),
                           error=why, refused=refused)
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
        self._lists_seen: set[str] = set()
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
            yield self.list_request(self.portal.base + lst["path"], lst, 1, 0)

    def list_request(self, url: str, lst: dict, page: int, stale: int) -> Request:
        # dont_filter: a resumed job re-walks its lists; this crawl's own guard is _lists_seen
        return Request(url, callback=self.parse_list, dont_filter=True,
                       meta={"kind": lst["kind"], "page": page, "list": lst["path"], "stale": stale})

    def parse_list(self, response):
        """Detail requests for the list's entries, then its next pages. Paging always ends: no list
        URL is fetched twice, links to the same page or to nowhere are not pages, a list stops at
        LIST_MAX_PAGES pages, and after two pages in a row that add no new document."""
        self._lists_seen.add(_page_key(response.url))
        if response.meta.get("refused"):
            self.logger.warning("list %s: %s", response.url, response.meta["refused"][1])
            return
        items = self.list_items(response)
        kind = response.meta["kind"]
        new = 0
        for url, when in items:
            if self.since and when and when < self.since:
                continue
            if url not in self._seen_details:
                self._seen_details.add(url)
                new += 1
                yield self.detail_request(url, kind)
        dated = [w for _, w in items if w]
        if self.since and dated and max(dated) < self.since:
            return      # lists are newest first: everything further is older still
        stale = 0 if new else response.meta.get("stale", 0) + 1
        if stale >= 2:
            self.logger.info("list %s: two pages in a row added no new document; paging stops at %s",
                             response.meta["list"], response.url)
            return
        lst = next(x for x in self.portal.lists if x["path"] == response.meta["list"])
        cap = self.settings.getint("LIST_MAX_PAGES", 1000)
        for k, url in self.next_pages(response):
            if self.max_pages and k > self.max_pages:
                continue
            if k > cap:
                self.logger.warning("list %s: LIST_MAX_PAGES=%d reached; the rest of this list is not crawled",
                                    response.meta["list"], cap)
                self.crawler.stats.inc_value("govarchive/list_max_pages_reached")
                break
            if not _is_page_link(url, response.url) or _page_key(url) in self._lists_seen:
                continue
            self._lists_seen.add(_page_key(url))
            yield self.list_request(url, lst, k, stale)

    def list_items(self, response) -> list[tuple[str, str | None]]:
        """(detail URL, date if the list shows one) for the detail links of the list's own block:
        the family's list container, else the element holding most of the page's detail links
        (side boxes of other channels carry such links too, and are left out)."""
        entries = []
        for a in response.xpath("//a[@href]"):
            url = response.urljoin(a.attrib["href"])
            if self._is_detail(url):
                row = " ".join(a.xpath("./ancestor::*[self::li or self::tr][1]//text()").getall())
                entries.append((a.root, url, iso_date(row)))
        out, seen = [], set()
        for _, url, when in _in_list_block(response, entries, self.portal.list_container):
            if url not in seen:
                seen.add(url)
                out.append((url, when or _date_from_url(url)))
        return out

    def _is_detail(self, url: str) -> bool:
        u = urlsplit(url)
        return u.hostname in self.allowed_domains and bool(self.portal.detail.search(u.path))

    def next_pages(self, response) -> list[tuple[int, str]]:
        raise NotImplementedError


NEXT_TEXTS = ("下一页", "下页", "后一页", "下一頁")


class NextLinkSpider(PortalSpider):
    """PHP168 P8 (Panjin platform and its subsites): follow the 下一页 anchor, whichever of P8's
    pager templates drew it; its last page's 下一页 points at '###' or at the page itself [C/I]."""

    def next_pages(self, response):
        for a in response.xpath("//a[@href]"):
            if "".join(a.xpath(".//text()").getall()).strip() in NEXT_TEXTS:
                url = response.urljoin(a.attrib["href"])
                if _is_page_link(url, response.url, a.attrib["href"]):
                    return [(response.meta["page"] + 1, url)]
        return []


PAGE_VARS = re.compile(r"\b(?:var\s+)?([A-Za-z_$][\w$]*)\s*=\s*(\d+)")
CREATE_PAGE = re.compile(r"createPage(?:HTML)?\s*\(\s*([A-Za-z_$][\w$]*|\d+)")


class TrsWcmSpider(PortalSpider):
    """TRS WCM: page 1 is index.html, page n is index_{n-1}.html. The page count is the first
    argument of createPage(N, …) or createPageHTML(N, …), a number or a script variable
    (countPage, …), else m_nRecordCount / m_nPageSize [C]."""

    def next_pages(self, response):
        if response.meta["page"] != 1:
            return []
        total = trs_page_count(response.text)
        return [(n, urljoin(response.url, f"index_{n - 1}.html")) for n in range(2, total + 1)]


def trs_page_count(text: str) -> int:
    scripts = " ".join(re.findall(r"<script[^>]*>(.*?)</script>", text, re.S | re.I)) or text
    values = {k: int(v) for k, v in PAGE_VARS.findall(scripts)}
    m = CREATE_PAGE.search(scripts)
    if m:
        arg = m.group(1)
        return int(arg) if arg.isdigit() else values.get(arg, 1)
    if values.get("m_nRecordCount") and values.get("m_nPageSize"):
        return -(-values["m_nRecordCount"] // values["m_nPageSize"])
    return values.get("countPage", 1)


class VsbSpider(PortalSpider):
    """VSB: page 1 is {column}.htm, page k is {column}/{N-k+1}.htm, counting down [G]. The count is
    'k/N' in the pager: span.p_pages, .pb_sys_common, or the older <td id="fanye…"> table [C]."""
    PAGER = ".p_pages ::text, .pb_sys_common ::text, td[id^=fanye] ::text"
    PAGER_LINKS = ".p_pages a::text, .pb_sys_common a::text, td[id^=fanye] a::text"

    def next_pages(self, response):
        if response.meta["page"] != 1:
            return []
        pager = " ".join(response.css(self.PAGER).getall())
        m = re.search(r"\d+\s*/\s*(\d+)", pager)
        nums = [int(t) for t in response.css(self.PAGER_LINKS).getall() if t.strip().isdigit()]
        total = int(m.group(1)) if m else max(nums, default=1)
        column = response.url.rsplit("/", 1)[1][: -len(".htm")]
        return [(k, urljoin(response.url, f"{column}/{total - k + 1}.htm")) for k in range(2, total + 1)]


class HanwebSpider(PortalSpider):
    """Hanweb 大汉 jcms: a column's records are CDATA <li> fragments of a jpage datastore, inline in
    the first page and served by dataproxy.jsp for the others (XML); the page count is
    <totalpage>, else totalRecord / perPage of the page's jpage script [C]."""
    RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)

    def list_items(self, response):
        records = self.RECORD.findall(response.text)
        if not records:
            return super().list_items(response)
        out, seen = [], set()
        for frag in records:
            sel = scrapy.Selector(text=frag)
            for a in sel.xpath("//a[@href]"):
                url = response.urljoin(a.attrib["href"])
                if url in seen or not self._is_detail(url):
                    continue
                seen.add(url)
                out.append((url, iso_date(" ".join(sel.xpath("//text()").getall())) or _date_from_url(url)))
        return out

    def next_pages(self, response):
        if response.meta["page"] != 1:
            return []
        text = response.text
        field = lambda name: (re.search(rf"\b{name}\s*:\s*'?(\d+)", text) or [None, None])[1]
        pages = re.search(r"<totalpage>(\d+)</totalpage>", text)
        total, per = field("totalRecord"), field("perPage")
        n = int(pages.group(1)) if pages else (-(-int(total) // int(per)) if total and per and int(per) else 1)
        col, unit, webid = field("columnid"), field("unitid"), field("webid")
        if not (col and unit and webid):
            return []
        return [(k, urljoin(response.url, f"/module/web/jpage/dataproxy.jsp?page={k}&appid=1&webid={webid}&path=/"
                                          f"&columnid={col}&unitid={unit}&permissiontype=0")) for k in range(2, n + 1)]


FAMILIES = {"next_link": NextLinkSpider, "create_page": TrsWcmSpider, "vsb": VsbSpider, "hanweb": HanwebSpider}


def _asked(request) -> str:
    """The URL the crawl asked for: documents keep their identity across redirects."""
    return request.meta.get("redirect_urls", [request.url])[0]


def _date_from_url(url: str) -> str | None:
    m = DATE_IN_URL.search(urlsplit(url).path)
    if not m:
        return None
    y, mo, d = [g for g in m.groups() if g][:3]
    return iso_date(f"{y}-{mo}-{d}")


def _page_key(url: str) -> str:
    return canonical_url(url.split("#", 1)[0])


def _is_page_link(url: str, current: str, href: str | None = None) -> bool:
    """A pager link that leads to another page: not '#', '###', 'javascript:' nor the page itself."""
    raw = (href if href is not None else url).strip()
    if not raw or raw.startswith("#") or raw.lower().startswith("javascript:"):
        return False
    return _page_key(url) != _page_key(current)


def _in_list_block(response, entries: list, container: str | None) -> list:
    """The (element, URL, row date) entries inside the list's own block: the family's container
    if it holds any, else the innermost element holding at least 60% of them (of the dated
    ones, where the list shows dates)."""
    if container:
        members = {el for b in response.xpath(container) for el in b.root.iter()}
        inside = [e for e in entries if e[0] in members]
        if inside:
            return inside
    if len(entries) < 3:
        return entries
    pool = [e for e in entries if e[2]] or entries      # a list shows its entries' dates; a side box seldom does
    counts: dict = {}
    for el, _, _ in pool:
        for anc in el.iterancestors():
            counts[anc] = counts.get(anc, 0) + 1
    best = max((el for el, n in counts.items() if n >= 0.6 * len(pool)), key=lambda el: sum(1 for _ in el.iterancestors()))
    members = set(best.iter())
    return [e for e in entries if e[0] in members]


def part_urls(response) -> list[str]:
    """The further pages of an article a CMS split: links from the page to {stem}-{k}.html (PHP168
    P8) or {stem}_{k}.html (TRS), in order."""
    stem = response.url.split("?", 1)[0]
    if not stem.endswith((".html", ".htm")) or not isinstance(response, scrapy.http.TextResponse):
        return []
    base, ext = stem.rsplit(".", 1)
    rx = re.compile(re.escape(base) + r"[-_](\d{1,3})\." + ext + "$")
    found = {}
    for href in response.xpath("//a/@href").getall():
        url = response.urljoin(href.strip())
        m = rx.match(url)
        if m:
            found[int(m.group(1))] = url
    return [found[k] for k in sorted(found)]
