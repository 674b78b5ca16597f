"""Clean main text and 政府信息公开 metadata from a portal page.

One parse per page: the lxml tree is cleaned (hidden content, random-id tags, metadata blocks,
title, furniture), its body container found by the rules in rules.toml, and that subtree handed
to trafilatura (favouring recall); line rules then take out what trafilatura leaves in (spam
lines, spider pools, pinyin, chrome). Metadata blocks become fields, not text.
"""
from __future__ import annotations

import json
import logging
import operator
import re
import threading
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from archive.store import Content

from . import attachments as A
from . import cleaning as C
from . import metadata as M
from .encoding import charset_from_content_type, damage, decode
from .rules import rules

HAN = re.compile(r"[\u4e00-\u9fff]")
log = logging.getLogger(__name__)
MAX_BYTES = 16 * 1024 * 1024


class ExtractionError(ValueError):
    """The input is not an HTML page that text can be extracted from (empty, binary, too large)."""


@dataclass
class Document(Content):
    """An extracted page or file: what the archive keeps (Content), with its URL and script."""
    url: str = ""
    script: str = "simplified"

    def to_dict(self) -> dict:
        d = vars(self)      # shallow: a crawl builds one per page, and nothing mutates it
        return {"url": d["url"], **{k: v for k, v in d.items() if k != "url"}}

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kw)


def extractor_version() -> str:
    return rules().version


PART_MARK = b"\n<!--govarchive:next-part-->\n"


def extract(body: bytes | str, url: str, encoding: str | None = None, ocr: bool = False) -> Document:
    """Extract one page. ``encoding`` is the HTTP charset (or a Content-Type value) if known.
    A body of several parts joined by PART_MARK (an article a CMS split over pages, archived
    together) is one document: its parts' texts in order, title and metadata from the first.
    An attachment (PDF, Word, WPS, spreadsheet, OFD, ZIP) is read by its format's reader; ``ocr``:
    scanned pages go to Tesseract."""
    if isinstance(body, bytes):
        fmt = A.sniff(body, url)
        claimed = A.claimed(url, encoding) if fmt is None else None
        if claimed and b"<" not in body[:1024]:
            raise ExtractionError(f"broken file: the link says {claimed.upper()}, the bytes are no such file")
        if fmt:
            try:
                return _extract_file(body, url, fmt, ocr)
            except A.FileError as e:
                raise ExtractionError(str(e)) from e
    if isinstance(body, bytes) and PART_MARK in body:
        return _extract_parts(body.split(PART_MARK), url, encoding)
    text, enc = _to_text(body, encoding)
    root = _parse(text)
    junk: Counter = Counter()
    script = _script(root)
    norm = C.Normaliser(script == "traditional")

    C.remove_hidden(root, junk)
    C.remove_random_id_tags(root, junk)
    C.remove_tags(root)
    C.unwrap_layout_tables(root)
    container = _container(root)
    blocks = M.find_blocks(root, norm, container)
    raw_meta = M.parse_blocks(blocks, norm)
    for b in blocks:
        if b.getparent() is not None:
            b.drop_tree()
    for k, v in M.lone_labels(root, norm).items():
        raw_meta.setdefault(k, v)
    title_el, title = _title(root, raw_meta)
    C.remove_chrome_elements(root, junk)
    if title_el is not None and title_el is not container and title_el.getparent() is not None:
        if not _inside(container, title_el) or C.fold(title_el.text_content()) == title:
            title_el.drop_tree()
    attachments = _attachments(root, url, container)
    C.remove_furniture(root, norm, junk, container)
    damaged = damage((container if container is not None else root).text_content()) + (damage(title) if title else 0)

    lines = _main_text(root, container)
    lines, pinyin_n = _strip_pinyin_lines(lines)
    title, title_pinyin = C.strip_pinyin(title) if title else (None, 0)
    lines = C.clean_lines(lines, norm, title, junk)

    meta = M.structured(raw_meta, norm)
    validity_from_title = False
    if title:
        title, validity_from_title = M.strip_validity_marker(title, norm)
    lines, validity_from_body = _body_validity_marker(lines, norm)
    if validity_from_title or validity_from_body:
        meta["validity"] = "invalid"

    body_text = "\n".join(lines)
    simplified = C.t2s().convert(body_text) if script == "traditional" else body_text
    reply = M.reply_facts(title or "", lines, norm)
    flags = {
        "mirror": _is_mirror(url, junk, pinyin_n + title_pinyin),
        "pinyin_removed": pinyin_n + title_pinyin,
        "junk_removed": dict(sorted(junk.items())),
        "encoding_damage": damaged,
        "encoding": enc,
        "no_main_text": not body_text,
    }
    return Document(
        url=url, title=title or None, text=body_text, text_simplified=simplified, script=script,
        published_date=meta["published_date"] or _date_line(root, text) or _url_date(url),
        metadata=meta, reply=reply, attachments=attachments, flags=flags, extractor_version=extractor_version())


