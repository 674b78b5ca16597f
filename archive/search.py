"""Chinese full-text search: FTS5 over character bigrams, so 2-character words like 科技 match.

SQLite's trigram tokenizer cannot match queries shorter than three characters, and unicode61
alone treats a run of Han characters as one token. We index each Han run as its overlapping
bigrams (and other words as they are); a query becomes the AND of its bigrams, and each hit is
then checked for the exact phrase in the text, which also gives the snippet. The index keeps no
positions or frequencies (FTS5 detail=none: a quarter of the size), so ranking is plain: documents
whose title holds the words first, then the most recently published.
"""
from __future__ import annotations

import re

from .text import t2s

MAX_TERMS = 64          # more terms than any real query has; FTS5 refuses expressions far larger
HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[A-Za-z0-9]+")
SNIPPET = 36


class SearchError(ValueError):
    """A query that cannot be searched, with the reason."""


def tokens(text: str | None) -> str:
    out = []
    for m in HAN_RUN.finditer(text or ""):
        run = m.group(0)
        if run[0].isascii():
            out.append(run.lower())
        elif len(run) == 1:
            out.append(run)
        else:
            out.extend(map(str.__add__, run, run[1:]))     # overlapping bigrams, built in C
    return " ".join(out)


def fts_query(query: str) -> tuple[str, list[str]]:
    """The FTS5 MATCH expression for a user query, and the phrases each hit must contain.

    Every term is quoted, so FTS5 syntax characters in user input are inert.
    """
    q = t2s().convert(query.strip())
    phrases = [p for p in re.split(r"\s+", q) if p]
    terms = []
    for p in phrases:
        for tok in tokens(p).split():
            terms.append('"' + tok.replace('"', '""') + '"')
    if not terms:
        raise SearchError(f"nothing to search for in {query!r}: give at least one Chinese character, letter or digit")
    if len(dict.fromkeys(terms)) > MAX_TERMS or len(phrases) > MAX_TERMS:
        raise SearchError(f"the query is too long: at most {MAX_TERMS} words or character pairs")
    runs = [m.group(0).lower() for p in phrases for m in HAN_RUN.finditer(p)]
    return " AND ".join(dict.fromkeys(terms)), runs


def search(archive, query: str, limit: int = 20, **filters) -> list[dict]:
    """Hits with snippets, title matches first, then newest first: [{url, site, kind, title, version, in_title,
    snippet}]. ``filters``: site, kind, published_since, published_until (as store.filter_sql)."""
    from .store import filter_sql
    if limit < 1:
        raise SearchError(f"--limit must be at least 1, not {limit}")
    match, phrases = fts_query(query)
    where, args = filter_sql(**filters)
    where = where.replace("WHERE", "AND", 1)
    if any(len(p) == 1 for p in phrases):
        ids = _like(archive, phrases, where, args)
    else:
        ids = archive.conn.execute(
            "SELECT d.id FROM search_text s JOIN documents d ON d.id = s.rowid "
            "JOIN versions v ON v.document_id = d.id AND v.number = d.latest_version "
            f"WHERE search_text MATCH ? {where} "
            "ORDER BY d.id IN (SELECT rowid FROM search_title WHERE search_title MATCH ?) DESC, "
            "v.published_date DESC, d.id DESC", [match, *args, match]).fetchall()
    hits = []
    for (doc_id,) in ids:       # in rank order; fetched one by one, as far as the limit needs
        url, s, kind, title, number, text = archive.conn.execute(
            "SELECT d.url, d.site, d.kind, v.title, v.number, coalesce(v.text_simplified, v.text) FROM documents d "
            "JOIN versions v ON v.document_id = d.id AND v.number = d.latest_version WHERE d.id = ?",
            (doc_id,)).fetchone()
        title_s = re.sub(r"\s+", "", t2s().convert(title or "")).lower()
        hay = title_s + "\n" + re.sub(r"\s+", "", text or "").lower()
        if not all(p in hay for p in phrases if p):
            continue
        hits.append({"url": url, "site": s, "kind": kind, "title": title, "version": number,
                     "in_title": all(p in title_s for p in phrases if p),
                     "snippet": snippet(text or t2s().convert(title or ""), phrases)})
        if len(hits) >= limit:
            break
    return hits


def _like(archive, phrases, where, filter_args) -> list[tuple[int]]:
    """One-character queries are not in the bigram index: scan the latest texts instead."""
    cond = " AND ".join(["(coalesce(v.text_simplified, v.text) LIKE ? OR v.title LIKE ?)"] * len(phrases)) + " " + where
    args = []
    for p in phrases:
        args += [f"%{p}%", f"%{p}%"]
    args += filter_args
    return archive.conn.execute(
        "SELECT d.id FROM documents d JOIN versions v ON v.document_id = d.id AND v.number = d.latest_version "
        f"WHERE {cond} ORDER BY v.published_date DESC, d.id DESC", args).fetchall()


def snippet(text: str, phrases: list[str]) -> str:
    flat = re.sub(r"\s+", " ", text)
    low = flat.lower()
    for p in phrases:
        i = low.find(p)
        if i >= 0:
            start = max(0, i - SNIPPET)
            end = min(len(flat), i + len(p) + SNIPPET)
            hit = flat[i:i + len(p)]
            return ("…" if start else "") + flat[start:i] + "【" + hit + "】" + flat[i + len(p):end] + ("…" if end < len(flat) else "")
    return flat[: SNIPPET * 2]
