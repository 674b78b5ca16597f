"""Pages obtained elsewhere: saved HTML files and WARC files from other crawlers or from us."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from .store import Archive, ArchiveError, Outcome


def import_html(archive: Archive, path: str | Path, url: str, fetched_at: str | None = None) -> Outcome:
    """One saved page, as if fetched from ``url`` (a mirror copy, a browser save, a colleague's file)."""
    p = Path(path)
    try:
        body = p.read_bytes()
    except OSError as e:
        raise ArchiveError(f"cannot read {p}: {e.strerror}") from e
    if not url.startswith(("http://", "https://")):
        raise ArchiveError(f"--url must be an http(s) URL, got {url!r}")
    when = fetched_at or datetime.fromtimestamp(p.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
    return archive.ingest(url, status=200, body=body, headers={}, fetched_at=when)


def import_warc(archive: Archive, path: str | Path, progress=None) -> dict:
    """Every HTML response (and revisit) record of a WARC file; returns outcome counts."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed
    counts: dict[str, int] = {}
    bodies: dict[str, bytes] = {}       # payload digest -> body, for revisit records
    p = Path(path)
    try:
        fh = open(p, "rb")
    except OSError as e:
        raise ArchiveError(f"cannot read {p}: {e.strerror}") from e
    records = 0
    with fh:
        try:
            for rec in ArchiveIterator(fh):
                if not getattr(rec, "format", "warc").startswith("warc"):
                    continue
                records += 1
                if rec.rec_type not in ("response", "revisit") or rec.http_headers is None:
                    continue
                url = rec.rec_headers.get_header("WARC-Target-URI")
                date = rec.rec_headers.get_header("WARC-Date")
                digest = rec.rec_headers.get_header("WARC-Payload-Digest")
                status = int(rec.http_headers.get_statuscode() or 0)
                headers = {k: v for k, v in rec.http_headers.headers
                           if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")}
                if rec.rec_type == "response":
                    body = rec.content_stream().read()
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
                out = archive.ingest(url, status=status, body=body, headers=headers, fetched_at=_iso(date))
                counts[out.outcome] = counts.get(out.outcome, 0) + 1
                if progress:
                    progress()
        except (ArchiveLoadFailed, ValueError, OSError) as e:
            raise ArchiveError(f"{p} is not a readable WARC file: {e}") from e
    if not records and p.stat().st_size:
        raise ArchiveError(f"{p} is not a readable WARC file: no WARC records in it")
    return counts


def _iso(warc_date: str | None) -> str | None:
    if not warc_date:
        return None
    try:
        return datetime.strptime(warc_date[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).isoformat()
    except ValueError:
        return None
