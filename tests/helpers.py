"""Small HTTP helpers for talking to the replica the way a crawler would."""
from __future__ import annotations

import http.client
import json

from archive import store
from crawler.extract import extract_or_error
from crawler.portals import sites


class Archive(store.Archive):
    """The archive as the crawler and the CLI open it: the portals' URL identity and the extractor."""

    def __init__(self, path=None, **kw):
        kw.setdefault("sites", sites())
        kw.setdefault("extract", extract_or_error)
        super().__init__(path, **kw)


def fetch(replica, url_or_host: str, path: str | None = None, method: str = "GET", headers: dict | None = None):
    """(status, headers, body) of a request to the replica for a real portal URL."""
    from urllib.parse import urlsplit
    if path is None:
        u = urlsplit(url_or_host)
        host, path = u.hostname, (u.path or "/") + (f"?{u.query}" if u.query else "")
    else:
        host = url_or_host
    conn = http.client.HTTPConnection("127.0.0.1", replica.port, timeout=30)
    try:
        conn.request(method, path, headers={"Host": host, **(headers or {})})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def control(replica, what: str = "state", body: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", replica.port, timeout=30)
    try:
        if body is None:
            conn.request("GET", f"/_replica/{what}")
        else:
            data = json.dumps(body).encode()
            conn.request("POST", f"/_replica/{what}", body=data, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        conn.close()


PAGES = "SELECT url FROM documents WHERE kind IS NOT 'attachment'"     # the files pages link: test_attachments.py


def page_urls(a) -> set[str]:
    return {r[0] for r in a.conn.execute(PAGES)}


def page_versions(a) -> int:
    return a.conn.execute(f"SELECT count(*) FROM versions WHERE document_id IN (SELECT id {PAGES[10:]})").fetchone()[0]
