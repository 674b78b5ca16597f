"""Exports of the archive: JSONL, CSV, Parquet, one text file per document, and WARC."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

from .store import Archive, ArchiveError, filter_sql

FORMATS = ("jsonl", "csv", "parquet", "txt", "warc")
JSON_FIELDS = ("metadata", "reply", "attachments", "flags")
COLUMNS = ("url", "site", "kind", "document_status", "first_seen", "last_seen", "version", "version_status",
           "fetched_at", "title", "text", "text_simplified", "published_date", "metadata", "reply", "attachments",
           "flags", "extractor_version", "content_hash", "blob_sha256")


def rows(archive: Archive, all_versions=False, **filters) -> Iterator[tuple]:
    """Raw rows in COLUMNS order, JSON fields still as JSON text: one per document or per version.
    text_simplified is null where it would repeat text (a page in simplified script)."""
    where, args = filter_sql(**filters)
    if all_versions:
        join = "JOIN versions v ON v.document_id = d.id"
    else:   # the latest version with content (a removed document keeps its last text)
        join = ("JOIN versions v ON v.id = (SELECT id FROM versions WHERE document_id = d.id AND status = 'active' "
                "ORDER BY number DESC LIMIT 1)")
    sql = ("SELECT d.url, d.site, d.kind, d.status, d.first_seen, d.last_seen, v.number, v.status, v.fetched_at, "
           "v.title, v.text, v.text_simplified, v.published_date, v.metadata, v.reply, "
           f"v.attachments, v.flags, v.extractor_version, v.content_hash, v.blob_sha256 FROM documents d {join} "
           f"{where} ORDER BY d.id, v.number")
    files = {url: [{k: v[k] for k in ("version", "fetched_at", "status")} for v in vs]
             for url, vs in archive.file_versions().items()}       # a page's export lists its files' versions
    at = COLUMNS.index("attachments")
    for r in archive.conn.execute(sql, args):
        if r[at] and r[at] != "[]":
            atts = [dict(a, versions=files.get(archive.sites.canonical_url(a["url"]), [])) for a in json.loads(r[at])]
            r = r[:at] + (json.dumps(atts, ensure_ascii=False, separators=(",", ":")),) + r[at + 1:]
        yield r


def records(archive: Archive, simplified=False, **filters) -> Iterator[dict]:
    for r in rows(archive, **filters):
        rec = dict(zip(COLUMNS, r))
        for k in JSON_FIELDS:
            rec[k] = json.loads(rec[k]) if rec[k] else None
        if simplified and rec["text_simplified"]:
            rec["text"] = rec["text_simplified"]
        yield rec


def export(archive: Archive, fmt: str, out: str | Path, simplified=False, progress=None, **filters) -> int:
    """Write the export; returns the number of records (or WARC records) written.

    A file is written beside its target and renamed over it at the end: a killed or failed export
    leaves the previous one intact. txt writes each file of its folder the same way.
    """
    if fmt not in FORMATS:
        raise ArchiveError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
    out = Path(out)
    fn = {"jsonl": _jsonl, "csv": _csv, "parquet": _parquet, "txt": _txt, "warc": export_warc}[fmt]
    try:
        if fmt == "txt":
            if out.exists() and not out.is_dir():
                raise ArchiveError(f"cannot export txt to {out}: it is a file, and txt needs a folder")
            return fn(archive, out, simplified=simplified, progress=progress, **filters)
        if out.is_dir():
            raise ArchiveError(f"cannot export to {out}: it is a folder; give a file name")
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "warc":       # out.warc is plain, out.warc.gz (or any other name) gzip-compressed
            filters["compress"] = not out.name.lower().endswith(".warc")
        with atomic_path(out) as tmp:
            return fn(archive, tmp, simplified=simplified, progress=progress, **filters)
    except OSError as e:
        raise ArchiveError(f"cannot write {e.filename or out}: {e.strerror}") from e


@contextmanager
def atomic_path(out: Path):
    """A temporary path beside ``out``, renamed to ``out`` if the block succeeds, removed if not."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _jsonl(archive, out: Path, simplified=False, progress=None, **filters) -> int:
    """Lines built from the stored JSON text directly: one orjson call per record, no re-parsing."""
    import orjson
    n = 0
    scalar = [i for i, k in enumerate(COLUMNS) if k not in JSON_FIELDS]
    nested = [(i, f',"{k}":'.encode()) for i, k in enumerate(COLUMNS) if k in JSON_FIELDS]
    names = [COLUMNS[i] for i in scalar]
    text_at, simplified_at = names.index("text"), COLUMNS.index("text_simplified")
    with open(out, "wb", buffering=1 << 20) as f:
        write = f.write
        for r in rows(archive, **filters):
            vals = [r[i] for i in scalar]
            if simplified:
                vals[text_at] = r[simplified_at] or vals[text_at]
            write(orjson.dumps(dict(zip(names, vals)))[:-1]
                  + b"".join(key + (r[i] or "null").encode() for i, key in nested) + b"}\n")
            n += 1
            if progress:
                progress()
    return n


