"""Bytes to text for portal pages: honour HTTP and meta charsets, recover mislabelled GBK."""
from __future__ import annotations

import re

META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030", "utf8": "utf-8",
           "cp936": "gb18030", "ms936": "gb18030", "big5": "big5hkscs"}
DAMAGE = re.compile(r"[\ufffd\ue000-\uf8ff]|(?<=[\u4e00-\u9fff])\?+(?=[\u4e00-\u9fff])")


def charset_from_content_type(value: str | bytes | None) -> str | None:
    if not value:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", value, re.I)
    return m.group(1) if m else None


def normalise(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    name = ALIASES.get(name, name)
    try:
        import codecs
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode(body: bytes, declared: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used).

    w3lib's html_to_unicode (Scrapy's own: BOM, then the HTTP charset, then the meta charset,
    GB18030 by default), with two rules of ours on top, for labels portals get wrong: valid
    multi-byte UTF-8 is UTF-8 whatever the label says (a GBK label on UTF-8 bytes is the common
    mislabel), and a label that does not decode cleanly loses to the meta charset, UTF-8 or
    GB18030 if one of those does (else to the one with the fewest replacement characters).
    """
    from w3lib.encoding import html_to_unicode
    try:
        body.decode("utf-8")
        if re.search(rb"[\x80-\xff]", body):
            return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = normalise(declared)
    enc, text = html_to_unicode(f"text/html; charset={declared}" if declared else None, body,
                                default_encoding="gb18030")
    if "\ufffd" not in text:
        return text, normalise(enc) or enc
    m = META_CHARSET.search(body[:4096])
    candidates = [e for e in dict.fromkeys(normalise(n) for n in (m.group(1).decode("ascii", "ignore") if m else None,
                                                                  "utf-8", "gb18030")) if e]
    for cand in candidates:
        try:
            return body.decode(cand), cand
        except (UnicodeDecodeError, LookupError):
            continue
    best = min(candidates, key=lambda e: body.decode(e, errors="replace").count("\ufffd"))
    return body.decode(best, errors="replace"), best


def damage(text: str) -> int:
    """Replacement characters, private-use characters and '?' between Han characters."""
    return sum(len(m.group(0)) for m in DAMAGE.finditer(text))
