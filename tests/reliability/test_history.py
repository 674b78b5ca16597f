"""Nothing false, nothing reordered: history in fetch-time order, idempotent imports, removals that
can end, re-extraction that never reverts a document, and writes that fail loudly."""
from __future__ import annotations

import io
import sqlite3

from archive.imports import import_warc
from archive.integrity import reextract, verify
from archive.store import ArchiveWriteError
from tests.helpers import Archive
from seeds.replica import site

AMENDED = next(d for d in site.documents() if d.amended and d.portal == "chongqing_kjj")


def page(d, epoch):
    p = site.build(epoch)[(d.host, d.path)]
    return p.body, {"content-type": p.content_type, "etag": p.etag, "last-modified": p.last_modified}


def warc(path, records):
    """A WARC of (url, date, status, body) response records, as another crawler would write it."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for url, date, status, body in records:
            http = StatusAndHeaders(f"{status} X", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                                warc_headers_dict={"WARC-Date": date}))


def test_an_old_capture_joins_history_without_becoming_latest(tmp_path):
    d = AMENDED
    old, _ = page(d, 1)
    new, h = page(d, 2)
    with Archive(tmp_path / "a.db") as a:
        a.ingest(d.url, status=200, body=new, headers=h, fetched_at="2026-01-01T00:00:00+00:00")
        latest = a.version(d.url)
        warc(tmp_path / "old.warc.gz", [(d.url, "2020-05-01T00:00:00Z", 200, old)])
        assert import_warc(a, tmp_path / "old.warc.gz") == {"new_version": 1}
        vs = a.versions(d.url)
        assert [v["fetched_at"][:4] for v in vs] == ["2020", "2026"]          # numbered in time order
        assert a.version(d.url)["content_hash"] == latest["content_hash"]   # the newest fetch stays latest
        assert [h["fetched_at"][:4] for h in a.history(d.url)] == ["2020", "2026"]
        # the same file again: nothing added
        assert import_warc(a, tmp_path / "old.warc.gz") == {"duplicate": 1}
        assert len(a.versions(d.url)) == 2 and a.stats()["fetches"] == 2
        assert verify(a) == []


def test_an_old_capture_never_revives_a_removed_document(tmp_path):
    d = AMENDED
    body, h = page(d, 1)
    with Archive(tmp_path / "a.db") as a:
        a.ingest(d.url, status=200, body=body, headers=h, fetched_at="2025-01-01T00:00:00+00:00")
        a.ingest(d.url, status=404, headers={}, fetched_at="2026-01-01T00:00:00+00:00")
        warc(tmp_path / "old.warc.gz", [(d.url, "2024-05-01T00:00:00Z", 200, body)])
        import_warc(a, tmp_path / "old.warc.gz")
        assert a.document(d.url)["status"] == "gone"
        assert [v["status"] for v in a.versions(d.url)] == ["active", "gone"]   # the old capture starts v1 earlier
        assert a.versions(d.url)[0]["fetched_at"].startswith("2024")
        assert verify(a) == []


def test_a_removed_page_that_returns_is_fetched_without_old_validators(tmp_path):
    d = AMENDED
    body, h = page(d, 1)
    with Archive(tmp_path / "a.db") as a:
        a.ingest(d.url, status=200, body=body, headers=h)
        assert a.last_fetch_validators(d.url) == (h["etag"], h["last-modified"])
        a.ingest(d.url, status=404, headers={})
        assert a.last_fetch_validators(d.url) == (None, None)      # a 304 must not keep it gone
        assert a.ingest(d.url, status=200, body=body, headers=h).outcome == "new_version"
        assert a.document(d.url)["status"] == "active"
        assert a.last_fetch_validators(d.url) == (h["etag"], h["last-modified"])


def test_reextract_works_on_the_latest_version_as_it_is_when_it_gets_there(tmp_path):
    """A crawl writes v2 of a document while reextract is still busy with an earlier one."""
    docs = [x for x in site.documents() if x.portal == "chongqing_kjj" and x.amended][:2]
    db = tmp_path / "a.db"
    with Archive(db) as a:
        for d in docs:
            body, h = page(d, 1)
            a.ingest(d.url, status=200, body=body, headers=h)
    crawl = Archive(db)
    later = docs[1]

    def crawl_writes_meanwhile():
        if len(crawl.versions(later.url)) == 1:
            body, h = page(later, 2)
            assert crawl.ingest(later.url, status=200, body=body, headers=h).outcome == "new_version"

    with Archive(db) as a:
        reextract(a, progress=crawl_writes_meanwhile)
        hashes = [v["content_hash"] for v in a.versions(later.url)]
    crawl.close()
    assert len(hashes) == 2 and hashes[0] != hashes[1]       # no v3 equal to v1


def test_a_full_disk_in_a_batch_is_an_error_never_a_silent_loss(tmp_path):
    """Items a batch counted are either stored or reported lost; never counted and gone."""
    docs = [d for d in site.documents() if d.portal == "linyi_kjj" and d.state(1)]
    pages = site.build(1)
    db = tmp_path / "a.db"
    stored, failure = [], None
    with Archive(db) as a:
        a.set_batching(1000, 3600)
        a.conn.execute(f"PRAGMA max_page_count = {a.conn.execute('PRAGMA page_count').fetchone()[0] + 12}")
        for d in docs:
            p = pages[(d.host, d.path)]
            try:
                a.ingest(d.url, status=p.status, body=p.body, headers={"content-type": p.content_type})
                stored.append(d.url)
            except ArchiveWriteError as e:
                failure = str(e)
                break
        assert failure and "disk is full" in failure and "not stored" in failure
        assert not a.conn.in_transaction and a._pending == 0      # nothing left pretending to be pending
    c = sqlite3.connect(db)
    n = c.execute("SELECT count(*) FROM documents").fetchone()[0]
    c.close()
    lost = int(failure.split("last ")[1].split()[0])
    assert n == len(stored) + 1 - lost      # what the error says was lost is exactly what is missing
