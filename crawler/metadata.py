"""政府信息公开 metadata blocks, validity, dates and reply-letter facts as structured fields."""
from __future__ import annotations

import re
from datetime import date

from lxml import etree

from .cleaning import Normaliser, PINYIN, fold
from .rules import rules

FIELDS = ("index_no", "doc_no", "issuer", "topic", "genre", "written_date", "published_date", "keywords", "validity")
CELL_TAGS = ("td", "th", "span", "li", "dt", "dd", "label", "b", "strong", "p", "font", "div", "em")
CONTAINER_TAGS = ("table", "ul", "ol", "dl", "div")
LABEL_PUNCT = re.compile(r"[\s\[\]【】:：\u3000\xa0]+")
DATE = re.compile(r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?")
CN_NUM = "〇零一二三四五六七八九十百"


CN_DATE = re.compile(r"([〇○零一二三四五六七八九]{4})\s*年\s*([一二三四五六七八九十]{1,3})\s*月\s*([一二三四五六七八九十]{1,3})\s*日")
CN_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0}


def _cn_number(s: str) -> int:
    """一 .. 三十一, as months and days are written."""
    if "十" not in s:
        return CN_DIGIT[s]
    tens, _, ones = s.partition("十")
    return (CN_DIGIT[tens] if tens else 1) * 10 + (CN_DIGIT[ones] if ones else 0)


def iso_date(s: str | None) -> str | None:
    """'2021年10月12日', '2021-10-12', '2021/10/12', '二〇二一年十月十二日' -> '2021-10-12'; else None."""
    if not s:
        return None
    m = DATE.search(s)
    if not m:
        c = CN_DATE.search(s)
        if not c:
            return None
        try:
            return date(int("".join(str(CN_DIGIT[x]) for x in c.group(1))), _cn_number(c.group(2)),
                        _cn_number(c.group(3))).isoformat()
        except (KeyError, ValueError):
            return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None


def _label(text: str, norm: Normaliser) -> str | None:
    key = LABEL_PUNCT.sub("", norm(text))
    return rules().labels.get(key)


BLOCK_CHILDREN = {"div", "table", "tr", "tbody", "ul", "ol", "li", "p", "dl", "dd", "dt", "td", "th", "form"}


def _is_cell(el) -> bool:
    """An innermost cell: a cell tag with no block-level children."""
    return el.tag in CELL_TAGS and not any(isinstance(c.tag, str) and c.tag in BLOCK_CHILDREN for c in el)


def _cells(el) -> list:
    """Innermost cells of a metadata block, in document order."""
    return [c for c in el.iter(*CELL_TAGS) if c is not el and _is_cell(c)]


TEXTS = etree.XPath("//text()")


def _label_cells(root, maybe_label: re.Pattern) -> list:
    """Innermost cells of at most 40 characters holding a character labels end in, in document
    order. Found from the text nodes up, so only the few elements around such text are touched."""
    out, seen, short = [], set(), {}
    for s in TEXTS(root):
        if len(s) > 40 or not maybe_label.search(s):
            continue
        el = s.getparent()
        if s.is_tail:
            el = el.getparent()
        chain = []
        while el is not None and isinstance(el.tag, str):
            if el not in short:
                short[el] = len(el.text_content()) <= 40
            if not short[el]:
                break
            if el.tag in CELL_TAGS and _is_cell(el):
                chain.append(el)
            el = el.getparent()
        for c in reversed(chain):           # outer before inner, as a walk of the tree meets them
            if c not in seen:
                seen.add(c)
                out.append(c)
    return out


def find_blocks(root, norm: Normaliser, container=None) -> list:
    """The outermost elements holding two or more metadata labels that are not the page or the body.

    Label cells are found first (short innermost cells); their ancestors are counted, so the page
    is walked once rather than once per candidate block.
    """
    counts: dict = {}
    outer = {container, *container.iterancestors()} if container is not None else set()
    inner = set(container.iter()) if container is not None else set()
    for c in _label_cells(root, rules().label_chars):
        text = c.text_content()
        if not (_label(text, norm) or _label_prefix(text, norm)):
            continue
        for a in c.iterancestors(*CONTAINER_TAGS):
            if a in outer:
                break
            counts[a] = counts.get(a, 0) + 1
    # Inside the body, a block needs three labels each with its value: a data table whose header
    # row is 标题 | 文号 | 发布日期 (a list of repealed documents) is content.
    found = {a for a, n in counts.items() if n >= 2 and _only_fields(a, n)
             and (a not in inner or sum(1 for v in parse_blocks([a], norm).values() if v) >= 3)}
    # the tightest element holding its labels: a page-wide wrapper (or a layout table) that holds
    # the same labels as a block inside it holds the document too
    tight = {a for a in found if not any(d in found and counts[d] == counts[a]
                                         for d in a.iterdescendants(*CONTAINER_TAGS))}
    return [e for e in tight if not any(a in tight for a in e.iterancestors())]


