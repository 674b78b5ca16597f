"""Archive shards: a crawl on another machine works on a slice of the archive and hands back a shard.

A worker cannot write the central SQLite file over a network. So a job takes a *slice* for its
portal (``take_slice``): an archive file with the portal's documents, their latest versions and
the fetch that gave each its validators — what conditional requests, the revisit policy and
change detection read. The crawl writes into that file, which is then a *shard*. ``merge``
replays the shard's own fetches (not the sliced-in rows) into the archive through ``ingest``,
one transaction per shard: an archived fetch (same URL, time, status and body) is skipped, so
merging twice changes nothing, and an older fetch is put into history in fetch-time order,
whatever order the shards come in. Bodies are stored once, by hash.
"""
from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

from .store import Archive, ArchiveError, Content, now

SLICE_KEYS = ("slice_site", "slice_fetch_max", "slice_taken")


def take_slice(archive: Archive, site: str, out: str | os.PathLike) -> dict:
    """Write the slice of ``site`` to ``out`` (a new file); returns what it holds."""
    out = Path(out)
    if out.exists():
        raise ArchiveError(f"{out} exists: a slice is written to a new file")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with Archive(tmp, sites=archive.sites) as s:
            s.conn.execute("ATTACH DATABASE ? AS src", (str(archive.path),))
            with s.batch():
                c = s.conn
                c.execute("PRAGMA defer_foreign_keys = ON")      # bodies are not sliced: their links go below
                c.execute("INSERT INTO documents SELECT * FROM src.documents WHERE site = ?", (site,))
                c.execute("INSERT INTO versions SELECT v.* FROM src.versions v JOIN documents d ON d.id = v.document_id "
                          "AND v.number = d.latest_version")
                # the fetch that gives each document its validators and its last check
                c.execute("INSERT INTO fetches SELECT f.* FROM src.fetches f WHERE f.id IN (SELECT (SELECT id FROM "
                          "src.fetches WHERE document_id = d.id AND http_status = 200 AND outcome IN ('new_version', "
                          "'unchanged') ORDER BY fetched_at DESC, id DESC LIMIT 1) FROM documents d)")
                c.execute("UPDATE fetches SET run_id = NULL, version_id = NULL, blob_sha256 = NULL")
                c.execute("UPDATE versions SET fetch_id = NULL, blob_sha256 = NULL")
                d = c.execute("SELECT id, site, created, data FROM src.dicts WHERE site = ? ORDER BY id DESC LIMIT 1",
                              (site,)).fetchone()
                if d:
                    c.execute("INSERT INTO dicts VALUES (?, ?, ?, ?)", d)
                s._rebuild_search()
                counts = {"documents": c.execute("SELECT count(*) FROM documents").fetchone()[0],
                          "fetch_max": c.execute("SELECT coalesce(max(id), 0) FROM fetches").fetchone()[0]}
                for k, v in zip(SLICE_KEYS, (site, counts["fetch_max"], now())):
                    c.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (k, str(v)))
            s.conn.execute("DETACH DATABASE src")
        os.replace(tmp, out)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    return counts


def merge(archive: Archive, shard: str | os.PathLike) -> dict:
    """Fold one shard into ``archive`` in one transaction; returns its fetches counted by outcome
    (``duplicate``: already merged)."""
    counts: dict[str, int] = {}
    with Archive(shard, readonly=True, sites=archive.sites) as s:
        meta = dict(s.conn.execute("SELECT key, value FROM meta").fetchall())
        base = int(meta.get("slice_fetch_max") or 0)
        with archive.batch():
            runs = {rid: _run(archive, row) for rid, *row in s.conn.execute(
                "SELECT id, spider, job, started, ended, counts FROM runs")}
            for f in s.db.query(
                    "SELECT f.*, coalesce(f.url, d.url) AS doc_url, d.kind FROM fetches f LEFT JOIN documents d "
                    "ON d.id = f.document_id WHERE f.id > ? AND f.outcome != 'duplicate' ORDER BY f.fetched_at, f.id",
                    [base]):
                out = archive.ingest(
                    f["doc_url"], status=f["http_status"], body=s.get_blob(f["blob_sha256"]) if f["blob_sha256"] else None,
                    headers={k: f[c] for k, c in (("etag", "etag"), ("last-modified", "last_modified"),
                                                  ("content-type", "content_type")) if f[c]},
                    document=_document(s, f), error=f["error"] if f["outcome"] in ("error", "blocked", "soft_404") else None,
                    refused=f["outcome"] if f["outcome"] in ("blocked", "soft_404") else None,
                    run_id=runs.get(f["run_id"]), kind=f["kind"], duration_ms=f["duration_ms"],
                    fetched_at=f["fetched_at"], once=True)
                counts[out.outcome] = counts.get(out.outcome, 0) + 1
    return counts


def _run(archive: Archive, row) -> int:
    """The archive's run for a shard's run: the same spider, job and start time, once."""
    spider, job, started, ended, counts = row
    found = archive.conn.execute("SELECT id FROM runs WHERE spider IS ? AND job IS ? AND started IS ?",
                                 (spider, job, started)).fetchone()
    if found:
        return found[0]
    return archive.conn.execute("INSERT INTO runs (spider, job, started, ended, counts) VALUES (?, ?, ?, ?, ?)",
                                (spider, job, started, ended, counts)).lastrowid


def _document(s: Archive, f: dict) -> Content | None:
    """The content a 200 fetch gave: its own version, else the version in effect at that time."""
    if f["http_status"] != 200 or f["outcome"] not in ("new_version", "unchanged"):
        return None
    rows = list(s.db.query(
        "SELECT title, text, text_simplified, published_date, metadata, reply, attachments, flags, extractor_version "
        "FROM versions WHERE document_id = ? AND status = 'active' AND (id = ? OR fetched_at <= ?) "
        "ORDER BY id = ? DESC, number DESC LIMIT 1",
        [f["document_id"], f["version_id"], f["fetched_at"], f["version_id"]]))
    if not rows:
        return None
    v = Archive._version_dict(rows[0])
    return Content(**{k.name: v[k.name] for k in fields(Content)} | {
        "text": v["text"] or "", "text_simplified": v["text_simplified"] or v["text"] or "",
        "extractor_version": v["extractor_version"] or ""})
