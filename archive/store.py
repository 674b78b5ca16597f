"""The versioned archive: one SQLite file, built on sqlite-utils.

Tables: ``documents`` (one per canonical URL), ``versions`` (a row per real change of the
extracted content, or a ``gone`` tombstone), ``blobs`` (raw bodies, content-addressed, zstd),
``fetches`` (every attempt and its outcome; the ``fetch_log`` view adds URLs), ``runs`` (crawl
runs), ``dicts`` (per-site zstd dictionaries), and ``search_text`` / ``search_title`` (FTS5 over
character bigrams of the latest versions).

Every ingest is one transaction (or part of a ``batch()``), retried with backoff while another
writer holds the lock. WAL mode lets readers run during a crawl.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import sqlite_utils
import zstandard
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential, wait_random

from .sites import Sites

DEFAULT_DB = "data/govarchive.db"
OUTCOMES = ("new_version", "unchanged", "not_modified", "gone", "error", "blocked", "soft_404", "duplicate")
ZSTD_LEVEL = 10
DICT_AFTER = 128         # bodies of a site before its dictionary is trained (fewer train a poor one)
DICT_SIZE = 64 * 1024
PAGE_SIZE = 16384        # rows of a few kB fill 16 kB pages well; 4 kB pages waste a third


def default_path(path: str | os.PathLike | None = None) -> Path:
    """--db / ARCHIVE_DB, then GOVARCHIVE_DB, then ./data/govarchive.db."""
    return Path(path or os.environ.get("GOVARCHIVE_DB") or DEFAULT_DB)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _locked(e: BaseException) -> bool:
    return isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e))


retry_locked = retry(retry=retry_if_exception(_locked), wait=wait_exponential(multiplier=0.05, max=2) + wait_random(0, 0.05),
                     stop=stop_after_delay(120), reraise=True)


class ArchiveError(Exception):
    """A clear, user-facing problem with the archive or the input given to it."""


class ArchiveWriteError(ArchiveError):
    """The archive could not be written (disk full, I/O error): what was not committed is lost,
    and a crawl must stop and say so rather than count it as archived."""


def _disk_error(e: BaseException) -> bool:
    return isinstance(e, sqlite3.OperationalError) and any(w in str(e) for w in ("full", "disk I/O", "readonly"))


def _write_failure(e: BaseException, lost: int) -> ArchiveWriteError:
    cause = "the disk is full" if "full" in str(e) else str(e)
    return ArchiveWriteError(f"the archive could not be written ({cause}); the last {lost} items were not stored")


@dataclass
class Content:
    """What the archive keeps of an extracted page or file: ``ingest`` takes one (the crawler's
    Document is one, with the page's URL and script besides)."""
    title: str | None
    text: str
    text_simplified: str
    published_date: str | None
    metadata: dict
    reply: dict | None
    attachments: list = field(default_factory=list)
    flags: dict = field(default_factory=dict)
    extractor_version: str = ""


@dataclass
class Outcome:
    outcome: str
    document_id: int | None
    version: int | None
    fetch_id: int
    message: str | None = None


# ---------------------------------------------------------------------------------------------
# Schema and migrations. Each migration is applied once, in order; ``meta.schema_version``
# records how far an archive is. Never edit a released migration: add one.
# ---------------------------------------------------------------------------------------------

MIGRATIONS: list[str] = [
    # 1: the first release
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
    CREATE TABLE runs (id INTEGER PRIMARY KEY, spider TEXT, job TEXT, started TEXT, ended TEXT, counts TEXT);
    CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, codec TEXT NOT NULL, data BLOB NOT NULL);
    CREATE TABLE documents (
        id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, site TEXT, kind TEXT,
        first_seen TEXT, last_seen TEXT, status TEXT NOT NULL DEFAULT 'active', latest_version INTEGER);
    CREATE TABLE versions (
        id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL REFERENCES documents(id), number INTEGER NOT NULL,
        fetched_at TEXT NOT NULL, status TEXT NOT NULL, title TEXT, text TEXT, text_simplified TEXT,
        published_date TEXT, metadata TEXT, reply TEXT, attachments TEXT, flags TEXT, extractor_version TEXT,
        content_hash TEXT NOT NULL, blob_sha256 TEXT REFERENCES blobs(sha256), fetch_id INTEGER,
        UNIQUE (document_id, number));
    CREATE TABLE fetches (
        id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id), url TEXT NOT NULL, document_id INTEGER,
        fetched_at TEXT NOT NULL, http_status INTEGER, etag TEXT, last_modified TEXT, bytes INTEGER,
        duration_ms INTEGER, outcome TEXT NOT NULL, error TEXT, version_id INTEGER, blob_sha256 TEXT);
    CREATE INDEX fetches_url ON fetches(url, id);
    CREATE INDEX versions_document ON versions(document_id, number);
    """,
    # 2: per-site zstd dictionaries, the bigram search index, run and fetch lookups
    """
    CREATE TABLE dicts (id INTEGER PRIMARY KEY, site TEXT NOT NULL, created TEXT, data BLOB NOT NULL);
    ALTER TABLE fetches ADD COLUMN content_type TEXT;
    CREATE VIRTUAL TABLE search USING fts5(title, body, content='', tokenize='unicode61');
    CREATE INDEX fetches_run ON fetches(run_id, outcome);
    CREATE INDEX documents_site ON documents(site, kind);
    CREATE INDEX versions_fetched ON versions(fetched_at);
    """,
    # 3: compact storage. The search index keeps no positions (each hit is checked for the exact
    # phrase anyway) and titles get an index of their own, for ranking; a fetch of an archived
    # document names it by id, not by repeating its URL (the fetch_log view shows the URL).
    """
    DROP TABLE search;
    CREATE VIRTUAL TABLE search_text USING fts5(text, content='', detail=none, tokenize='unicode61');
    CREATE VIRTUAL TABLE search_title USING fts5(title, content='', detail=none, tokenize='unicode61');
    CREATE TABLE fetches_v3 (
        id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id), url TEXT, document_id INTEGER,
        fetched_at TEXT NOT NULL, http_status INTEGER, etag TEXT, last_modified TEXT, bytes INTEGER,
        duration_ms INTEGER, outcome TEXT NOT NULL, error TEXT, version_id INTEGER, blob_sha256 TEXT,
        content_type TEXT, CHECK (url IS NOT NULL OR document_id IS NOT NULL));
    INSERT INTO fetches_v3 SELECT f.id, f.run_id, CASE WHEN d.id IS NULL THEN f.url END, d.id, f.fetched_at,
        f.http_status, f.etag, f.last_modified, f.bytes, f.duration_ms, f.outcome, f.error, f.version_id,
        f.blob_sha256, f.content_type FROM fetches f LEFT JOIN documents d ON d.url = f.url;
    DROP TABLE fetches;
    ALTER TABLE fetches_v3 RENAME TO fetches;
    CREATE INDEX fetches_document ON fetches(document_id, id);
    CREATE INDEX fetches_url ON fetches(url, id) WHERE url IS NOT NULL;
    CREATE VIEW fetch_log AS SELECT f.id, coalesce(f.url, d.url) AS url, d.site, f.run_id, f.fetched_at,
        f.http_status, f.outcome, f.error, f.etag, f.last_modified, f.content_type, f.bytes, f.duration_ms,
        f.version_id, f.blob_sha256 FROM fetches f LEFT JOIN documents d ON d.id = f.document_id;
    """,
    # 4: attachments are documents of their own; ``links`` says which pages ever linked which file
    # (by the file's canonical URL, so a link is kept before the file is fetched, and after)
    """
    CREATE TABLE links (parent_id INTEGER NOT NULL REFERENCES documents(id), url TEXT NOT NULL, name TEXT,
        PRIMARY KEY (parent_id, url)) WITHOUT ROWID;
    CREATE INDEX links_url ON links(url);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def content_hash(title, text, metadata, reply, attachments, published_date) -> str:
    """Hash of the normalised extracted content: what a reader sees, not the raw HTML."""
    norm_text = "\n".join(" ".join(line.split()) for line in (text or "").split("\n") if line.strip())
    payload = {"title": " ".join((title or "").split()), "text": norm_text, "metadata": metadata or {},
               "reply": reply, "attachments": sorted(a["url"] for a in (attachments or [])),
               "published_date": published_date}
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