def _only_fields(el, labels: int) -> bool:
    """A metadata block is label/value pairs: bounded text, and no sentence in it (a value such as
    a 标题 may be long, but the letter or policy it describes ends its sentences with 。)."""
    text = el.text_content()
    if len(text) > min(1500, 150 * labels + 300):
        return False
    return not any(len(t) > 60 and "。" in t for t in el.itertext())


def _label_prefix(text: str, norm: Normaliser) -> tuple[str, str] | None:
    t = norm(text)
    m = re.match(r"^\s*[\[【]?\s*([^:：\]】]{1,8}?)\s*[\]】]?\s*[:：]\s*(.*)$", t)
    if m:
        key = rules().labels.get(LABEL_PUNCT.sub("", m.group(1)))
        if key:
            return key, m.group(2)
    return None


def parse_blocks(blocks: list, norm: Normaliser) -> dict:
    """Label/value pairs from the blocks; a field rendered twice keeps its first non-empty value."""
    out: dict[str, str] = {}
    for block in blocks:
        cells = [fold(PINYIN.sub("", c.text_content())) for c in _cells(block)]
        i = 0
        while i < len(cells):
            key = _label(cells[i], norm)
            if key:
                nxt = cells[i + 1] if i + 1 < len(cells) else ""
                is_value = bool(nxt) and not (_label(nxt, norm) or _label_prefix(nxt, norm))
                if is_value and not out.get(key):
                    out[key] = nxt
                else:
                    out.setdefault(key, "")
                i += 2 if is_value else 1
                continue
            pre = _label_prefix(cells[i], norm)
            if pre:
                # the value as published: the same cell after its first colon
                raw = re.split(r"[:：]", cells[i], maxsplit=1)[-1].strip()
                if raw and not out.get(pre[0]):
                    out[pre[0]] = raw
            i += 1
    out.pop("_ignore", None)
    return out


LONE_LABEL = re.compile(r"^\s*(?:[【\[]\s*([^【】\[\]:：]{2,16}?)\s*[】\]]\s*[:：]?|([^\s:：【】\[\]][^:：【】\[\]]{1,10}?)\s*[:：])"
                        r"\s*(.*?)\s*$")


def lone_labels(root, norm: Normaliser) -> dict:
    """Labelled fields outside any metadata block: '【文    号】 晋医保发〔2021〕14号' lines broken by
    <br>, '发布日期：<span>2012-06-24</span>'. A label with nothing after it takes the rest of
    its element's text as its value."""
    out: dict[str, str] = {}
    labels = rules().labels
    for t in TEXTS(root):
        if len(t) > 80 or not rules().label_chars.search(t):
            continue
        m = LONE_LABEL.match(norm(t))
        if not m:
            continue
        key = labels.get(LABEL_PUNCT.sub("", m.group(1) or m.group(2)))
        if not key or key in ("title", "_ignore") or key in out:
            continue
        value = m.group(3)
        if not value:
            holder = t.getparent() if not t.is_tail else t.getparent().getparent()
            whole = fold(PINYIN.sub("", holder.text_content())) if holder is not None else ""
            value = re.split(r"[:：】\]]", whole, maxsplit=1)[-1].strip() if len(whole) <= 80 else ""
        if value:
            out[key] = value
    return out


def validity_of(value: str | None, norm: Normaliser) -> str | None:
    if not value:
        return None
    v = norm(value)
    r = rules()
    if any(w in v for w in r.invalid_words):
        return "invalid"
    if any(w in v for w in r.valid_words):
        return "valid"
    return None