def _csv(archive, out: Path, simplified=False, progress=None, bom=False, **filters) -> int:
    """``bom``: start with a UTF-8 byte-order mark, which Excel needs to read the file as UTF-8."""
    n = 0
    with open(out, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows(archive, **filters):
            vals = list(r)
            if simplified:
                vals[10] = vals[11] or vals[10]
            w.writerow(["" if v is None else v for v in vals])
            n += 1
            if progress:
                progress()
    return n


def parquet_schema():
    import pyarrow as pa
    s = pa.string()
    meta = pa.struct([(k, s) for k in ("index_no", "doc_no", "issuer", "topic", "genre", "written_date",
                                       "published_date", "keywords", "validity")])
    reply = pa.struct([(k, s) for k in ("kind", "addressee", "number", "session", "signer", "signed_date")])
    versions = pa.list_(pa.struct([("version", pa.int64()), ("fetched_at", s), ("status", s)]))
    att = pa.list_(pa.struct([("url", s), ("name", s), ("versions", versions)]))
    fields = []
    for c in COLUMNS:
        t = {"version": pa.int64(), "metadata": meta, "reply": reply, "attachments": att}.get(c, s)
        fields.append((c, t))
    return pa.schema(fields)


def _parquet(archive, out: Path, simplified=False, progress=None, batch=5000, **filters) -> int:
    """Metadata, reply and attachments as Parquet structs; flags as JSON text (their keys vary)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    schema = parquet_schema()
    n = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as w:
        chunk = []
        for rec in records(archive, simplified=simplified, **filters):
            rec["flags"] = json.dumps(rec["flags"], ensure_ascii=False) if rec["flags"] is not None else None
            chunk.append(rec)
            n += 1
            if progress:
                progress()
            if len(chunk) >= batch:
                w.write_table(pa.Table.from_pylist(chunk, schema=schema))
                chunk = []
        if chunk or n == 0:
            w.write_table(pa.Table.from_pylist(chunk, schema=schema))
    return n


UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def safe_name(title: str | None, url: str, limit: int = 150) -> str:
    """A file name from a title that cannot leave its folder: no separators, no '..', at most
    ``limit`` UTF-8 bytes of title (file systems allow 255), and a hash of the URL to keep it unique."""
    base = UNSAFE.sub("_", title or "").replace("..", "_").strip(" ._") or "untitled"
    base = base.encode("utf-8")[:limit].decode("utf-8", "ignore").strip(" ._") or "untitled"
    return f"{base}-{hashlib.sha1(url.encode()).hexdigest()[:10]}.txt"


def _txt(archive, out: Path, simplified=False, progress=None, all_versions=False, **filters) -> int:
    out.mkdir(parents=True, exist_ok=True)
    root = out.resolve()
    n = 0
    for rec in records(archive, simplified=simplified, all_versions=all_versions, **filters):
        folder = root / (UNSAFE.sub("_", rec["site"] or "unknown").replace("..", "_").strip(" .") or "unknown")
        name = safe_name(rec["title"], rec["url"])
        if all_versions:        # versions often share a title: one file each
            name = name[:-4] + f"-v{rec['version']}.txt"
        path = (folder / name).resolve()
        if root not in path.parents:
            raise ArchiveError(f"refusing to write outside {root}: {path}")
        folder.mkdir(exist_ok=True)
        head = [rec["title"] or "", rec["url"], f"published: {rec['published_date'] or ''}",
                f"version: {rec['version']} fetched {rec['fetched_at']}"]
        with atomic_path(path) as tmp:
            tmp.write_text("\n".join(head) + "\n\n" + (rec["text"] or "") + "\n", encoding="utf-8")
        n += 1
        if progress:
            progress()
    return n


# ---------------------------------------------------------------------------------------------
# WARC
# ---------------------------------------------------------------------------------------------

REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 304: "Not Modified", 404: "Not Found", 410: "Gone"}


def export_warc(archive: Archive, out: Path, simplified=False, progress=None, all_versions=True, compress=True,
                **filters) -> int:
    """Every stored raw response as a WARC response record (a repeated body as a revisit record), a
    removal as its 404/410 response, in fetch-time order; before them one metadata record per
    document with its kind and site, so an import of the file restores both."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter
    where, args = filter_sql(**filters)
    docs = archive.conn.execute(f"SELECT d.url, d.kind, d.site, d.first_seen FROM documents d {where} ORDER BY d.id",
                                args).fetchall()
    sql = ("SELECT d.url, f.fetched_at, f.http_status, f.etag, f.last_modified, f.content_type, f.blob_sha256 "
           f"FROM fetches f JOIN documents d ON d.id = f.document_id {where} "
           + ("AND" if where else "WHERE") + " (f.blob_sha256 IS NOT NULL OR f.outcome = 'gone') "
           "ORDER BY f.fetched_at, f.id")
    first: dict[str, tuple[str, str]] = {}
    n = 0
    with open(out, "wb") as fh:
        writer = WARCWriter(fh, gzip=compress)
        writer.write_record(writer.create_warcinfo_record(out.name, {"software": "govarchive", "format": "WARC/1.1"}))
        for url, kind_, site_, seen in docs:
            meta = json.dumps({"kind": kind_, "site": site_}, ensure_ascii=False).encode()
            writer.write_record(writer.create_warc_record(
                url, "metadata", payload=io.BytesIO(meta), warc_content_type="application/json",
                warc_headers_dict={"WARC-Date": _warc_date(seen)}))
        for url, at, status, etag, lm, ctype, sha in archive.conn.execute(sql, args).fetchall():
            date = _warc_date(at)
            status = status or 200
            headers = [("Content-Type", ctype or "text/html")]
            if etag:
                headers.append(("ETag", etag))
            if lm:
                headers.append(("Last-Modified", lm))
            if sha is None:         # a removal: the 404/410 the portal answered
                headers.append(("Content-Length", "0"))
                http = StatusAndHeaders(f"{status} {REASONS.get(status, 'Not Found')}", headers, protocol="HTTP/1.1")
                rec = writer.create_warc_record(url, "response", payload=io.BytesIO(b""), http_headers=http,
                                                warc_headers_dict={"WARC-Date": date})
            elif sha in first:
                http = StatusAndHeaders(f"{status} {REASONS.get(status, 'OK')}", headers, protocol="HTTP/1.1")
                rec = writer.create_revisit_record(url, digest=first[sha][2], refers_to_uri=first[sha][0],
                                                   refers_to_date=first[sha][1], http_headers=http,
                                                   warc_headers_dict={"WARC-Date": date})
            else:
                body = archive.get_blob(sha)
                headers.append(("Content-Length", str(len(body))))
                http = StatusAndHeaders(f"{status} {REASONS.get(status, 'OK')}", headers, protocol="HTTP/1.1")
                rec = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                                warc_headers_dict={"WARC-Date": date})
                first[sha] = (url, date, rec.rec_headers.get_header("WARC-Payload-Digest"))
            writer.write_record(rec)
            n += 1
            if progress:
                progress()
    return n


def _warc_date(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError):
        return iso