def _extract_parts(parts: list[bytes], url: str, encoding: str | None) -> Document:
    from dataclasses import replace
    docs = [extract(p, url, encoding) for p in parts]
    first = docs[0]
    lines = [ln for d in docs for ln in d.text.split("\n") if ln]
    norm = C.Normaliser(first.script == "traditional")
    atts = list({a["url"]: a for d in docs for a in d.attachments}.values())
    text = "\n".join(lines)
    return replace(first, text=text, attachments=atts, reply=M.reply_facts(first.title or "", lines, norm),
                   text_simplified=C.t2s().convert(text) if first.script == "traditional" else text,
                   flags=dict(first.flags, parts=len(docs), no_main_text=not text))


def _extract_file(body: bytes, url: str, fmt: str, ocr: bool) -> Document:
    """An attachment as a document: its text lines, the title its properties give (else its
    first line), and its format. A file with pages no text shows (a scan, a scanned annex) keeps
    its bytes' hash in its metadata, so a new scan is still a new version."""
    import hashlib
    title, lines, facts = A.read(body, fmt, ocr)
    if title and (title.lower() in ("untitled", "无标题") or title.lower().endswith((".doc", ".docx", ".wps"))):
        title = None
    title = title or (lines[0][:120] if lines else urlsplit(url).path.rsplit("/", 1)[-1])
    text = "\n".join(lines)
    unread = not text or facts.get("needs_ocr")     # pages no text shows: only the bytes tell a new scan
    meta = {"sha256": hashlib.sha256(body).hexdigest()} if unread else {}
    flags = dict(facts, format=fmt, no_main_text=not text)
    script = script_of(text)
    simplified = C.t2s().convert(text) if script == "traditional" else text
    return Document(url=url, title=title, text=text, text_simplified=simplified, script=script,
                    published_date=None, metadata=meta, reply=None, flags=flags,
                    extractor_version=extractor_version())


def extract_or_error(body: bytes | str, url: str, encoding: str | None = None,
                     ocr: bool = False) -> tuple[Document | None, str | None]:
    """(document, None), or (None, a clear message): for crawls, where one bad page must not stop the rest."""
    try:
        return extract(body, url, encoding, ocr), None
    except ExtractionError as e:
        return None, f"extraction failed: {e}"
    except Exception as e:  # noqa: BLE001 - hostile input: report it, keep crawling
        log.exception("extraction crashed on %s", url)
        return None, f"extraction crashed: {type(e).__name__}: {e}"


# ---------------------------------------------------------------------------------------------

def _to_text(body: bytes | str, encoding: str | None) -> tuple[str, str]:
    if isinstance(body, str):
        text, enc = body, "unicode"
    else:
        if len(body) > MAX_BYTES:
            raise ExtractionError(f"page of {len(body)} bytes is over the {MAX_BYTES}-byte limit")
        from archive.imports import not_html
        why = not_html(body)
        if why and body.strip():
            raise ExtractionError(f"not HTML: {why}")
        text, enc = decode(body, charset_from_content_type(encoding) or encoding)
    if not text.strip():
        raise ExtractionError("empty body")
    sample = text[:20000]
    if len(CONTROL.findall(sample)) + sample.count("\ufffd") > len(sample) // 50 + 1:
        raise ExtractionError("not HTML: binary content")
    return text, enc


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _parse(text: str):
    text = CONTROL.sub("", text)      # characters lxml (and XML) refuse
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)    # lxml refuses str input with an encoding declaration
    try:
        root = lxml.html.document_fromstring(text, parser=_parser())
    except (etree.ParserError, ValueError) as e:
        raise ExtractionError(f"unparseable HTML: {e}") from e
    if root is None:
        raise ExtractionError("unparseable HTML: no document element")
    return root


_local = threading.local()      # lxml parsers must not be shared between threads


def _parser() -> etree.HTMLParser:
    """An HTML parser whose elements are all lxml.html.HtmlElement (what trafilatura expects),
    chosen in C: lxml.html's own parser calls a Python lookup for every element it touches."""
    if getattr(_local, "parser", None) is not None:
        return _local.parser
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False, huge_tree=True)
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity))
    _local.parser = parser
    return parser


