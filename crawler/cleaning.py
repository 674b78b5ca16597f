"""Junk removal: on the parsed tree before trafilatura, and on text lines after it.

Every rule counts what it removes into a ``Counter`` so ``flags.junk_removed`` says what was
taken out of a page and why.
"""
from __future__ import annotations

import re
from collections import Counter

from lxml import etree
from lxml.cssselect import CSSSelector
from cssselect import SelectorError

from archive.text import CONTROLS, t2s     # controls are removed after entities are decoded

from .rules import rules

HAN = r"\u4e00-\u9fff"
TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü"
# One pinyin syllable (tone marks or none), in ASCII or full-width parentheses after a Han char.
SYLLABLE = (rf"(?:[bpmfdtnlgkhjqxrzcsyw]|zh|ch|sh)?[aeiouv{TONED}]+(?:ng|n|r)?")
PINYIN = re.compile(rf"(?<=[{HAN}])[\(（]({SYLLABLE})[\)）]")
# A property name starts the declaration: 'backface-visibility:hidden' hides nothing.
HIDDEN_STYLE = re.compile(
    r"(?<![\w-])(?:display\s*:\s*none|visibility\s*:\s*hidden|(?:left|top|text-indent|margin-left)\s*:\s*-\d{3,}(?:px|em)"
    r"|font-size\s*:\s*0(?:px|em|pt)?\s*(?:;|$)|(?:width|height)\s*:\s*[01]px\s*;\s*overflow\s*:\s*hidden"
    r"|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$))", re.I)
SHOWN_STYLE = re.compile(r"(?<![\w-])(?:display\s*:\s*(?!none)[a-z]|visibility\s*:\s*visible)", re.I)
RANDOM_ID = re.compile(r"^[a-z0-9]{4,6}$")
RARE_TAGS = {"sup", "sub", "strike", "small", "blockquote", "big", "tt", "var", "cite", "dfn", "abbr", "acronym",
             "bdo", "del", "ins", "s", "u", "font", "address", "kbd", "samp", "q", "em", "i", "b", "dl", "dt", "dd"}
DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "input", "select", "button",
             "textarea", "svg", "canvas", "link")
WS = re.compile(r"[\s\u3000\xa0\u2002\u2003\u200b]+")

# Entities escaped twice by a CMS show as text ('&nbsp;', '&amp;bsp;' rendered as '&bsp;'): spacing, never content.
ENTITY_TEXT = re.compile(r"&(?:nbsp|ensp|emsp|thinsp|bsp|amp;nbsp|#160|#12288);?")
SENTENCE_END = re.compile(r"[。!?;!?;]")


def fold(s: str) -> str:
    return WS.sub(" ", CONTROLS.sub("", s)).strip()


class Normaliser:
    """Folds whitespace, removes pinyin and, on traditional pages, converts to simplified."""

    def __init__(self, traditional: bool):
        self.traditional = traditional

    def __call__(self, s: str) -> str:
        s = PINYIN.sub("", fold(s))
        return t2s().convert(s) if self.traditional else s


def strip_pinyin(text: str) -> tuple[str, int]:
    return PINYIN.subn("", text)


# ---------------------------------------------------------------------------------------------
# Tree rules
# ---------------------------------------------------------------------------------------------

def _drop(el) -> None:
    """Remove an element but keep its tail text."""
    parent = el.getparent()
    if parent is not None:
        el.drop_tree()


def hidden_selectors(root) -> tuple[list, list]:
    """CSS selectors that <style> blocks hide (display:none, off-screen …): those hidden on every
    screen, and those hidden under a viewport or print condition (@media (max-width:…)), which
    hide the desktop or the mobile copy of a block, never both from a reader."""
    always, conditional = [], []
    for style in root.iter("style"):
        for sel, body, conditions in css_rules(style.text or ""):
            if not HIDDEN_STYLE.search(body):
                continue
            out = conditional if any(_conditional(c) for c in conditions) else always
            for s in sel.split(","):
                s = s.strip()
                if s and not s.startswith("@"):
                    try:
                        out.append(CSSSelector(s))
                    except (SelectorError, ValueError, etree.XPathError):
                        continue
    return always, conditional


def _conditional(prelude: str) -> bool:
    p = prelude.strip().lower()
    return p.startswith("@media") and ("(" in p or "print" in p)


