"""Checking and re-deriving what the archive holds: verify hashes, re-run extraction."""
from __future__ import annotations

import hashlib
import json

from .store import Archive, ArchiveError, content_hash, GONE_HASH


def verify(archive: Archive, progress=None) -> list[str]:
    """Problems found: blobs whose bytes do not hash to their key, versions whose hash is wrong,
    and records that disagree with each other (a document's latest version, a version's fetch)."""
    problems = []
    for sha, size, codec, data in archive.conn.execute("SELECT sha256, size, codec, data FROM blobs"):
        try:
            body = archive._decompress(codec, data)
        except Exception as e:  # noqa: BLE001 - any failure to read a blob is a finding
            problems.append(f"blob {sha}: cannot decompress ({type(e).__name__}: {e})")
            continue
        if hashlib.sha256(body).hexdigest() != sha:
            problems.append(f"blob {sha}: content hashes to {hashlib.sha256(body).hexdigest()}")
        elif len(body) != size:
            problems.append(f"blob {sha}: size {len(body)} recorded as {size}")
        if progress:
            progress()
    for vid, url, number, status, title, text, meta, reply, atts, pub, h in archive.conn.execute(
            "SELECT v.id, d.url, v.number, v.status, v.title, v.text, v.metadata, v.reply, v.attachments, "
            "v.published_date, v.content_hash FROM versions v JOIN documents d ON d.id = v.document_id"):
        want = GONE_HASH if status == "gone" else content_hash(
            title, text, json.loads(meta) if meta else None, json.loads(reply) if reply else None,
            json.loads(atts) if atts else None, pub)
        if want != h:
            problems.append(f"version {number} of {url}: content hash {h} does not match its content ({want})")
        if progress:
            progress()
    for url, latest, real in archive.conn.execute(
            "SELECT d.url, d.latest_version, (SELECT max(number) FROM versions WHERE document_id = d.id) "
            "FROM documents d WHERE d.latest_version IS NOT (SELECT max(number) FROM versions WHERE document_id = d.id)"):
        problems.append(f"{url}: latest version recorded as {latest}, but the newest version is {real}")
    for url, number in archive.conn.execute(
            "SELECT d.url, v.number FROM versions v JOIN documents d ON d.id = v.document_id LEFT JOIN fetches f "
            "ON f.id = v.fetch_id WHERE f.id IS NULL OR f.version_id IS NOT v.id"):
        problems.append(f"version {number} of {url}: no fetch records it")
    for url, status, gone in archive.conn.execute(
            "SELECT d.url, d.status, v.status = 'gone' FROM documents d JOIN versions v ON v.document_id = d.id "
            "AND v.number = d.latest_version WHERE (d.status = 'gone') != (v.status = 'gone')"):
        problems.append(f"{url}: document is {status} but its latest version says otherwise")
    orphans = archive.conn.execute(
        "SELECT count(*) FROM versions WHERE blob_sha256 IS NOT NULL AND blob_sha256 NOT IN (SELECT sha256 FROM blobs)"
    ).fetchone()[0]
    if orphans:
        problems.append(f"{orphans} versions refer to raw bodies that are missing")
    return problems


def reextract(archive: Archive, site: str | None = None, progress=None) -> dict:
    """Re-run the current extractor over each document's latest raw body; a version only where output changed.

    Each document is read, extracted and written in one transaction, so a crawl writing at the
    same time is never undone: what is re-extracted is the latest version as it is at that moment.
    """
    if archive.extract is None:
        raise ArchiveError("reextract needs an archive opened with an extractor")
    ids = [r[0] for r in archive.conn.execute(
        "SELECT id FROM documents" + (" WHERE site = ?" if site else "") + " ORDER BY id", [site] if site else [])]
    counts = {"new_version": 0, "unchanged": 0, "error": 0}
    run = archive.start_run("reextract")
    for doc_id in ids:
        with archive.batch():
            row = archive.conn.execute(
                "SELECT d.url, d.kind, v.blob_sha256, f.content_type FROM documents d "
                "JOIN versions v ON v.document_id = d.id AND v.number = d.latest_version "
                "LEFT JOIN fetches f ON f.id = v.fetch_id "
                "WHERE d.id = ? AND v.status = 'active' AND v.blob_sha256 IS NOT NULL", (doc_id,)).fetchone()
            if row is None:
                continue
            url, kind, sha, ctype = row
            body = archive.get_blob(sha)
            doc, _ = archive.extract(body, url, ctype)
            if doc is None:
                counts["error"] += 1
                continue
            out = archive.ingest(url, status=200, body=body, headers={"content-type": ctype} if ctype else {},
                                 document=doc, kind=kind, run_id=run)
        counts[out.outcome] = counts.get(out.outcome, 0) + 1
        if progress:
            progress()
    archive.finish_run(run)
    return counts