def _script(root) -> str:
    body = root.find("body")
    return script_of((body if body is not None else root).text_content())


def script_of(text: str) -> str:
    """'traditional' when the Han text changes under t2s noticeably, else 'simplified'."""
    sample = "".join(HAN.findall(text))[:6000]
    if len(sample) < 4:
        return "simplified"
    conv = C.t2s().convert(sample)
    changed = sum(map(operator.ne, sample, conv))      # counted in C: pages have thousands of characters
    return "traditional" if changed >= 3 and changed / len(sample) > 0.02 else "simplified"


def _container(root):
    for xp in rules().containers:
        for el in xp(root):
            if len(HAN.findall(el.text_content())) >= 20:
                return el
    return None


def _inside(container, el) -> bool:
    return container is not None and any(a is container for a in el.iterancestors())


def _title(root, raw_meta: dict):
    """The page's own title, never the site's name: the title rules (ArticleTitle meta, CMS title
    classes), the metadata block's 标题, a heading that <title> contains, any other heading that
    is not the site's name or furniture, and last <title> with the part naming the site taken off."""
    r = rules()
    sites = _site_names(root)
    for xp in r.titles:
        for hit in xp(root):
            text = C.fold(hit if isinstance(hit, str) else hit.text_content())
            if len(HAN.findall(text)) >= 4 and not _site_like(text, sites):
                return (None if isinstance(hit, str) else hit), text
    if raw_meta.get("title"):
        return None, raw_meta["title"]
    page_title = C.fold(root.findtext(".//title") or "")
    flat = _flat(page_title)
    heads = [(el, C.fold(el.text_content())) for xp in r.generic_titles for el in xp(root)]
    heads = [(el, t) for el, t in heads if 4 <= len(HAN.findall(t)) and len(t) <= 120 and not _site_like(t, sites)
             and not C._chrome(r.chrome_edges, t)]
    for el, t in heads:
        if len(_flat(t)) >= 6 and _flat(t) in flat:
            return el, t
    for el, t in heads:
        if el.tag in ("h1", "h2"):
            return el, t
    if page_title:
        parts = [x for x in split_title(page_title) if x and not _site_like(x, sites)]
        best = max(parts, key=lambda x: len(HAN.findall(x)), default=None)
        return None, best or page_title
    return None, None


SITE_WORDS = re.compile(r"(?:人民政府|政府网|网站|门户网|门户网站|官方网站|官网|政府门户|中国政府网)$")


def _site_names(root) -> set[str]:
    """What the page says its site is called: <meta name="SiteName">, the footer's 主办单位."""
    names = {_flat(x) for x in root.xpath("//meta[@name='SiteName' or @name='sitename']/@content") if x.strip()}
    for t in root.xpath("//text()[contains(., '主办')]"):
        m = re.search(r"主办(?:单位)?\s*[:：]\s*(\S{2,30})", t)
        if m:
            names.add(_flat(m.group(1)))
    return names


def _flat(s: str) -> str:
    return re.sub(r"[\s\-_|｜–—:：·•]+", "", s)


def _site_like(text: str, sites: set[str]) -> bool:
    """A site's name (or a logo's, a footer's), not a document's title."""
    f = _flat(text)
    if any(f == n or (n and n in f and len(f) <= len(n) + 3) or (f and f in n) for n in sites):
        return True
    return len(f) <= 16 and bool(SITE_WORDS.search(f))


OPEN, CLOSE = "(（【[《〔<", ")）】]》〕>"


def split_title(t: str) -> list[str]:
    """<title> split at its separators (_ | ｜, and dashes), never inside brackets nor between digits
    ('1-10月', '(2018—2020年)' stay whole)."""
    parts, cur, depth = [], [], 0
    for i, ch in enumerate(t):
        depth += (ch in OPEN) - (ch in CLOSE and depth > 0)
        prev, nxt = t[i - 1] if i else "", t[i + 1] if i + 1 < len(t) else ""
        dash = ch in "-–—" and not (prev.isdigit() and nxt.isdigit())
        if depth == 0 and (ch in "_|｜" or dash):
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return [p for p in parts if p]


