"""Pages obtained elsewhere: saved HTML files and WARC files from other crawlers or from us.

Imports keep history in fetch-time order (an old capture never becomes the latest version) and
can be repeated: a record the archive already holds (same URL, date, status and body) is skipped.
"""
from __future__ import annotations

import json
import zlib
from datetime import datetime, timezone
from pathlib import Path

from .store import Archive, ArchiveError, Outcome

NOT_HTML = {b"\x89PNG": "a PNG image", b"%PDF": "a PDF file", b"GIF8": "a GIF image", b"\xff\xd8\xff": "a JPEG image",
            b"PK\x03\x04": "a zip/Office file", b"\xd0\xcf\x11\xe0": "an Office file", b"\x1f\x8b": "gzip data"}


def not_html(body: bytes) -> str | None:
    """Why a body is no HTML page, or None: empty, or a known binary format by its first bytes."""
    if not body.strip():
        return "it is empty"
    for magic, what in NOT_HTML.items():
        if body.startswith(magic):
            return f"it is {what}"
    return None


def import_html(archive: Archive, path: str | Path, url: str, fetched_at: str | None = None) -> Outcome:
    """One saved page, as if fetched from ``url`` (a mirror copy, a browser save, a colleague's file)."""
    p = Path(path)
    try:
        body = p.read_bytes()
    except OSError as e:
        raise ArchiveError(f"cannot read {p}: {e.strerror}") from e
    if not url.startswith(("http://", "https://")):
        raise ArchiveError(f"--url must be an http(s) URL, got {url!r}")
    why = not_html(body)
    if why:
        raise ArchiveError(f"{p} is not an HTML page: {why}")
    when = fetched_at or datetime.fromtimestamp(p.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
    return archive.ingest(url, status=200, body=body, headers={}, fetched_at=when, once=True)


def import_warc(archive: Archive, path: str | Path, progress=None) -> dict:
    """Every HTML response (and revisit) record of a WARC file; returns outcome counts.

    Responses with 404/410 become tombstones; our own export's metadata records give documents
    their kinds. A file cut short is an error, after the complete records before the cut.
    """
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed
    counts: dict[str, int] = {}
    bodies: dict[str, bytes] = {}       # payload digest -> body, for revisit records
    kinds: dict[str, str] = {}          # URL -> kind, from metadata records
    p = Path(path)
    try:
        fh = open(p, "rb")
    except OSError as e:
        raise ArchiveError(f"cannot read {p}: {e.strerror}") from e
    records = 0
    with fh:
        try:
            it = ArchiveIterator(fh)
            for rec in it:
                if not getattr(rec, "format", "warc").startswith("warc"):
                    continue
                records += 1
                url = rec.rec_headers.get_header("WARC-Target-URI")
                if rec.rec_type == "metadata" and url and (rec.rec_headers.get_header("Content-Type") or "").startswith(
                        "application/json"):
                    kind = _json(rec.content_stream().read()).get("kind")
                    if kind:
                        kinds[url] = kind
                    continue
                if rec.rec_type not in ("response", "revisit") or rec.http_headers is None:
                    continue
                if not url:
                    raise ArchiveError(f"{p}: record {records} has no WARC-Target-URI")
                date = rec.rec_headers.get_header("WARC-Date")
                digest = rec.rec_headers.get_header("WARC-Payload-Digest")
                status = int(rec.http_headers.get_statuscode() or 0)
                headers = {k: v for k, v in rec.http_headers.headers
                           if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")}
                if rec.rec_type == "response":
                    body = rec.content_stream().read()
                    if rec.raw_stream.limit > 0:
                        raise ArchiveError(f"{p} is cut short inside record {records} ({url}); the records before it "
                                           f"were imported")
                    if digest:
                        bodies[digest] = body
                else:
                    body = bodies.get(digest)
                    if body is None:
                        counts["skipped_revisit"] = counts.get("skipped_revisit", 0) + 1
                        continue
                ctype = (rec.http_headers.get_header("Content-Type") or "text/html").lower()
                if status == 200 and "html" not in ctype:
                    counts["skipped_not_html"] = counts.get("skipped_not_html", 0) + 1
                    continue
                out = archive.ingest(url, status=status, body=body if status == 200 else None, headers=headers,
                                     fetched_at=_iso(date), kind=kinds.get(url), once=True)
                counts[out.outcome] = counts.get(out.outcome, 0) + 1
                if progress:
                    progress()
        except AttributeError as e:     # warcio reads a response's HTTP headers before we see its URI
            raise ArchiveError(f"{p}: record {records + 1} has no WARC-Target-URI: the file is malformed or cut short") from e
        except (ArchiveLoadFailed, ValueError, OSError) as e:
            raise ArchiveError(f"{p} is not a readable WARC file: {e}") from e
    if not records and p.stat().st_size:
        raise ArchiveError(f"{p} is not a readable WARC file: no WARC records in it")
    if not _gzip_complete(p):
        raise ArchiveError(f"{p} is cut short: its last gzip member ends early; the {records} complete records "
                           f"before the cut were imported")
    return counts


def _gzip_complete(p: Path) -> bool:
    """False for a gzip file whose last member stops short (warcio stops reading it silently)."""
    with open(p, "rb") as f:
        if f.read(2) != b"\x1f\x8b":
            return True
        f.seek(0)
        d, in_member, data = zlib.decompressobj(31), False, b""
        try:
            while True:
                if not data:
                    data = f.read(1 << 20)
                    if not data:
                        return d.eof or not in_member
                in_member = True
                d.decompress(data, 1 << 16)         # output dropped: only the framing is checked
                data = d.unconsumed_tail
                if d.eof:
                    d, in_member, data = zlib.decompressobj(31), False, d.unused_data
        except zlib.error:
            return False


def _json(data: bytes) -> dict:
    try:
        out = json.loads(data)
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def _iso(warc_date: str | None) -> str | None:
    if not warc_date:
        return None
    try:
        return datetime.strptime(warc_date[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).isoformat()
    except ValueError:
        return None
