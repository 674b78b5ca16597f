"""The datasette plugin `govarchive serve` loads: Chinese search, a page per document with its
versions and diffs, change feeds per portal and kind, readable text cells, a CJK font stack.

Pages (all read-only, from the archive datasette serves):
  /-/search?q=科技[&site=&kind=]      the same search as `govarchive search`
  /-/document?url=URL[&diff=N]        metadata, reply facts, text, versions; the diff N-1 → N
  /-/feeds.atom, /-/feeds/{site}.atom, /-/feeds/{site}/{kind}.atom   (and .json: JSON Feed 1.1)
"""
from __future__ import annotations

from html import escape
from urllib.parse import quote

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup

from archive import diff as D
from archive.search import SearchError, search
from archive.store import Archive, ArchiveError

CSS = f"""body, .ga {{ font-family: {D.FONTS}; }}
.ga {{ max-width: 60em; margin: 1.5em auto; line-height: 1.7; }}
.ga-text p, .ga .text p {{ margin: .3em 0; text-indent: 2em; }}
.ga-text {{ min-width: 28em; max-width: 48em; white-space: normal; }}
.ga table.meta td, .ga table.meta th {{ padding: .2em .8em; border-bottom: 1px solid #eee; text-align: left; }}
.ga mark {{ background: #ffe680; }} .ga .hit {{ margin: 1em 0; }} .ga .snippet {{ color: #444; }}
.ga .fonts {{ display: none; color: #a00; }}
""" + D.CSS.replace("body{", ".ga-diff{")

NOTE = ("<p class='fonts' id='font-note'>No Chinese font seems to be installed: characters may show as boxes. "
        "On Debian or Ubuntu: <code>apt install fonts-noto-cjk</code>.</p>"
        "<script>document.fonts && document.fonts.ready.then(function(){var ok=['Noto Sans CJK SC','Noto Sans SC',"
        "'Source Han Sans SC','PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei'].some(function(f){"
        "return document.fonts.check('16px \"'+f+'\"', '中');});if(!ok){document.getElementById('font-note')"
        ".style.display='block';}});</script>")


def _archive(datasette) -> Archive:
    from crawler.portals import sites      # the serving layer, like the CLI, knows the portals
    db = next(d for name, d in datasette.databases.items() if name != "_internal")
    return Archive(db.path, readonly=True, sites=sites())


def _page(title: str, body: str) -> Response:
    return Response.html(f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{escape(title)}</title>"
                         f"<link rel='stylesheet' href='/-/govarchive.css'></head><body class='ga'>"
                         f"<p><a href='/'>datasette</a> · <a href='/-/search'>搜索 search</a> · "
                         f"<a href='/-/feeds.atom'>feed</a></p>{NOTE}{body}</body></html>")


def _doc_link(url: str, extra: str = "") -> str:
    return f"/-/document?url={quote(url, safe='')}{extra}"


async def search_page(datasette, request):
    q = request.args.get("q", "")
    site, kind = request.args.get("site") or None, request.args.get("kind") or None
    form = (f"<h1>搜索 Search</h1><form action='/-/search' method='get'><input type='search' name='q' id='q' "
            f"value='{escape(q, quote=True)}' size='40' autofocus> <button type='submit' id='go'>搜索</button></form>")
    if not q:
        return _page("govarchive search", form)
    try:
        with _archive(datasette) as a:
            hits = search(a, q, limit=int(request.args.get("limit") or 50),
                          **{k: v for k, v in (("site", site), ("kind", kind)) if v})
    except (SearchError, ArchiveError, ValueError) as e:
        return _page("govarchive search", form + f"<p class='error'>{escape(str(e))}</p>")
    items = []
    for h in hits:
        snip = escape(h["snippet"]).replace("【", "<mark>").replace("】", "</mark>")
        items.append(f"<div class='hit'><a class='result' href='{_doc_link(h['url'])}'>{escape(h['title'] or h['url'])}"
                     f"</a> <small>{escape(h['site'] or '')}</small><div class='snippet'>{snip}</div>"
                     f"<small class='url'>{escape(h['url'])}</small></div>")
    body = form + f"<p id='count'>{len(hits)} documents</p>" + "".join(items)
    return _page(f"{q} - govarchive search", body)