def css_rules(css: str):
    """(selector, declarations, enclosing at-rule preludes) of each innermost rule, in linear time
    whatever the text: a regex over brace-less text backtracks quadratically (a 100 kB style
    block took a minute)."""
    stack: list[str] = []
    start, innermost = 0, False
    for m in re.finditer(r"[{}]", css):
        if m.group() == "{":
            stack.append(re.split(r"[;}]", css[start:m.start()])[-1])
            innermost = True
        elif stack:
            prelude = stack.pop()
            if innermost:
                yield prelude, css[start:m.start()], tuple(stack)
            innermost = False
        start = m.end()


STYLED = etree.XPath("//*[@style or @hidden] | //marquee")
WITH_ID = etree.XPath("//*[@id]")


def remove_hidden(root, junk: Counter) -> None:
    """Inline- and stylesheet-hidden elements, the hidden attribute, 1-pixel marquees; and of a
    block a template prints twice (desktop and mobile copies, each hidden at some screen widths),
    the copy whose text the page holds elsewhere."""
    always, conditional = hidden_selectors(root)

    def shown(e) -> bool:       # an inline style that shows the element wins over the sheet
        return e.tag in ("html", "body") or bool(SHOWN_STYLE.search(e.get("style") or ""))

    doomed = [e for sel in always for e in sel(root) if not shown(e)]
    for el in STYLED(root):
        style = el.get("style")
        if (style and HIDDEN_STYLE.search(style)) or el.get("hidden") is not None:
            doomed.append(el)
        elif el.tag == "marquee":
            w, h = el.get("width", ""), el.get("height", "")
            if any(x.strip().rstrip("px") in ("0", "1", "2") for x in (w, h)):
                doomed.append(el)
    for el in doomed:
        if el.getparent() is not None and el.tag not in ("html", "body"):
            junk["hidden"] += 1
            _drop(el)
    copies = {e: WS.sub("", e.text_content()) for sel in conditional for e in sel(root) if not shown(e)}
    page = WS.sub("", root.text_content()) if copies else ""
    for el, text in sorted(copies.items(), key=lambda c: -len(c[1])):    # outer copies before inner ones
        if el.getparent() is not None and len(text) >= 20 and page.count(text) >= 2:
            junk["hidden"] += 1
            _drop(el)
            page = WS.sub("", root.text_content())


def remove_random_id_tags(root, junk: Counter) -> None:
    """Clusters of empty tags with random ids that spam kits inject (<sup id="gunxd">)."""
    with_id = WITH_ID(root)
    ids = Counter(e.get("id") for e in with_id)
    for el in with_id:
        i = el.get("id")
        if el.getparent() is None or not RANDOM_ID.match(i):
            continue
        if (el.text_content() or "").strip() or el.xpath(".//img"):
            continue
        rare = el.tag in RARE_TAGS or any(c.tag in RARE_TAGS for c in el.iterdescendants() if isinstance(c.tag, str))
        if ids[i] > 1 or rare or (re.search(r"\d", i) and re.search(r"[a-z]", i)):
            junk["random_id_tags"] += 1
            _drop(el)


BLOCK_TAGS = {"p", "div", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "blockquote"}
TABLE_PARTS = ("table", "tbody", "thead", "tfoot", "tr", "td", "th")


def unwrap_layout_tables(root) -> None:
    """Tables used to lay out a page become plain blocks, so the paragraphs in their cells stay
    paragraphs (trafilatura renders a table cell as one line). A table is layout when it holds
    another table, or a cell of it holds two or more text blocks, or a sentence-long run of text
    broken by <br>. A data table (figures, a 行政处罚信息公开表: short cells, at most one
    paragraph each) stays a table."""
    for table in list(root.iter("table")):
        if table.getparent() is None or not _layout(table):
            continue
        for el in [table, *table.iterdescendants(*TABLE_PARTS[1:])]:
            if _own_table(el, table):
                el.tag = "div"
                for attr in ("colspan", "rowspan", "width", "height", "valign", "align"):
                    el.attrib.pop(attr, None)


def _own_table(el, table) -> bool:
    """``el`` belongs to ``table`` itself, not to a table nested in it."""
    for a in el.iterancestors("table", "div"):
        if a is table:
            return True
        if a.tag == "table":
            return False
    return el is table


def _layout(table) -> bool:
    for cell in table.iter("td", "th"):
        if not _own_table(cell, table):
            continue
        if any(c.tag == "table" for c in cell.iterdescendants()):
            return True
        blocks = [c for c in cell if isinstance(c.tag, str) and c.tag in BLOCK_TAGS and c.text_content().strip()]
        if len(blocks) >= 2:
            return True
        if sum(1 for c in cell.iter("br")) >= 2 and SENTENCE_END.search(cell.text_content()) \
                and len(cell.text_content()) > 200:
            return True
    return False