def _main_text(root, container) -> list[str]:
    """Trafilatura over the body container (or the whole cleaned page), favouring recall."""
    import trafilatura      # here, not at the top: a crawl's main process need not load it
    if container is not None:
        wrapper = lxml.html.Element("html")
        body = etree.SubElement(wrapper, "body")
        body.append(_copy(container))
        tree = wrapper
    else:
        tree = root
    out = trafilatura.extract(tree, favor_recall=True, fast=True, include_tables=True, include_comments=False,
                              include_images=False, include_links=False, deduplicate=False, output_format="txt",
                              with_metadata=False, url=None)
    if not out and container is not None:
        out = "\n".join(t for t in (C.fold(x) for x in container.itertext()) if t)
    return _table_cells((out or "").split("\n"))


TABLE_ROW = re.compile(r"^\s*\|(.*)\|\s*$")


def _table_cells(lines: list[str]) -> list[str]:
    """A data table's cells, one per line in reading order (row by row), as a reader copies them
    and as the corpus gold has them; trafilatura writes a row as '| a | b |'."""
    out = []
    for ln in lines:
        m = TABLE_ROW.match(ln)
        if m:
            out.extend(c.strip() for c in m.group(1).split(" | ") if c.strip() and c.strip() != "|")
        else:
            out.append(ln)
    return out


def _copy(el):
    from copy import deepcopy
    c = deepcopy(el)
    c.tail = None
    return c


def _strip_pinyin_lines(lines: list[str]) -> tuple[list[str], int]:
    total = 0
    out = []
    for ln in lines:
        s, n = C.strip_pinyin(ln)
        total += n
        out.append(s)
    return out, total


def _body_validity_marker(lines: list[str], norm) -> tuple[list[str], bool]:
    if lines and re.fullmatch(r"[\(（【\[]?\s*此文件已失效\s*[\)）】\]]?\s*[。.]?", norm(lines[0])):
        return lines[1:], True
    return lines, False


DATE_LINE = re.compile(r"(?:发布时间|發佈時間|發布時間|发布日期|發佈日期|發布日期|日期)\s*[:：]\s*(\d{4}-\d{1,2}-\d{1,2})")


def _date_line(root, text: str) -> str | None:
    m = DATE_LINE.search(C.PINYIN.sub("", text))
    if m:
        return M.iso_date(m.group(1))
    pub = root.xpath("//meta[@name='PubDate' or @name='pubdate' or @name='publishdate']/@content")
    return M.iso_date(pub[0]) if pub else None


URL_DATES = [re.compile(r"/html/\d+/(\d{4}-\d{2}-\d{2})/content-\d+\.html"),
             re.compile(r"/(\d{4})_(\d{2})/(\d{2})_\d{2}/content-\d+\.html"),
             re.compile(r"/t(\d{4})(\d{2})(\d{2})_\d+\.html")]


def _url_date(url: str) -> str | None:
    """Portal URL schemes that carry the publish date (portals.md: Panjin, subsites, TRS) [C]."""
    from .portals import is_portal_host
    if not is_portal_host(urlsplit(url).hostname or ""):
        return None
    path = urlsplit(url).path
    for rx in URL_DATES:
        m = rx.search(path)
        if m:
            return M.iso_date("-".join(m.groups()))
    return None


def _attachments(root, url: str, container) -> list[dict]:
    r = rules()
    base = root.xpath("//base/@href")
    base_url = urljoin(url, base[0]) if base else url
    seen, out = set(), []
    scope = container.getparent() if container is not None and container.getparent() is not None else root
    scope = scope.getparent() if scope.getparent() is not None and scope.tag != "body" else scope
    for a in scope.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        path = urlsplit(href).path.lower()
        if not (path.endswith(r.attachment_suffixes) or any(m in href for m in r.attachment_markers)):
            continue
        full = urljoin(base_url, href)
        if full in seen:
            continue
        seen.add(full)
        name = C.fold(a.text_content()) or path.rsplit("/", 1)[-1]
        out.append({"url": full, "name": C.PINYIN.sub("", name)})
    return out


def _is_mirror(url: str, junk: Counter, pinyin: int) -> bool:
    from .portals import is_portal_host
    spammy = pinyin > 0 or junk.get("spam_lines", 0) > 0 or junk.get("random_id_tags", 0) > 0 \
        or junk.get("spider_pool", 0) > 0
    host = urlsplit(url).hostname or ""
    return spammy or (not is_portal_host(host) and is_portal_path(url))


def is_portal_path(url: str) -> bool:
    path = urlsplit(url).path
    return any(rx.search(path) for rx in URL_DATES) or bool(re.search(r"/info/\d+/\d+\.htm$", path))