def structured(raw: dict, norm: Normaliser) -> dict:
    """Raw label values -> the metadata fields, dates in ISO 8601, empty cells as null."""
    meta = {k: None for k in FIELDS}
    for k, v in raw.items():
        if k in meta and v:
            meta[k] = v
    for k in ("written_date", "published_date"):
        meta[k] = iso_date(meta[k])
    meta["validity"] = validity_of(raw.get("validity"), norm)
    return meta


def strip_validity_marker(title: str, norm: Normaliser) -> tuple[str, bool]:
    """'(此文件已失效)标题' -> ('标题', True)."""
    rx = rules().title_markers
    t = PINYIN.sub("", title)
    if rx.search(norm(t)):
        cleaned = rx.sub("", t)
        if cleaned == t:    # traditional page: the marker in traditional script
            cleaned = re.sub(r"[\(（【\[]\s*(?:此文件)?(?:已失效|已廢止|失效|廢止|已废止|废止)\s*[\)）】\]]", "", t)
        return cleaned.strip(), True
    return title, False


# ---------------------------------------------------------------------------------------------
# Reply letters
# ---------------------------------------------------------------------------------------------

SALUTE = re.compile(r"^(?:尊敬的)?\s*((?:[\u4e00-\u9fff·]{2,4}、)*[\u4e00-\u9fff·]{2,4}?)\s*"
                    r"(?:等\s*(?:\d+|[一二三四五六七八九十]+)?\s*(?:位|名)?)?\s*(委员|代表)(?:们)?\s*[:：,，]")
NUMBER = re.compile(r"第\s*([0-9０-９]+)\s*号")
SESSION = re.compile(
    rf"((?:[市区县省州]|自治[区州县])?(?:政协)?(?:第)?[{CN_NUM}]+届(?:人大|政协)?(?:常委会)?(?:第)?[{CN_NUM}]+次(?:全体)?会议)")
ORG_END = re.compile(r"(?:局|委|委员会|政府|办公室|办公厅|院|厅|中心|部|会|所|处|室|集团|公司|管委会|馆|站|队)$")
FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def reply_facts(title: str, lines: list[str], norm: Normaliser) -> dict | None:
    """Addressee, number, session, kind, signer and signing date of a reply letter, else None."""
    t_title = norm(title or "")
    head = [norm(x) for x in lines[:4]]
    salute = next((m for m in (SALUTE.match(h) for h in head) if m), None)
    replyish = re.search(r"(答复|复函|的函|办理情况)", t_title) and re.search(r"(提案|建议)", t_title)
    if not salute and not replyish:
        return None
    body = " ".join(head)
    if re.search(r"政协|提案", t_title) or (salute and salute.group(2) == "委员"):
        kind = "cppcc_proposal"
    elif re.search(r"人大|建议", t_title) or (salute and salute.group(2) == "代表"):
        kind = "npc_suggestion"
    else:
        kind = None
    num = NUMBER.search(t_title) or NUMBER.search(body)
    sess = SESSION.search(t_title) or SESSION.search(body)
    signer, signed = _signature(lines, norm)
    addressee = salute.group(1) if salute else None
    if addressee and addressee.startswith("各位"):
        addressee = None
    return {"kind": kind, "addressee": _as_published(addressee, lines[:4]),
            "number": num.group(1).translate(FULLWIDTH) if num else None,
            "session": sess.group(1) if sess else None, "signer": signer, "signed_date": signed}


def _as_published(simplified: str | None, lines: list[str]) -> str | None:
    """The addressee in the page's own script (names rarely differ, but keep the page's form)."""
    if not simplified:
        return None
    for ln in lines:
        ln = PINYIN.sub("", fold(ln)).replace("尊敬的", "").replace("尊敬的", "")
        if len(ln) >= len(simplified) and ln[len(simplified):len(simplified) + 2] in ("委员", "代表", "委員"):
            return ln[:len(simplified)]
    return simplified


def _signature(lines: list[str], norm: Normaliser) -> tuple[str | None, str | None]:
    """The signing body and date from the closing lines: an organisation line, then a date line."""
    tail = [fold(x) for x in lines[-6:]]
    for i in range(len(tail) - 1, -1, -1):
        n = norm(tail[i])
        if len(n) <= 30 and ORG_END.search(n) and not re.search(r"[,，。:：;；!！?？]", n):
            after = tail[i + 1] if i + 1 < len(tail) else ""
            d = iso_date(after) if re.fullmatch(r"\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*", after) else None
            return PINYIN.sub("", tail[i]), d
    return None, None
