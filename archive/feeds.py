"""Change feeds: new, changed and removed documents as Atom (feedgen) or JSON Feed 1.1.

Each entry is one new version or removal: its date, a title saying what happened, a short
summary (the opening of a new document, what a change touched, the status of a removal) and a
link to the document page with its diff, as ``govarchive serve`` shows it.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from . import diff as D
from .store import Archive

FORMATS = ("atom", "json")
LIMIT = 100


def entries(archive: Archive, since: str | None = None, limit: int = LIMIT, **filters) -> list[dict]:
    """The newest changes first: {url, site, kind, version, change, title, updated, summary}."""
    since = since or (datetime.now(timezone.utc) - timedelta(days=30)).isoformat(timespec="seconds")
    rows = archive.changes(since, **filters)[-limit:][::-1]
    out = []
    for r in rows:
        out.append(dict(r, updated=r["fetched_at"], summary=_summary(archive, r)))
    return out


def _summary(archive: Archive, r: dict) -> str:
    if r["change"] == "removed":
        return "The page is gone from the portal; its last text stays in the archive."
    vs = archive.versions(r["url"])
    this = next(v for v in vs if v["number"] == r["version"])
    if r["change"] == "new":
        text = (this["text"] or "").replace("\n", " ")
        return text[:160] + ("…" if len(text) > 160 else "")
    before = next(v for v in reversed(vs) if v["number"] < r["version"])
    return D.summary(D.diff_versions(before, this))


def document_link(base: str, url: str, version: int | None = None) -> str:
    return f"{base.rstrip('/')}/-/document?url={quote(url, safe='')}" + (f"#v{version}" if version else "")


def feed_path(fmt: str, site: str | None = None, kind: str | None = None) -> str:
    """The stable URL path `govarchive serve` gives the feed of a portal (and kind)."""
    parts = [quote(x, safe="") for x in (site, kind) if x]
    return "/-/feeds" + ("/" + "/".join(parts) if parts else "") + f".{fmt}"


def render(archive: Archive, fmt: str, base: str, title: str, since: str | None = None, **filters) -> str:
    """The feed as text, in ``fmt`` (atom or json)."""
    items = entries(archive, since, **filters)
    label = {"new": "新", "changed": "修改", "removed": "删除"}
    self_url = base.rstrip("/") + feed_path(fmt, filters.get("site"), filters.get("kind") if filters.get("site") else None)
    if fmt == "json":
        return json.dumps({
            "version": "https://jsonfeed.org/version/1.1", "title": title, "home_page_url": base,
            "feed_url": self_url, "language": "zh-CN",
            "items": [{"id": f"{e['url']}#v{e['version']}", "url": document_link(base, e["url"], e["version"]),
                       "title": f"[{label[e['change']]}] {e['title'] or e['url']}", "content_text": e["summary"],
                       "date_published": e["updated"], "external_url": e["url"],
                       "tags": [t for t in (e["site"], e["kind"], e["change"]) if t]} for e in items],
        }, ensure_ascii=False, indent=1)
    from feedgen.feed import FeedGenerator
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(title)
    fg.link(href=self_url, rel="self")
    fg.link(href=base, rel="alternate")
    fg.language("zh-CN")
    fg.updated(items[0]["updated"] if items else datetime.now(timezone.utc))
    for e in reversed(items):            # feedgen puts the last added first
        fe = fg.add_entry()
        fe.id(f"{e['url']}#v{e['version']}")
        fe.title(f"[{label[e['change']]}] {e['title'] or e['url']}")
        fe.link(href=document_link(base, e["url"], e["version"]))
        fe.updated(e["updated"])
        fe.summary(e["summary"])
        for t in (e["site"], e["kind"], e["change"]):
            if t:
                fe.category(term=t)
    return fg.atom_str(pretty=True).decode("utf-8")
