"""govarchive: the command line over the archive library, the extractor and the replica.

A thin layer: each command parses options, calls one library function and prints the result.
"""
from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from .store import Archive, ArchiveError

DB_HELP = "Archive file (default: $GOVARCHIVE_DB or ./data/govarchive.db)."


def db_option(f):
    return click.option("--db", "db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)(f)


def open_archive(db, readonly=False) -> Archive:
    try:
        return Archive(db, readonly=readonly)
    except ArchiveError as e:
        raise click.ClickException(str(e)) from e


@contextmanager
def progress_bar(label: str, total: int | None = None):
    """A rich progress bar on a terminal; nothing when piped."""
    if not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True) as p:
        task = p.add_task(label, total=total)
        yield lambda: p.advance(task)


def emit(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=1))


class Group(click.Group):
    """Turn library errors into clear one-line messages (exit 1), never tracebacks."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ArchiveError as e:
            raise click.ClickException(str(e)) from e


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Crawl, archive and search Chinese government portals.

    Crawling is `scrapy crawl <portal>`; everything else is here. The archive is
    ./data/govarchive.db unless --db or GOVARCHIVE_DB says otherwise.
    """


# ----------------------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------------------

@main.command()
@db_option
def stats(db):
    """Counts of documents, versions, fetches and bytes, per site."""
    with open_archive(db, readonly=True) as a:
        emit(a.stats())


@main.command("list")
@db_option
@click.option("--site", help="Portal key (panjin, chongqing_kjj …) or host.")
@click.option("--kind", help="cppcc_reply, npc_reply, policy …")
@click.option("--since", help="Seen on or after this date (YYYY-MM-DD).")
def list_(db, site, kind, since):
    """Documents: URL, site, kind, status, latest version, title."""
    with open_archive(db, readonly=True) as a:
        for r in a.list_documents(site, kind, since):
            click.echo("\t".join(str(r[k] if r[k] is not None else "") for k in
                                 ("url", "site", "kind", "status", "latest_version", "published_date", "title")))


@main.command()
@db_option
@click.argument("url")
def history(db, url):
    """Every fetch of a document and the version it made."""
    with open_archive(db, readonly=True) as a:
        for r in a.history(url):
            click.echo(f"{r['fetched_at']}\t{r['http_status'] or '-'}\t{r['outcome']}\t"
                       f"{'v' + str(r['version']) if r['version'] else ''}\t{r['error'] or ''}")


@main.command()
@db_option
@click.argument("url")
@click.option("--version", "number", type=int, help="Version number (default: the latest with content).")
@click.option("--raw", is_flag=True, help="Print the stored raw response body instead.")
def show(db, url, number, raw):
    """One version of a document as JSON (or its raw body)."""
    with open_archive(db, readonly=True) as a:
        v = a.version(url, number, content=number is None)
        if raw:
            if not v.get("blob_sha256"):
                raise click.ClickException(f"version {v['number']} of {url} has no raw body (a tombstone)")
            sys.stdout.buffer.write(a.get_blob(v["blob_sha256"]))
            return
        doc = a.document(url)
        v["document_status"] = doc["status"]
        emit(v)


@main.command()
@db_option
@click.argument("url")
@click.option("--from", "a_", type=int, help="Older version (default: the one before --to).")
@click.option("--to", "b_", type=int, help="Newer version (default: the latest).")
@click.option("--format", "fmt", type=click.Choice(["text", "html", "json"]), default="text", show_default=True)
def diff(db, url, a_, b_, fmt):
    """Differences between two versions, paragraph by paragraph, character by character."""
    from . import diff as D
    with open_archive(db, readonly=True) as a:
        vs = a.versions(url)
        if len(vs) < 2 and a_ is None:
            raise click.ClickException(f"{url} has only one version")
        to = a.version(url, b_) if b_ else vs[-1]
        frm = a.version(url, a_) if a_ else next(v for v in reversed(vs) if v["number"] < to["number"])
        d = D.diff_versions(frm, to)
        click.echo({"text": D.as_text, "html": D.as_html}.get(fmt, lambda d, u: D.as_json(d))(d, url), nl=False)


@main.command()
@db_option
@click.option("--since", required=True, help="Date or time (ISO 8601).")
@click.option("--site")
def changes(db, since, site):
    """Documents with new versions or tombstones since a date."""
    with open_archive(db, readonly=True) as a:
        for r in a.changes(since, site):
            click.echo(f"{r['fetched_at']}\t{r['change']}\tv{r['version']}\t{r['url']}\t{r['title'] or ''}")


@main.command()
@db_option
@click.argument("query")
@click.option("--site")
@click.option("--limit", default=20, show_default=True)
def search(db, query, site, limit):
    """Full-text search with snippets (2-character words like 科技 work): title matches first, then newest."""
    from .search import SearchError, search as run
    with open_archive(db, readonly=True) as a:
        try:
            hits = run(a, query, site=site, limit=limit)
        except SearchError as e:
            raise click.ClickException(str(e)) from e
        for h in hits:
            click.echo(f"{'title' if h['in_title'] else 'text'}\t{h['url']}\t{h['title'] or ''}\n\t{h['snippet']}")
        if not hits:
            click.echo("no results", err=True)