def remove_tags(root) -> None:
    etree.strip_elements(root, *DROP_TAGS, etree.Comment, etree.ProcessingInstruction, with_tail=False)


CLASSES = etree.XPath("//@class | //@id")


def remove_chrome_elements(root, junk: Counter) -> None:
    """Elements whose class or id names them furniture. The attribute strings are matched, not the
    elements: libxml2 evaluates a dozen contains() predicates per element ten times slower than this."""
    r = rules()
    for attr in CLASSES(root):
        el = attr.getparent()
        if el.getparent() is None or el.tag in ("html", "body"):
            continue
        if r.chrome_boxes.search(attr) or (r.chrome_classes.search(attr)
                                           and _chars(el.text_content()) <= ELEMENT_CHROME_MAX):
            junk["chrome"] += 1
            _drop(el)


BLOCKS = {"p", "div", "li", "td", "span", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "font", "a", "center",
          "section", "footer", "header", "nav", "ul", "table", "tr", "em", "b", "strong"}
LINK_BLOCKS = {"ul", "ol", "div", "p", "td", "tr", "table", "dl", "nav", "span", "li", "section"}


def _chars(s: str | None) -> int:
    return len(s) - s.count(" ") - s.count("\n") - s.count("\t") - s.count("\xa0") if s else 0


def measure(root) -> dict:
    """Per element, in one bottom-up pass: (visible characters, characters inside links, links)."""
    m = {}
    for _, el in etree.iterwalk(root, events=("end",)):
        if not isinstance(el.tag, str):
            continue
        text, linked, links = _chars(el.text), 0, 0
        for child in el:
            if isinstance(child.tag, str):
                t, l, n = m[child]
                text, linked, links = text + t, linked + l, links + n
            text += _chars(child.tail)
        if el.tag == "a":
            linked, links = text, links + 1
        m[el] = (text, linked, links)
    return m


def _outermost(root, chosen) -> list:
    """Elements for which ``chosen`` holds and for none of their ancestors, in document order."""
    out, stack = [], [root]
    while stack:
        el = stack.pop()
        if isinstance(el.tag, str) and chosen(el):
            out.append(el)
            continue
        stack.extend(reversed(el))
    return out


def around(container) -> set:
    """The body container, everything inside it and every ancestor: what furniture rules must not touch."""
    return set(container.iter()) | set(container.iterancestors()) if container is not None else set()


def remove_furniture(root, norm: Normaliser, junk: Counter, container=None) -> None:
    """Outside the body container: small blocks whose text is furniture (当前位置, 主办单位 …),
    and navigation menus and related-link lists (blocks that are mostly link text)."""
    rx = rules().chrome_edges
    m = measure(root)
    protected = around(container)

    def chrome(el) -> bool:
        if el.tag not in BLOCKS or el in protected:
            return False
        text, _, _ = m[el]
        return 0 < text <= ELEMENT_CHROME_MAX and _chrome(rx, norm(el.text_content()), ELEMENT_CHROME_MAX)

    def link_list(el) -> bool:
        if el.tag not in LINK_BLOCKS or el in protected:
            return False
        text, linked, links = m[el]     # a wrapper of menus and a short document is not a menu
        return links >= 2 and text > 0 and linked >= 0.7 * text and text - linked < LINK_LIST_OWN_TEXT

    for el in _outermost(root, link_list):      # menus first: far fewer blocks left to read
        junk["link_lists"] += 1
        _drop(el)
    for el in _outermost(root, chrome):
        junk["chrome"] += 1
        _drop(el)


# ---------------------------------------------------------------------------------------------
# Line rules
# ---------------------------------------------------------------------------------------------

def spam_score(line: str) -> tuple[int, float]:
    """(weighted count of distinct spam terms, share of the line they cover)."""
    r = rules()
    found = {m.group(0).lower() for m in r.spam_terms.finditer(line)}
    covered = sum(len(m.group(0)) for m in r.spam_terms.finditer(line))
    score = sum(r.spam_weights.get(t, 0) for t in found)
    return score, covered / max(1, len(line.replace(" ", "")))


KEYWORD_SEP = re.compile(r"\s*[_,，|｜/]\s*")