GONE_HASH = "gone"
ATTACHMENT = "attachment"      # the kind of a linked file's document


class Archive:
    """A versioned archive in one SQLite file. Use as a context manager or call ``close()``."""

    def __init__(self, path: str | os.PathLike | None = None, readonly: bool = False, migrate_to: int | None = None,
                 create: bool = True, sites: Sites | None = None, extract=None):
        """``create=False``: the file must already be an archive (a mistyped path is an error, not a
        new archive). ``readonly``: never writes; works on read-only media and leaves no -wal/-shm.
        ``sites``: URL identity (which hosts are one portal). ``extract``: the extractor, a callable
        (body, url, content type) -> (document, error), for bodies ingested without a document;
        the crawler extracts before it ingests, the CLI hands its commands the extractor."""
        self.path = default_path(path)
        self.sites = sites or Sites()
        self.extract = extract
        self.readonly = readonly
        if (readonly or not create) and not self.path.exists():
            raise ArchiveError(f"no archive at {self.path}" + ("" if readonly else ": give --create to start one"))
        conn = self._connect_readonly() if readonly else self._connect()
        conn.execute("PRAGMA busy_timeout = 60000")
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self._dicts: dict[int, zstandard.ZstdCompressionDict] = {}
        self._site_dict_ids: dict[str, int] = {}   # site -> its zstd dictionary
        self._site_blobs: dict[str, int] = {}      # site -> bodies stored so far, until it has one
        self._in_tx = False
        self._batching: tuple[int, float] | None = None     # (items, seconds) while a crawl writes
        self._pending, self._opened = 0, 0.0
        try:
            self._refuse_foreign()
            if not readonly:
                self._pragmas()
                self._migrate(migrate_to or SCHEMA_VERSION)
            self._check_version()
        except BaseException:
            conn.close()
            raise

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)

    def _connect_readonly(self) -> sqlite3.Connection:
        """A reader. Where the file can be written, an ordinary connection that refuses writes: the
        last one to close removes the -wal/-shm files. On read-only media, mode=ro, and immutable
        when SQLite cannot create the WAL index there (then no writer can exist either)."""
        if os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK):
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA query_only = ON")
            return conn
        for uri in (f"file:{self.path}?mode=ro", f"file:{self.path}?mode=ro&immutable=1"):
            conn = sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None, check_same_thread=False)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.OperationalError:
                conn.close()
            except sqlite3.DatabaseError as e:
                conn.close()
                raise ArchiveError(f"{self.path} is not a govarchive archive: {e}") from e
        raise ArchiveError(f"cannot read {self.path} on read-only media")

    def _refuse_foreign(self) -> None:
        """Never touch a database that is not ours: no WAL switch, no tables added."""
        try:
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as e:
            raise ArchiveError(f"{self.path} is not a govarchive archive: {e}") from e
        if not tables:
            return          # a new, empty file
        if "meta" in tables:
            try:
                if self.conn.execute("SELECT 1 FROM meta WHERE key = 'schema_version'").fetchone():
                    return
            except sqlite3.OperationalError:
                pass
        raise ArchiveError(f"{self.path} is an SQLite database but not a govarchive archive "
                           f"(its tables: {', '.join(sorted(tables)[:6])}); refusing to change it")

    # -----------------------------------------------------------------------------------------
    def _pragmas(self) -> None:
        try:
            if self.conn.execute("PRAGMA page_count").fetchone()[0] == 0:     # a new file
                self.conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.DatabaseError as e:
            raise ArchiveError(f"{self.path} is not a govarchive database: {e}") from e
        if mode.lower() != "wal":
            raise ArchiveError(f"could not switch {self.path} to WAL mode")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA foreign_keys = ON")

    def schema_version(self) -> int:
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return 0
            raise ArchiveError(f"cannot read {self.path}: {e}") from e
        except sqlite3.DatabaseError as e:
            raise ArchiveError(f"{self.path} is not a govarchive database: {e}") from e
        return int(row[0]) if row else 0

    @retry_locked
    def _migrate(self, target: int) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise ArchiveError(f"{self.path} has schema version {current}; this govarchive knows up to "
                               f"{SCHEMA_VERSION}: upgrade govarchive")
        if current >= target:
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            current = self.schema_version()
            for n in range(current, target):
                for stmt in MIGRATIONS[n].split(";"):
                    if stmt.strip():
                        self.conn.execute(stmt)
                self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(n + 1),))
            if current < 3 <= target:
                self._rebuild_search()
            if current < 4 <= target:
                for doc_id, atts in self.conn.execute("SELECT document_id, attachments FROM versions "
                                                      "WHERE attachments IS NOT NULL").fetchall():
                    self._link(doc_id, json.loads(atts))
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def _check_version(self) -> None:
        v = self.schema_version()
        if self.readonly and v != SCHEMA_VERSION:
            raise ArchiveError(f"{self.path} has schema version {v}, expected {SCHEMA_VERSION}: open it once "
                               f"read-write to migrate")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -----------------------------------------------------------------------------------------
    @contextmanager
    def batch(self):
        """Group several writes in one transaction: all of them land, or none."""
        if self._in_tx:
            yield
            return
        self.begin()
        try:
            yield
            self.commit()
        except BaseException:
            self.rollback()
            raise

    @retry_locked
    def begin(self) -> None:
        """Open a write transaction (waiting, with backoff, while another writer holds the lock)."""
        self.conn.execute("BEGIN IMMEDIATE")
        self._in_tx = True

    def commit(self) -> None:
        if self._in_tx:
            self.conn.execute("COMMIT")
            self._in_tx = False

    def rollback(self) -> None:
        if self._in_tx:
            self._in_tx = False
            if self.conn.in_transaction:      # SQLite may have rolled back already (disk full)
                self.conn.execute("ROLLBACK")
            self._forget_dicts()

    def _forget_dicts(self) -> None:
        """After a rollback a dictionary trained in it no longer exists (and its id may be reused)."""
        self._dicts.clear()
        self._site_dict_ids.clear()
        self._site_blobs.clear()

    def set_batching(self, items: int, seconds: float) -> None:
        """Group ingests into transactions of ``items`` (or ``seconds``), for crawls; ``flush()`` ends one."""
        self._batching = (items, seconds)

    def flush(self) -> None:
        """Commit the open batch, if any."""
        if self._pending:
            lost = self._pending
            self._pending = 0
            try:
                self.commit()
            except sqlite3.Error as e:
                self._abandon()
                raise _write_failure(e, lost) from e

    def flush_if_due(self) -> None:
        """Commit the open batch if it has been open for its time: called on a timer, so a crawl
        that waits on the network does not hold the write lock."""
        if self._pending and self._batching and time.monotonic() - self._opened > self._batching[1]:
            self.flush()

    def _abandon(self) -> None:
        """After SQLite rolled a transaction back on its own (disk full, I/O error)."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self._in_tx, self._pending = False, 0
        self._forget_dicts()

    def _undo_item(self, e: BaseException) -> None:
        """Undo the failed item of a batch, keeping the batch's earlier items. If the disk is full or
        SQLite has undone the whole batch itself, raise an ArchiveWriteError that says how many
        items were lost."""
        lost = self._pending + 1
        if not self.conn.in_transaction:
            self._abandon()
            raise _write_failure(e, lost) from e
        try:
            if self._pending:
                self.conn.execute("ROLLBACK TO item")
                self.conn.execute("RELEASE item")
                self._forget_dicts()
                if _disk_error(e):
                    self.flush()       # keep what was written before; raises if even that fails
            else:
                self.rollback()
        except sqlite3.Error:
            self._abandon()
            raise _write_failure(e, lost) from e
        if _disk_error(e):
            raise _write_failure(e, 1) from e

    @contextmanager
    def _write(self):
        if self._batching and (self._pending or not self._in_tx):
            if not self._pending:
                self.begin()
                self._opened = time.monotonic()
            self.conn.execute("SAVEPOINT item")
            try:
                yield
                self.conn.execute("RELEASE item")
            except BaseException as e:
                self._undo_item(e)
                raise
            self._pending += 1
            items, seconds = self._batching
            if self._pending >= items or time.monotonic() - self._opened > seconds:
                self.flush()
        elif self._in_tx:
            yield
        else:
            try:
                with self.batch():
                    yield
            except sqlite3.OperationalError as e:
                if _disk_error(e):
                    raise _write_failure(e, 1) from e
                raise

    # -----------------------------------------------------------------------------------------
    # runs
    # -----------------------------------------------------------------------------------------
    def start_run(self, spider: str, job: str | None = None) -> int:
        with self._write():
            cur = self.conn.execute("INSERT INTO runs (spider, job, started) VALUES (?, ?, ?)", (spider, job, now()))
            return cur.lastrowid

    def finish_run(self, run_id: int, **extra: int) -> dict:
        """Close a run with its fetches counted by outcome, and ``extra`` counts (pages not due …)."""
        counts = dict(self.conn.execute(
            "SELECT outcome, count(*) FROM fetches WHERE run_id = ? GROUP BY outcome", (run_id,)).fetchall())
        counts.update({k: v for k, v in extra.items() if v})
        with self._write():
            self.conn.execute("UPDATE runs SET ended = ?, counts = ? WHERE id = ?", (now(), json.dumps(counts), run_id))
        return counts

    def done_in_job(self, job: str, url: str) -> bool:
        """Was ``url`` fetched to a final outcome by a run of this job (resume after a crash)?"""
        doc = self._document_id(self.sites.canonical_url(url))
        row = doc and self.conn.execute(
            "SELECT 1 FROM fetches f JOIN runs r ON r.id = f.run_id WHERE f.document_id = ? AND r.job = ? "
            "AND f.outcome NOT IN ('error', 'blocked') LIMIT 1", (doc, job)).fetchone()
        return bool(row)

    def _document_id(self, url: str) -> int | None:
        row = self.conn.execute("SELECT id FROM documents WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

    # -----------------------------------------------------------------------------------------
    # blobs
    # -----------------------------------------------------------------------------------------
    def put_blob(self, body: bytes, site: str | None = None, previous: str | None = None, sha: str | None = None) -> str:
        """Store a raw body once. ``previous``: the same document's last body, to store this one as a
        delta against (a page that changed only its view counter then costs a few bytes). ``sha``:
        the body's sha256, when the caller has it already."""
        sha = sha or hashlib.sha256(body).hexdigest()
        if self.conn.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (sha,)).fetchone():
            return sha
        codec, data = self._compress(body, site, previous)
        self.conn.execute("INSERT INTO blobs (sha256, size, codec, data) VALUES (?, ?, ?, ?)",
                          (sha, len(body), codec, data))
        return sha

    def _compress(self, body: bytes, site: str | None, previous: str | None = None) -> tuple[str, bytes]:
        # parameters sized to the page: level-10 defaults allocate tens of MB of tables per compressor
        if previous:
            base = self._keyframe(previous)
            ref_bytes = self.get_blob(base)
            ref = zstandard.ZstdCompressionDict(ref_bytes, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
            params = zstandard.ZstdCompressionParameters.from_level(ZSTD_LEVEL, source_size=len(body),
                                                                    dict_size=len(ref_bytes))
            return f"delta:{base}", zstandard.ZstdCompressor(dict_data=ref, compression_params=params).compress(body)
        d = self._site_dict(site) if site else None
        params = zstandard.ZstdCompressionParameters.from_level(ZSTD_LEVEL, source_size=len(body),
                                                                dict_size=DICT_SIZE if d else 0)
        if d is None:
            return "zstd", zstandard.ZstdCompressor(compression_params=params).compress(body)
        dict_id, zd = d
        return f"zstd:{dict_id}", zstandard.ZstdCompressor(dict_data=zd, compression_params=params).compress(body)

    def _site_dict(self, site: str):
        """The site's zstd dictionary, trained on its latest bodies once it has DICT_AFTER of them; the
        bodies stored before that are then compressed again with it."""
        if site not in self._site_dict_ids and site not in self._site_blobs:
            row = self.conn.execute("SELECT max(id) FROM dicts WHERE site = ?", (site,)).fetchone()
            if row[0] is not None:
                self._site_dict_ids[site] = row[0]
            else:
                self._site_blobs[site] = self.conn.execute(
                    "SELECT count(DISTINCT f.blob_sha256) FROM fetches f JOIN documents d ON d.id = f.document_id "
                    "WHERE d.site = ? AND d.kind IS NOT 'attachment' AND f.blob_sha256 IS NOT NULL", (site,)).fetchone()[0]
        if site in self._site_dict_ids:
            return self._site_dict_ids[site], self._dict(self._site_dict_ids[site])
        self._site_blobs[site] += 1
        if self._site_blobs[site] < DICT_AFTER:
            return None
        site_blobs = ("SELECT DISTINCT f.blob_sha256 FROM fetches f JOIN documents d ON d.id = f.document_id "
                      "WHERE d.site = ? AND d.kind IS NOT 'attachment'")
        samples = [self.get_blob(sha) for (sha,) in self.conn.execute(
            f"{site_blobs} AND f.blob_sha256 IS NOT NULL ORDER BY f.id DESC LIMIT 256", (site,))]
        try:
            zd = zstandard.train_dictionary(DICT_SIZE, samples)
        except zstandard.ZstdError:
            self._site_blobs[site] = 0        # too little to learn from yet: try again later
            return None
        cur = self.conn.execute("INSERT INTO dicts (site, created, data) VALUES (?, ?, ?)", (site, now(), zd.as_bytes()))
        self._dicts[cur.lastrowid] = zd
        self._site_dict_ids[site] = cur.lastrowid
        del self._site_blobs[site]
        # the bodies stored before there was a dictionary: compress them again with it. Deleted and
        # inserted anew rather than updated, so their old pages empty and are reused, not left sparse
        # (versions refer to them: the foreign keys are checked at commit).
        self.conn.execute("PRAGMA defer_foreign_keys = ON")
        for sha, data in self.conn.execute(
                f"SELECT sha256, data FROM blobs WHERE codec = 'zstd' AND sha256 IN ({site_blobs})", (site,)).fetchall():
            self.conn.execute("DELETE FROM blobs WHERE sha256 = ?", (sha,))
            self.put_blob(self._decompress("zstd", data), site)
        return cur.lastrowid, zd

    def _dict(self, dict_id: int) -> zstandard.ZstdCompressionDict:
        if dict_id not in self._dicts:
            row = self.conn.execute("SELECT data FROM dicts WHERE id = ?", (dict_id,)).fetchone()
            if row is None:
                raise ArchiveError(f"zstd dictionary {dict_id} is missing")
            self._dicts[dict_id] = zstandard.ZstdCompressionDict(row[0])
        return self._dicts[dict_id]

    def get_blob(self, sha: str) -> bytes:
        row = self.conn.execute("SELECT codec, data FROM blobs WHERE sha256 = ?", (sha,)).fetchone()
        if row is None:
            raise ArchiveError(f"blob {sha} is not in the archive")
        return self._decompress(*row)

    def _keyframe(self, sha: str) -> str:
        """The blob a delta is taken against: never itself a delta, so chains are one link long."""
        row = self.conn.execute("SELECT codec FROM blobs WHERE sha256 = ?", (sha,)).fetchone()
        return row[0][6:] if row and row[0].startswith("delta:") else sha

    def _decompress(self, codec: str, data: bytes) -> bytes:
        if codec == "zstd":
            return zstandard.ZstdDecompressor().decompress(data)
        if codec.startswith("delta:"):
            ref = zstandard.ZstdCompressionDict(self.get_blob(codec[6:]), dict_type=zstandard.DICT_TYPE_RAWCONTENT)
            return zstandard.ZstdDecompressor(dict_data=ref).decompress(data)
        if codec.startswith("zstd:"):
            return zstandard.ZstdDecompressor(dict_data=self._dict(int(codec[5:]))).decompress(data)
        raise ArchiveError(f"unknown blob codec {codec!r}")

    # -----------------------------------------------------------------------------------------
    # ingest
    # -----------------------------------------------------------------------------------------
    def last_fetch_validators(self, url: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified of the newest 200 fetch that gave or confirmed the latest version.
        None for a removed document: a 304 must never keep a page that came back marked gone."""
        row = self.conn.execute(
            "SELECT d.id, d.status, v.fetched_at FROM documents d JOIN versions v ON v.document_id = d.id "
            "AND v.number = d.latest_version WHERE d.url = ?", (self.sites.canonical_url(url),)).fetchone()
        if not row or row[1] != "active":
            return None, None
        val = self.conn.execute(
            "SELECT etag, last_modified FROM fetches WHERE document_id = ? AND http_status = 200 AND outcome IN "
            "('new_version', 'unchanged') AND fetched_at >= ? ORDER BY fetched_at DESC, id DESC LIMIT 1",
            (row[0], row[2])).fetchone()
        return (val[0], val[1]) if val else (None, None)

    def check_times(self, url: str) -> tuple[str, str] | None:
        """(last check, last change) of an archived document: for the revisit policy."""
        row = self.conn.execute(
            "SELECT d.last_seen, v.fetched_at FROM documents d JOIN versions v ON v.document_id = d.id "
            "AND v.number = d.latest_version WHERE d.url = ?", (self.sites.canonical_url(url),)).fetchone()
        return (row[0], row[1]) if row and row[0] and row[1] else None

    def ingest(self, url: str, *, status: int | None, body: bytes | None = None, headers: dict | None = None,
               document=None, error: str | None = None, run_id: int | None = None, kind: str | None = None,
               duration_ms: int | None = None, fetched_at: str | None = None, once: bool = False,
               refused: str | None = None) -> Outcome:
        """Record one fetch of ``url`` and decide its outcome; one transaction.

        ``once``: a record of an earlier capture (an import): skipped as ``duplicate`` when the
        archive already holds a fetch of the URL with the same date, status and body.
        ``refused``: ``blocked`` or ``soft_404``, with ``error`` saying why: a challenge or
        not-found page recorded as what it is, never extracted into a version.

        ``document`` is the extraction result (crawler.extract.Document) when the caller already
        has it; otherwise a 200 body is extracted with the archive's ``extract``. ``error`` marks a failed download.
        """
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        curl = self.sites.canonical_url(url)
        fetched_at = fetched_at or now()
        site = self.sites.site_of(curl)
        if status == 200 and body is not None and document is None and error is None and not refused:
            if self.extract is None:
                raise ArchiveError("a body to archive needs its extracted document, or an archive opened with an extractor")
            document, error = self.extract(body, url, headers.get("content-type"))
        with self._write():
            return self._ingest(curl, site, kind, status, body, headers, document, error, run_id, duration_ms,
                                fetched_at, once, refused)

    def _ingest(self, url, site, kind, status, body, headers, document, error, run_id, duration_ms, fetched_at, once,
                refused=None):
        doc_row = self.conn.execute("SELECT id, status, latest_version, kind FROM documents WHERE url = ?",
                                    (url,)).fetchone()
        sha = hashlib.sha256(body).hexdigest() if body and status == 200 else None
        if once:
            same = "document_id = ?" if doc_row else "url = ?"
            dup = self.conn.execute(f"SELECT id FROM fetches WHERE {same} AND fetched_at = ? AND http_status IS ? "
                                    "AND blob_sha256 IS ?", (doc_row[0] if doc_row else url, fetched_at, status,
                                                             sha)).fetchone()
            if dup:     # a record already archived (an import, a merged shard): same URL, date and payload
                return Outcome("duplicate", doc_row and doc_row[0], None, dup[0],
                               "already archived (same URL, date and body)")
        prev, nxt = self._around(doc_row, fetched_at)
        blob = None
        if sha:
            last = doc_row and self.conn.execute(
                "SELECT blob_sha256 FROM fetches WHERE document_id = ? AND blob_sha256 IS NOT NULL "
                "ORDER BY id DESC LIMIT 1", (doc_row[0],)).fetchone()
            own = (kind or (doc_row and doc_row[3])) != ATTACHMENT     # files would spoil a dictionary of pages
            blob = self.put_blob(body, site if own else None, last[0] if last else None, sha)
        fetch = dict(run_id=run_id, url=url, fetched_at=fetched_at, http_status=status, etag=headers.get("etag"),
                     last_modified=headers.get("last-modified"), bytes=len(body) if body is not None else None,
                     duration_ms=duration_ms, blob_sha256=blob, document_id=doc_row[0] if doc_row else None)

        def record(outcome, message=None, version_id=None, number=None, doc_id=None):
            doc_id = doc_id or fetch["document_id"]
            fid = self.conn.execute(
                "INSERT INTO fetches (run_id, url, document_id, fetched_at, http_status, etag, last_modified, bytes, "
                "duration_ms, outcome, error, version_id, blob_sha256, content_type) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (fetch["run_id"], None if doc_id else url, doc_id, fetched_at, status, fetch["etag"],
                 fetch["last_modified"], fetch["bytes"], duration_ms, outcome, message, version_id, blob,
                 headers.get("content-type"))).lastrowid
            return Outcome(outcome, doc_id, number, fid, message)

        if error:
            return record(refused or "error", error)
        if status == 304:
            if not doc_row:
                return record("error", "HTTP 304 for a document the archive does not have")
            self._touch(doc_row[0], fetched_at)
            return record("not_modified")
        if status in (404, 410):
            if not doc_row:
                return record("error", f"HTTP {status} for a URL the archive never had")
            if prev and prev[4] == "gone":
                self._touch(doc_row[0], fetched_at)
                return record("gone", f"HTTP {status}: still gone")
            return self._version(doc_row[0], prev, nxt, fetched_at, None, GONE_HASH, None, "gone", record,
                                 f"HTTP {status}")
        if status != 200:
            return record("error", f"HTTP {status}")
        if document is None:
            return record("error", "no body to extract")
        problem = self._garbage(document, headers, body, prev)
        if problem:
            return record("error", problem)
        h = content_hash(document.title, document.text, document.metadata, document.reply, document.attachments,
                         document.published_date)
        if doc_row is None:
            doc_id = self.conn.execute(
                "INSERT INTO documents (url, site, kind, first_seen, last_seen, status) VALUES (?,?,?,?,?, 'active')",
                (url, site, kind or _kind_of(document), fetched_at, fetched_at)).lastrowid
            self.conn.execute("UPDATE fetches SET document_id = ?, url = NULL WHERE url = ?", (doc_id, url))
        else:
            doc_id = doc_row[0]
            if kind and not doc_row[3]:
                self.conn.execute("UPDATE documents SET kind = ? WHERE id = ?", (kind, doc_id))
        if prev and prev[1] == h:
            self._touch(doc_id, fetched_at)
            return record("unchanged", doc_id=doc_id)
        return self._version(doc_id, prev, nxt, fetched_at, document, h, blob, "active", record)

    def _around(self, doc_row, at: str):
        """The version in effect at ``at`` and, for a record older than the latest version (an
        import of an old capture), the version after it: history is in fetch-time order."""
        if not doc_row or not doc_row[2]:
            return None, None
        cols = "SELECT number, content_hash, text, blob_sha256, status, fetched_at, id FROM versions WHERE document_id = ?"
        latest = self.conn.execute(f"{cols} AND number = ?", (doc_row[0], doc_row[2])).fetchone()
        if latest is None or latest[5] <= at:
            return latest, None
        prev = self.conn.execute(f"{cols} AND fetched_at <= ? ORDER BY number DESC LIMIT 1", (doc_row[0], at)).fetchone()
        nxt = self.conn.execute(f"{cols} AND fetched_at > ? ORDER BY number LIMIT 1", (doc_row[0], at)).fetchone()
        return prev, nxt

    def _version(self, doc_id, prev, nxt, fetched_at, document, h, blob, status, record, message=None) -> Outcome:
        """A new version after ``prev``. Before ``nxt`` (an older record) it is inserted into history
        without becoming the latest; if ``nxt`` has the same content, ``nxt`` simply starts earlier."""
        outcome = "gone" if status == "gone" else "new_version"
        if nxt is not None and nxt[1] == h:
            out = record(outcome, message, nxt[6], nxt[0], doc_id)
            self.conn.execute("UPDATE fetches SET outcome = CASE outcome WHEN 'gone' THEN 'gone' ELSE 'unchanged' END, "
                              "version_id = NULL WHERE id = (SELECT fetch_id FROM versions WHERE id = ?)", (nxt[6],))
            self.conn.execute("UPDATE versions SET fetched_at = ?, fetch_id = ?, blob_sha256 = coalesce(?, blob_sha256) "
                              "WHERE id = ?", (fetched_at, out.fetch_id, blob, nxt[6]))
            self._touch(doc_id, fetched_at)
            return out
        number = (prev[0] if prev else 0) + 1
        vid = self._add_version(doc_id, number, fetched_at, document, h, blob, status, latest=nxt is None)
        out = record(outcome, message, vid, number, doc_id)
        self._link_fetch(vid, out.fetch_id)
        return out

    @staticmethod
    def _garbage(document, headers, body, prev) -> str | None:
        """Pages that must never become a version: empty, truncated, or emptier than before."""
        length = headers.get("content-length")
        if body is not None and length and str(length).isdigit() and len(body) < int(length) \
                and not headers.get("content-encoding"):
            return f"truncated body: {len(body)} of {length} bytes"
        if not document.text and not document.title:
            return "no main text and no title: not a document page"
        had_text = prev is not None and prev[4] != "gone" and prev[2]
        if had_text and not document.text:
            return "no main text; the previous version is kept"
        if had_text and body is not None and not document.flags.get("format") \
                and b"</html>" not in body[-4096:].lower() \
                and len(document.text) < 0.6 * len(prev[2]):
            return "body ends before </html> and lost most of its text: treated as truncated"
        return None

    def _touch(self, doc_id: int, at: str) -> None:
        self.conn.execute("UPDATE documents SET last_seen = max(coalesce(last_seen, ''), ?), "
                          "first_seen = min(coalesce(first_seen, ?), ?) WHERE id = ?", (at, at, at, doc_id))

    def _link_fetch(self, version_id: int, fetch_id: int) -> None:
        self.conn.execute("UPDATE versions SET fetch_id = ? WHERE id = ?", (fetch_id, version_id))

    def _add_version(self, doc_id, number, fetched_at, d, h, blob, status="active", latest=True) -> int:
        """Version ``number`` of the document; with ``latest=False`` the versions from ``number`` on
        move up one (an older record inserted into history)."""
        j = lambda x: json.dumps(x, ensure_ascii=False, separators=(",", ":")) if x is not None else None
        if d is None:
            row = (doc_id, number, fetched_at, status, None, None, None, None, None, None, None, None, None, h, blob)
        else:
            simplified = d.text_simplified if d.text_simplified != d.text else None
            row = (doc_id, number, fetched_at, status, d.title, d.text, simplified, d.published_date, j(d.metadata),
                   j(d.reply), j(d.attachments), j(d.flags), d.extractor_version, h, blob)
        if not latest:      # two steps, so no two rows ever share a number
            self.conn.execute("UPDATE versions SET number = -number - 1 WHERE document_id = ? AND number >= ?",
                              (doc_id, number))
            self.conn.execute("UPDATE versions SET number = -number WHERE document_id = ? AND number < 0", (doc_id,))
        if d is not None and d.attachments:
            self._link(doc_id, d.attachments)
        vid = self.conn.execute(
            "INSERT INTO versions (document_id, number, fetched_at, status, title, text, text_simplified, "
            "published_date, metadata, reply, attachments, flags, extractor_version, content_hash, blob_sha256) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", row).lastrowid
        if latest:
            self._index(doc_id, number - 1, d)
            self.conn.execute("UPDATE documents SET latest_version = ?, status = ? WHERE id = ?",
                              (number, status, doc_id))
        else:
            self.conn.execute("UPDATE documents SET latest_version = latest_version + 1 WHERE id = ?", (doc_id,))
        self._touch(doc_id, fetched_at)
        return vid

    def _link(self, doc_id: int, attachments: list[dict]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO links (parent_id, url, name) VALUES (?, ?, ?)",
                              [(doc_id, self.sites.canonical_url(a["url"]), a.get("name")) for a in attachments])

    # -----------------------------------------------------------------------------------------
    # search index: the latest version of each document, as character bigrams
    # -----------------------------------------------------------------------------------------
    def _index(self, doc_id: int, prev_number: int, d) -> None:
        if prev_number:
            old = self.conn.execute("SELECT title, coalesce(text_simplified, text), status FROM versions "
                                    "WHERE document_id = ? AND number = ?", (doc_id, prev_number)).fetchone()
            if old and old[2] != "gone":
                self._index_rows(doc_id, old[0], old[1], delete=True)
        if d is not None:
            self._index_rows(doc_id, d.title, d.text_simplified)

    def _index_rows(self, doc_id: int, title: str | None, text: str | None, delete: bool = False) -> None:
        """The title and the text (title included, so words may span both) as bigram tokens, both
        in simplified characters. A delete must give exactly the tokens once inserted."""
        from .text import t2s
        from .search import tokens
        t = tokens(t2s().convert(title or ""))
        for table, column, value in (("search_title", "title", t), ("search_text", "text", t + " " + tokens(text))):
            if delete:      # a contentless FTS5 table deletes a row by being given its tokens again
                self.conn.execute(f"INSERT INTO {table} ({table}, rowid, {column}) VALUES ('delete', ?, ?)",
                                  (doc_id, value))
            else:
                self.conn.execute(f"INSERT INTO {table} (rowid, {column}) VALUES (?, ?)", (doc_id, value))

    def _rebuild_search(self) -> None:
        for table in ("search_title", "search_text"):
            self.conn.execute(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
        for doc_id, title, text in self.conn.execute(
                "SELECT v.document_id, v.title, coalesce(v.text_simplified, v.text) FROM versions v JOIN documents d "
                "ON d.id = v.document_id AND d.latest_version = v.number WHERE v.status = 'active'").fetchall():
            self._index_rows(doc_id, title, text)

    # -----------------------------------------------------------------------------------------
    # reading
    # -----------------------------------------------------------------------------------------
    def document(self, url: str) -> dict:
        row = self.db.execute("SELECT * FROM documents WHERE url = ?", [self.sites.canonical_url(url)]).fetchone()
        if row is None:
            raise ArchiveError(f"no document {self.sites.canonical_url(url)} in {self.path}")
        cols = [c[0] for c in self.db.execute("SELECT * FROM documents LIMIT 0").description]
        return dict(zip(cols, row))

    def versions(self, url: str) -> list[dict]:
        doc = self.document(url)
        return [self._version_dict(r) for r in self.db.query(
            "SELECT * FROM versions WHERE document_id = ? ORDER BY number", [doc["id"]])]

    def version(self, url: str, number: int | None = None, content: bool = False) -> dict:
        """Version ``number`` (default: the latest; with ``content``, the latest that is not a tombstone)."""
        vs = self.versions(url)
        if number is None:
            pool = [v for v in vs if v["status"] != "gone"] if content else vs
            if not pool:
                raise ArchiveError(f"{url} has no version with content")
            return pool[-1]
        for v in vs:
            if v["number"] == number:
                return v
        raise ArchiveError(f"{url} has no version {number} (it has 1..{len(vs)})")

    @staticmethod
    def _version_dict(r: dict) -> dict:
        out = dict(r)
        for k in ("metadata", "reply", "attachments", "flags"):
            out[k] = json.loads(out[k]) if out.get(k) else ({} if k in ("metadata", "flags") else
                                                             ([] if k == "attachments" else None))
        if out.get("text_simplified") is None:
            out["text_simplified"] = out.get("text")
        return out

    def attachments(self, url: str, number: int | None = None) -> list[dict]:
        """The files a version of a page links (default: its latest with content), each with the
        versions the archive holds of it (none: not fetched yet, or it could not be read)."""
        v = self.version(url, number, content=number is None)
        out = []
        for a in v["attachments"]:
            canonical = self.sites.canonical_url(a["url"])
            out.append(dict(a, versions=self.file_versions(canonical).get(canonical, [])))
        return out

    def file_versions(self, url: str | None = None) -> dict[str, list[dict]]:
        """Canonical URL -> the archived versions (number, time, status, flags) of the file at
        ``url`` (a canonical URL), or of every attachment without one."""
        where, args = ("d.url = ?", (url,)) if url else ("d.kind = 'attachment'", ())
        out: dict[str, list[dict]] = {}
        for u, n, at, st, fl in self.conn.execute(
                "SELECT d.url, v.number, v.fetched_at, v.status, v.flags FROM versions v JOIN documents d ON "
                f"d.id = v.document_id WHERE {where} ORDER BY d.id, v.number", args):
            out.setdefault(u, []).append({"version": n, "fetched_at": at, "status": st,
                                          "flags": json.loads(fl) if fl else {}})
        return out

    def parents(self, url: str) -> list[dict]:
        """The pages that link (or once linked) the file at ``url``, with their latest titles."""
        return list(self.db.query(
            f"SELECT d.url, l.name, {LAST_TITLE} AS title FROM links l JOIN documents d ON d.id = l.parent_id "
            "WHERE l.url = ? ORDER BY d.url", [self.sites.canonical_url(url)]))

    def active_urls(self, site: str) -> list[str]:
        """The site's pages that are not removed (files are checked through the pages that link them)."""
        return [r[0] for r in self.conn.execute("SELECT url FROM documents WHERE site = ? AND status = 'active' "
                                                "AND kind IS NOT 'attachment'", (site,))]

    def history(self, url: str) -> list[dict]:
        doc = self.document(url)
        return list(self.db.query(
            "SELECT f.fetched_at, f.http_status, f.outcome, f.error, v.number AS version, f.bytes, f.duration_ms "
            "FROM fetches f LEFT JOIN versions v ON v.id = f.version_id WHERE f.document_id = ? ORDER BY f.fetched_at, f.id",
            [doc["id"]]))

    def stats(self) -> dict:
        q = lambda sql: self.conn.execute(sql).fetchone()[0]
        by_site = {r[0]: {"documents": r[1], "gone": r[2], "versions": 0, "fetches": 0, "errors": 0}
                   for r in self.conn.execute("SELECT site, count(*), sum(status = 'gone') FROM documents "
                                              "GROUP BY site ORDER BY site")}
        for site, versions in self.conn.execute("SELECT d.site, count(*) FROM versions v JOIN documents d "
                                                "ON d.id = v.document_id GROUP BY d.site"):
            by_site[site]["versions"] = versions
        for site, n, errors in self.conn.execute("SELECT d.site, count(*), sum(f.outcome = 'error') FROM fetches f "
                                                 "JOIN documents d ON d.id = f.document_id GROUP BY d.site"):
            by_site[site].update(fetches=n, errors=errors)
        outcomes = dict(self.conn.execute("SELECT outcome, count(*) FROM fetches GROUP BY outcome"))
        return {"path": str(self.path), "schema_version": self.schema_version(),
                "documents": q("SELECT count(*) FROM documents"), "versions": q("SELECT count(*) FROM versions"),
                "tombstones": q("SELECT count(*) FROM versions WHERE status = 'gone'"),
                "fetches": q("SELECT count(*) FROM fetches"), "fetch_outcomes": outcomes,
                "blobs": q("SELECT count(*) FROM blobs"), "raw_bytes": q("SELECT coalesce(sum(size), 0) FROM blobs"),
                "stored_blob_bytes": q("SELECT coalesce(sum(length(data)), 0) FROM blobs"),
                "runs": q("SELECT count(*) FROM runs"), "file_bytes": self.path.stat().st_size, "sites": by_site}

    def list_documents(self, **filters) -> Iterator[dict]:
        """Documents with their latest version's title; ``filters`` as ``filter_sql`` takes them."""
        where, args = filter_sql(**filters)
        yield from self.db.query(
            "SELECT d.url, d.site, d.kind, d.status, d.latest_version, d.first_seen, d.last_seen, "
            f"coalesce(v.title, {LAST_TITLE}) AS title, coalesce(v.published_date, {PUBLISHED}) AS published_date "
            "FROM documents d LEFT JOIN versions v ON v.document_id = d.id AND "
            f"v.number = d.latest_version {where} ORDER BY d.site, d.url", args)

    def changes(self, since: str, **filters) -> list[dict]:
        """New, changed and removed documents whose version was fetched at or after ``since``; a
        removed one keeps the title it last had."""
        where, args = filter_sql(**filters)
        where = (where + " AND " if where else "WHERE ") + "v.fetched_at >= ?"
        return list(self.db.query(
            "SELECT v.fetched_at, CASE WHEN v.status = 'gone' THEN 'removed' WHEN v.number = 1 THEN 'new' "
            "ELSE 'changed' END AS change, v.number AS version, d.url, d.site, d.kind, "
            "coalesce(v.title, (SELECT title FROM versions WHERE document_id = d.id AND number < v.number AND "
            "status = 'active' ORDER BY number DESC LIMIT 1)) AS title "
            f"FROM versions v JOIN documents d ON d.id = v.document_id {where} ORDER BY v.fetched_at, d.url",
            args + [since]))

    def runs(self, last: int | None = None) -> list[dict]:
        """Crawl runs, newest last: documents new, changed and removed by each, and its other fetches."""
        rows = self.conn.execute(
            "SELECT r.id, r.spider, r.started, r.ended, r.counts, "
            "sum(v.number = 1 AND v.status = 'active'), sum(v.number > 1 AND v.status = 'active'), "
            "sum(v.status = 'gone') FROM runs r LEFT JOIN fetches f ON f.run_id = r.id "
            "LEFT JOIN versions v ON v.id = f.version_id GROUP BY r.id ORDER BY r.id DESC LIMIT ?",
            (last or -1,)).fetchall()
        out = []
        for rid, spider, started, ended, counts, new, changed, removed in reversed(rows):
            c = json.loads(counts) if counts else {}
            out.append({"run": rid, "spider": spider, "started": started, "ended": ended, "new": new or 0,
                        "changed": changed or 0, "removed": removed or 0, "unchanged": c.get("unchanged", 0),
                        "not_modified": c.get("not_modified", 0), "not_due": c.get("not_due", 0),
                        "blocked": c.get("blocked", 0), "soft_404": c.get("soft_404", 0), "errors": c.get("error", 0)})
        return out

    def health(self, stale_days: int = 7, at: str | None = None, portals=()) -> list[dict]:
        """Per portal crawled (or named in ``portals``, crawled or not): its last successful crawl
        (a run that ended having fetched something other than errors and challenges), documents,
        days since a new one, and the error and blocked rates of its last run. ``stale``: no new
        document for ``stale_days`` days (a spider a redesign broke finds nothing new)."""
        at_dt = datetime.fromisoformat(at or now())
        out = []
        crawled = {r[0] for r in self.conn.execute("SELECT DISTINCT spider FROM runs WHERE spider IS NOT NULL")}
        for spider in sorted(crawled | set(portals)):
            last_ok = self.conn.execute(
                "SELECT max(r.ended) FROM runs r WHERE r.spider = ? AND r.ended IS NOT NULL AND EXISTS (SELECT 1 FROM "
                "fetches f WHERE f.run_id = r.id AND f.outcome NOT IN ('error', 'blocked'))", (spider,)).fetchone()[0]
            docs, newest = self.conn.execute(
                "SELECT count(*), max(first_seen) FROM documents WHERE site = ? AND kind IS NOT 'attachment'",
                (spider,)).fetchone()
            last_run = self.conn.execute("SELECT max(id) FROM runs WHERE spider = ?", (spider,)).fetchone()[0]
            n, errors, blocked = self.conn.execute(
                "SELECT count(*), coalesce(sum(outcome = 'error'), 0), coalesce(sum(outcome = 'blocked'), 0) "
                "FROM fetches WHERE run_id = ?", (last_run,)).fetchone()
            days = (at_dt - datetime.fromisoformat(newest)).total_seconds() / 86400 if newest else None
            out.append({"portal": spider, "last_success": last_ok, "documents": docs, "last_new": newest,
                        "days_since_new": round(days, 1) if days is not None else None,
                        "error_rate": round(errors / n, 3) if n else None,
                        "blocked_rate": round(blocked / n, 3) if n else None,
                        "stale": days is None or days >= stale_days})
        return out

    def site_keys(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT site FROM documents WHERE site IS NOT NULL ORDER BY 1")]

    def kinds(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT kind FROM documents WHERE kind IS NOT NULL ORDER BY 1")]


# The latest version with content of document ``d``: its published date and title (a removed
# document keeps them).
PUBLISHED = ("(SELECT published_date FROM versions WHERE document_id = d.id AND status = 'active' "
             "ORDER BY number DESC LIMIT 1)")
LAST_TITLE = "(SELECT title FROM versions WHERE document_id = d.id AND status = 'active' ORDER BY number DESC LIMIT 1)"


def filter_sql(site: str | None = None, kind: str | None = None, since: str | None = None,
               published_since: str | None = None, published_until: str | None = None) -> tuple[str, list]:
    """A WHERE clause over documents ``d``: site, kind, seen since (crawl time), and published
    on or after / on or before (the document's own date, YYYY-MM-DD)."""
    conds, args = [], []
    for cond, value in (("d.site = ?", site), ("d.kind = ?", kind), ("d.last_seen >= ?", since),
                        (f"{PUBLISHED} >= ?", published_since), (f"{PUBLISHED} <= ?", published_until)):
        if value:
            conds.append(cond)
            args.append(value)
    return ("WHERE " + " AND ".join(conds)) if conds else "", args


def _kind_of(document) -> str:
    if document.reply:
        return {"cppcc_proposal": "cppcc_reply", "npc_suggestion": "npc_reply"}.get(document.reply.get("kind"), "reply")
    return "document"