# ----------------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------------

@main.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet", "txt", "warc"]), required=True)
@click.option("--out", required=True, type=click.Path(), help="File (a folder for txt).")
@click.option("--site")
@click.option("--kind")
@click.option("--since")
@click.option("--all-versions", is_flag=True, help="One record per version instead of per document.")
@click.option("--simplified", is_flag=True, help="text in simplified script.")
def export(db, fmt, out, site, kind, since, all_versions, simplified):
    """Export a clean corpus: jsonl, csv, parquet, txt (a file per document) or warc."""
    from .export import export as run
    with open_archive(db, readonly=True) as a, progress_bar(f"export {fmt}") as tick:
        kw = dict(site=site, kind=kind, since=since)
        if fmt != "warc":
            kw["all_versions"] = all_versions
        n = run(a, fmt, out, simplified=simplified, progress=tick, **kw)
    click.echo(f"wrote {n} records to {out}", err=True)


@main.command("import-html")
@db_option
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--url", "urls", multiple=True, required=True,
              help="The URL each file was saved from; once per file, in order.")
def import_html(db, files, urls):
    """Archive saved HTML pages as fetched from the given URLs."""
    from .imports import import_html as run
    if len(urls) != len(files):
        raise click.ClickException(f"give one --url per file: {len(files)} files, {len(urls)} URLs")
    with open_archive(db) as a:
        for f, u in zip(files, urls):
            out = run(a, f, u)
            click.echo(f"{out.outcome}\t{u}" + (f"\tv{out.version}" if out.version else "")
                       + (f"\t{out.message}" if out.message else ""))


@main.command("import-warc")
@db_option
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def import_warc(db, files):
    """Archive the HTML responses of WARC files (from any crawler, or our own export)."""
    from .imports import import_warc as run
    with open_archive(db) as a:
        for f in files:
            with progress_bar(f"import {Path(f).name}") as tick:
                counts = run(a, f, progress=tick)
            click.echo(f"{f}\t{json.dumps(counts)}")


@main.command()
@db_option
@click.option("--site")
def reextract(db, site):
    """Re-run extraction over stored raw bodies; new versions only where the output changed."""
    from .integrity import reextract as run
    with open_archive(db) as a, progress_bar("reextract") as tick:
        emit(run(a, site, progress=tick))


@main.command()
@db_option
def verify(db):
    """Re-hash every blob and recompute every version hash; exit 1 on any mismatch."""
    from .integrity import verify as run
    with open_archive(db, readonly=True) as a, progress_bar("verify") as tick:
        problems = run(a, progress=tick)
    for p in problems:
        click.echo(p)
    if problems:
        raise click.ClickException(f"{len(problems)} problems found")
    click.echo("ok: every blob and version hash checks out", err=True)


@main.command()
@db_option
@click.option("--port", default=8001, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def serve(db, port, host):
    """Browse and search the archive read-only with datasette."""
    from .store import default_path
    path = default_path(db)
    if not path.exists():
        raise click.ClickException(f"no archive at {path}")
    meta = Path(__file__).with_name("datasette.json")
    args = [sys.executable, "-m", "datasette", "serve", str(path), "--host", host, "--port", str(port),
            "--metadata", str(meta), "--setting", "sql_time_limit_ms", "5000"]
    os.execv(sys.executable, args)


# ----------------------------------------------------------------------------------------------
# extraction and the replica
# ----------------------------------------------------------------------------------------------

@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--url", required=True, help="The URL the page was fetched from.")
@click.option("--encoding", help="Charset, if known (as the HTTP header would give it).")
def extract(file, url, encoding):
    """Extract one saved page and print it as one JSON object."""
    from crawler.extract import ExtractionError, extract as run
    try:
        doc = run(Path(file).read_bytes(), url, encoding)
    except ExtractionError as e:
        raise click.ClickException(f"{file}: {e}") from e
    click.echo(doc.to_json())


@main.command()
@click.option("--port", default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--epoch", default=1, show_default=True, type=click.IntRange(1, 3),
              help="State of the sites: 1, 2 (the manifest's later state), 3 (benchmarks).")
@click.option("--scale", default=0, help="Generate documents up to this many pages (benchmarks).")
@click.option("--faults", type=click.File("r"), help="JSON list of fault rules (see seeds/replica/server.py).")
def replica(port, epoch, scale, faults):
    """Serve the offline replica of every portal on 127.0.0.1."""
    from seeds.replica.server import ReplicaServer
    rules = json.load(faults) if faults else None
    try:
        srv = ReplicaServer(port=port, epoch=epoch, scale=scale, faults=rules)
    except OSError as e:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {e.strerror}") from e
    click.echo(f"govarchive replica: epoch {epoch}, {srv.state.describe()['pages']} pages, "
               f"listening on {srv.url} (Ctrl-C stops)", err=True)
    sys.stderr.flush()
    srv.serve_until_signal()
    click.echo("govarchive replica: stopped", err=True)


if __name__ == "__main__":
    main()