def keyword_stuffed(line: str) -> bool:
    """The shape of an injected keyword line: four or more short phrases joined by '_' or commas,
    no sentence among them, and spam vocabulary in at least a third of them (a comma list of
    policy words has none)."""
    parts = [x for x in KEYWORD_SEP.split(line) if x]
    if len(parts) < 4 or any(len(x) > 16 for x in parts) or SENTENCE_END.search(line):
        return False
    terms = rules().spam_terms
    return sum(bool(terms.search(x)) for x in parts) * 3 >= len(parts)


def is_spam(line: str, edge: bool) -> bool:
    """Injected keyword lines: terms clustered, no sentence structure. ``edge``: first/last lines."""
    score, share = spam_score(line)
    if score == 0:
        return False
    if keyword_stuffed(line):
        return True
    sentences = len(SENTENCE_END.findall(line))
    if sentences == 0 or share > 0.5:
        return score >= (3 if edge else 4) and share >= 0.25 or score >= 8
    return score >= 10 and share > 0.35


def clean_lines(lines: list[str], norm: Normaliser, title: str | None, junk: Counter) -> list[str]:
    """Line rules on extracted text: spam, spider pools, chrome, the title repeated, bullets."""
    r = rules()
    kept: list[tuple[str, str]] = []
    n = len(lines)
    title_n = norm(title) if title else None
    for i, raw in enumerate(lines):
        line = fold(ENTITY_TEXT.sub(" ", raw))
        if not line:
            continue
        t = norm(line)
        if any(m in t for m in r.cut_markers):
            junk["spider_pool"] += 1
            continue
        if is_spam(t, edge=i < 2 or i >= n - 2):
            junk["spam_lines"] += 1
            continue
        if _chrome(r.chrome_anywhere, t):
            junk["chrome"] += 1
            continue
        kept.append((line, t))
    if title_n:
        kept = kept[_title_lines([t for _, t in kept[:5]], title_n):]
        kept = kept[_title_below_furniture([t for _, t in kept[:6]], title_n):]
    kept = kept[:_related_tail([t for _, t in kept], r.related)]
    # breadcrumbs, bylines and footers: the leading and trailing runs of edge furniture
    while kept and _chrome(r.chrome_edges, kept[0][1]):
        junk["chrome"] += 1
        kept.pop(0)
    while kept and _chrome(r.chrome_edges, kept[-1][1]):
        junk["chrome"] += 1
        kept.pop()
    return [line for line, _ in kept]


def _title_lines(head: list[str], title: str) -> int:
    """How many leading lines are the title printed again (on one line or broken over several,
    as 公报 and reply letters print it): lines that together are the title, or its beginning or
    end covering at least half of it. A shorter piece of the title (the name of an attached
    measure, say) stays."""
    flat_title = WS.sub("", title)
    best, acc = 0, ""
    for k, t in enumerate(head, 1):
        acc += WS.sub("", t)
        if not acc or acc not in flat_title:
            break
        if acc == flat_title or ((flat_title.startswith(acc) or flat_title.endswith(acc))
                                 and len(acc) * 2 >= len(flat_title)):
            best = k
    return best


def _title_below_furniture(head: list[str], title: str) -> int:
    """Lines up to the title printed again, when only short lines (an advert, a section name, a
    date) stand before it: the text starts after the title."""
    flat_title = WS.sub("", title)
    for k, t in enumerate(head):
        if WS.sub("", t) == flat_title:
            return k + 1
        if len(t) > 30 or SENTENCE_END.search(t):
            return 0
    return 0


def _related_tail(lines: list[str], marker: re.Pattern) -> int:
    """Where a trailing list of related articles begins (its heading, then only short lines, none
    a sentence), or len(lines): the text ends there."""
    for i in range(len(lines) - 1, max(0, len(lines) // 3) - 1, -1):
        if marker.search(lines[i]):
            rest = lines[i + 1:]
            if all(len(x) <= 80 and not x.rstrip().endswith("。") for x in rest):
                return i
            break
    return len(lines)


LINK_LIST_OWN_TEXT = 200   # visible characters outside links that a menu or related-links list never has
LINE_CHROME_MAX = 160       # visible characters: furniture is short; a paragraph naming 联系电话 is not
ELEMENT_CHROME_MAX = 240    # a block may hold a few furniture lines together


def _chrome(rx: re.Pattern, t: str, limit: int = LINE_CHROME_MAX) -> bool:
    """Furniture text: a chrome pattern, at most ``limit`` visible characters, no sentence in it."""
    return (bool(rx.search(t)) and len(t) - t.count(" ") <= limit
            and not SENTENCE_END.search(t.rstrip("。")))