async def document_page(datasette, request):
    url = request.args.get("url", "")
    try:
        with _archive(datasette) as a:
            doc = a.document(url)
            vs = a.versions(url)
            history = a.history(url)
    except ArchiveError as e:
        return _page("not found", f"<p class='error'>{escape(str(e))}</p>")
    latest = next((v for v in reversed(vs) if v["status"] != "gone"), vs[-1])
    rows = [("URL", f"<a href='{escape(url, quote=True)}'>{escape(url)}</a>"), ("site", escape(doc["site"] or "")),
            ("kind", escape(doc["kind"] or "")), ("status", escape(doc["status"])),
            ("published", escape(latest.get("published_date") or ""))]
    rows += [(k, escape(str(v))) for k, v in (latest.get("metadata") or {}).items() if v]
    rows += [(f"reply.{k}", escape(str(v))) for k, v in (latest.get("reply") or {}).items() if v]
    meta = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    text = "".join(f"<p>{escape(p)}</p>" for p in (latest.get("text") or "").split("\n") if p)
    vrows = []
    for v in vs:
        number = v["number"]
        href = _doc_link(url, f"&diff={number}") + "#diff"
        link = f"<a class='diff-link' href='{href}'>diff {number - 1} → {number}</a>" if number > 1 else ""
        vrows.append(f"<tr id='v{v['number']}'><td>{v['number']}</td><td>{escape(v['fetched_at'])}</td>"
                     f"<td>{escape(v['status'])}</td><td>{link}</td></tr>")
    frows = "".join(f"<tr><td>{escape(h['fetched_at'])}</td><td>{h['http_status'] or ''}</td><td>{escape(h['outcome'])}"
                    f"</td><td>{escape(h['error'] or '')}</td></tr>" for h in history)
    diff = ""
    n = request.args.get("diff")
    if n and n.isdigit() and 1 < int(n) <= len(vs):
        b = next(v for v in vs if v["number"] == int(n))
        a_ = next(v for v in reversed(vs) if v["number"] < int(n))
        d = D.diff_versions(a_, b)
        diff = f"<h2 id='diff'>diff {a_['number']} → {b['number']}</h2><p>{escape(D.summary(d))}</p>" \
               f"<div class='ga-diff'>{D.table_html(d)}</div>"
    body = (f"<h1 id='title'>{escape(latest.get('title') or url)}</h1><table class='meta'>{meta}</table>{diff}"
            f"<h2>text (version {latest['number']})</h2><div class='text'>{text}</div>"
            f"<h2>versions</h2><table class='meta versions'><tr><th>version</th><th>fetched</th><th>status</th><th></th>"
            f"</tr>{''.join(vrows)}</table><h2>fetches</h2><table class='meta'>{frows}</table>")
    return _page(latest.get("title") or url, body)


async def feed(datasette, request):
    from archive.feeds import render
    mv = request.url_vars
    fmt = mv.get("fmt", "atom")
    filters = {k: mv[k] for k in ("site", "kind") if mv.get(k)}
    base = f"{request.scheme}://{request.host}"
    with _archive(datasette) as a:
        title = "govarchive: " + (" / ".join(filters.values()) or "all portals")
        text = render(a, fmt, base, title, **filters)
    ctype = "application/atom+xml; charset=utf-8" if fmt == "atom" else "application/feed+json; charset=utf-8"
    return Response(text, content_type=ctype)


async def css(request):
    return Response(CSS, content_type="text/css; charset=utf-8")


@hookimpl
def register_routes():
    return [
        (r"^/-/search$", search_page),
        (r"^/-/document$", document_page),
        (r"^/-/feeds\.(?P<fmt>atom|json)$", feed),
        (r"^/-/feeds/(?P<site>[^/]+)\.(?P<fmt>atom|json)$", feed),
        (r"^/-/feeds/(?P<site>[^/]+)/(?P<kind>[^/]+)\.(?P<fmt>atom|json)$", feed),
        (r"^/-/govarchive\.css$", css),
    ]


@hookimpl
def extra_css_urls():
    return ["/-/govarchive.css"]


@hookimpl
def render_cell(value, column, table):
    """Long texts as paragraphs, not a four-character column; a document's URL links to its page."""
    if table == "versions" and column in ("text", "text_simplified") and isinstance(value, str) and len(value) > 80:
        return Markup("<div class='ga-text'>" + "".join(f"<p>{escape(p)}</p>" for p in value.split("\n") if p)
                      + "</div>")
    if table == "documents" and column == "url" and isinstance(value, str):
        return Markup(f"<a href='{_doc_link(value)}'>{escape(value)}</a>")
    return None


@hookimpl
def table_actions(table):
    if table in ("documents", "versions"):
        return [{"href": "/-/search", "label": "Search these documents (中文, 2-character words)"}]
    return []


@hookimpl
def menu_links():
    return [{"href": "/-/search", "label": "Search the archive (中文)"},
            {"href": "/-/feeds.atom", "label": "Feed of changes"}]
