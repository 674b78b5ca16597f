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
from .text import visible

DB_HELP = "Archive file (default: $GOVARCHIVE_DB or ./data/govarchive.db); also accepted before the command."
FORMATS = ("table", "json", "nl", "csv", "tsv")
KINDS = ("cppcc_reply", "npc_reply", "reply", "policy", "document", "attachment")


def db_option(f):
    return click.option("--db", "db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)(f)


def _db(db):
    """The command's --db, else the one given before the command."""
    ctx = click.get_current_context()
    return db or (ctx.find_root().obj or {}).get("db")


def open_archive(db, readonly=False, create=None) -> Archive:
    """The archive for a command. A writing command creates one only at the default path or with
    --create: a mistyped --db is an error, not a new archive."""
    db = _db(db)
    if create is None:
        create = db is None and not os.environ.get("GOVARCHIVE_DB")
    from crawler.extract import extract_or_error
    from crawler.portals import sites
    try:
        return Archive(db, readonly=readonly, create=create, sites=sites(), extract=extract_or_error)
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
    """One JSON document, controls escaped (json leaves C1 controls and bidi overrides raw)."""
    click.echo(visible(json.dumps(obj, ensure_ascii=False, indent=1)))


def output_options(f):
    """--table, --json, --nl, --csv, --tsv, as sqlite-utils has them: a table on a terminal,
    tab-separated with a header row when piped."""
    for name, hint in reversed([("table", "a table with headers (the default on a terminal)"),
                                ("json", "a JSON array of objects"), ("nl", "newline-delimited JSON"),
                                ("csv", "CSV with a header row"),
                                ("tsv", "tab-separated with a header row (the default when piped)")]):
        f = click.option(f"--{name}", "fmt", flag_value=name, help=f"Output {hint}.")(f)
    return f


def print_rows(rows: list[dict], columns: list[str], fmt: str | None) -> None:
    """Rows in the chosen format; every control character made visible, whatever the format."""
    fmt = fmt or ("table" if sys.stdout.isatty() else "tsv")
    rows = [{c: r.get(c) for c in columns} for r in rows]
    if fmt == "json":
        return emit(rows)
    if fmt == "nl":
        for r in rows:
            click.echo(visible(json.dumps(r, ensure_ascii=False)))
        return
    cell = lambda v: "" if v is None else visible(str(v))
    if fmt in ("csv", "tsv"):
        import csv
        import io
        buf = io.StringIO()
        w = csv.writer(buf, delimiter="," if fmt == "csv" else "\t", lineterminator="\n",
                       quoting=csv.QUOTE_MINIMAL if fmt == "csv" else csv.QUOTE_NONE, escapechar="\\")
        w.writerow(columns)
        for r in rows:
            w.writerow([cell(r[c]).replace("\t", " ").replace("\n", " ") if fmt == "tsv" else cell(r[c])
                        for c in columns])
        return click.echo(buf.getvalue(), nl=False)
    from rich.console import Console
    from rich.table import Table
    t = Table(*columns, show_lines=False)
    for r in rows:
        t.add_row(*(cell(r[c]) for c in columns))
    Console(markup=False, width=None if sys.stdout.isatty() else 240).print(t)


def check_date(ctx, param, value):
    """YYYY-MM-DD or an ISO 8601 time, checked up front; returned as the archive stores times."""
    if value is None:
        return None
    from datetime import date, datetime, timezone
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        t = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: give YYYY-MM-DD or an ISO 8601 time") from None
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")


def filter_options(f, kind=True, since=True):
    f = click.option("--published-until", callback=check_date, help="Published on or before (YYYY-MM-DD).")(f)
    f = click.option("--published-since", callback=check_date, help="Published on or after (YYYY-MM-DD).")(f)
    if since:
        f = click.option("--since", callback=check_date, help="Crawled (last seen) on or after this date or time.")(f)
    if kind:
        f = click.option("--kind", help=f"Document kind: {', '.join(KINDS)} ….")(f)
    return click.option("--site", help="Portal key (panjin, chongqing_kjj …) or host.")(f)


def filters(a: Archive, site=None, kind=None, **rest) -> dict:
    """Check --site and --kind against what exists; a portal's host stands for its key."""
    if site and site not in a.site_keys():
        from crawler.portals import portal_for_host, portals
        p = portal_for_host(site.lower()) or portals().get(site)
        if p is None and "." not in site:
            raise click.BadParameter(f"unknown site {site!r}: give a portal key ({', '.join(portals())}) or a "
                                     f"host", param_hint="--site")
        site = p.key if p else site.lower()
    if kind and kind not in KINDS and kind not in a.kinds():
        raise click.BadParameter(f"unknown kind {kind!r}: one of {', '.join(sorted(set(KINDS) | set(a.kinds())))}",
                                 param_hint="--kind")
    return {k: v for k, v in dict(site=site, kind=kind, **rest).items() if v}


class Group(click.Group):
    """Turn library errors into clear one-line messages (exit 1), never tracebacks."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ArchiveError as e:
            raise click.ClickException(str(e)) from e


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="govarchive", message="govarchive %(version)s")
@click.option("--db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)
@click.pass_context
def main(ctx, db) -> None:
    """Crawl, archive and search Chinese government portals.

    Crawling is `scrapy crawl <portal>`; everything else is here. The archive is
    ./data/govarchive.db unless --db or GOVARCHIVE_DB says otherwise.
    """
    ctx.obj = {"db": db}


# ----------------------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------------------

@main.command()
@db_option
@output_options
def stats(db, fmt):
    """Documents, versions, tombstones, fetches by outcome and bytes; a row per site (--json: everything)."""
    with open_archive(db, readonly=True) as a:
        st = a.stats()
    if fmt == "json":
        return emit(st)
    rows = [{"site": k, **v} for k, v in st["sites"].items()]
    rows.append({"site": "(all)", "documents": st["documents"], "gone": sum(v["gone"] or 0 for v in st["sites"].values()),
                 "versions": st["versions"], "fetches": st["fetches"], "errors": st["fetch_outcomes"].get("error", 0)})
    print_rows(rows, ["site", "documents", "gone", "versions", "fetches", "errors"], fmt)


@main.command("list")
@db_option
@filter_options
@output_options
def list_(db, fmt, site, kind, since, published_since, published_until):
    """Documents: URL, site, kind, status, latest version, published date, title."""
    with open_archive(db, readonly=True) as a:
        rows = list(a.list_documents(**filters(a, site, kind, since=since, published_since=published_since,
                                               published_until=published_until)))
    print_rows(rows, ["url", "site", "kind", "status", "latest_version", "published_date", "title"], fmt)


@main.command()
@db_option
@click.option("--last", type=click.IntRange(min=1), help="Only the last N runs.")
@output_options
def runs(db, fmt, last):
    """Crawl runs: documents each found new, changed and removed; pages unchanged, not modified,
    not due for a check (the revisit policy), blocked by a challenge, not found (soft 404), errors."""
    with open_archive(db, readonly=True) as a:
        rows = a.runs(last)
    print_rows(rows, ["run", "spider", "started", "new", "changed", "removed", "unchanged", "not_modified",
                      "not_due", "blocked", "soft_404", "errors"], fmt)


@main.command()
@db_option
@click.argument("url")
@output_options
def history(db, url, fmt):
    """Every fetch of a document, in time order, and the version it made."""
    with open_archive(db, readonly=True) as a:
        rows = a.history(url)
    print_rows(rows, ["fetched_at", "http_status", "outcome", "version", "error"], fmt)


@main.command()
@db_option
@click.argument("url")
@click.option("--version", "number", type=int, help="Version number (default: the latest with content).")
@click.option("--raw", is_flag=True, help="Print the stored raw response body instead.")
def show(db, url, number, raw):
    """One version of a document as JSON (or its raw body). A page lists the files it links with
    their archived versions; a file (kind attachment) lists the pages that link it."""
    with open_archive(db, readonly=True) as a:
        v = a.version(url, number, content=number is None)
        if raw:
            if not v.get("blob_sha256"):
                raise click.ClickException(f"version {v['number']} of {url} has no raw body (a tombstone)")
            sys.stdout.buffer.write(a.get_blob(v["blob_sha256"]))
            return
        doc = a.document(url)
        v["document_status"] = doc["status"]
        if v["attachments"]:
            v["attachments"] = a.attachments(url, v["number"])
        if doc["kind"] == "attachment":
            v["parents"] = a.parents(url)
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
        click.echo(visible({"text": D.as_text, "html": D.as_html}.get(fmt, lambda d, u: D.as_json(d))(d, url)), nl=False)


@main.command()
@db_option
@click.option("--since", required=True, callback=check_date, help="Date or time (ISO 8601) of the crawl.")
@(lambda f: filter_options(f, since=False))
@output_options
def changes(db, fmt, since, site, kind, published_since, published_until):
    """Documents with new versions or tombstones since a date: new, changed, removed."""
    with open_archive(db, readonly=True) as a:
        rows = a.changes(since, **filters(a, site, kind, published_since=published_since,
                                          published_until=published_until))
    print_rows(rows, ["fetched_at", "change", "version", "url", "site", "kind", "title"], fmt)


@main.command()
@db_option
@click.argument("query")
@(lambda f: filter_options(f, since=False))
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="At most this many hits.")
@output_options
def search(db, fmt, query, site, kind, published_since, published_until, limit):
    """Full-text search with snippets (2-character words like 科技 work): title matches first, then newest."""
    from .search import SearchError, search as run
    with open_archive(db, readonly=True) as a:
        try:
            hits = run(a, query, limit=limit, **filters(a, site, kind, published_since=published_since,
                                                       published_until=published_until))
        except SearchError as e:
            raise click.ClickException(str(e)) from e
    for h in hits:
        h["match"] = "title" if h["in_title"] else "text"
    print_rows(hits, ["match", "url", "site", "kind", "title", "snippet"], fmt)
    if not hits:
        click.echo("no results", err=True)


@main.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["atom", "json"]), default="atom", show_default=True,
              help="Atom, or JSON Feed 1.1.")
@click.option("--since", callback=check_date, help="Changes fetched on or after (default: the last 30 days).")
@(lambda f: filter_options(f, since=False))
@click.option("--base-url", default="http://127.0.0.1:8001", show_default=True,
              help="Where `govarchive serve` runs: entries link to its document pages.")
def feed(db, fmt, since, site, kind, published_since, published_until, base_url):
    """A feed of new, changed and removed documents, each linking to its diff."""
    from .feeds import render
    with open_archive(db, readonly=True) as a:
        f = filters(a, site, kind, published_since=published_since, published_until=published_until)
        title = "govarchive: " + (" / ".join(v for v in (f.get("site"), f.get("kind")) if v) or "all portals")
        click.echo(visible(render(a, fmt, base_url, title, since=since, **f)), nl=False)


# ----------------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------------

@main.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet", "txt", "warc"]), required=True)
@click.option("--out", required=True, type=click.Path(), help="File (a folder for txt); out.warc is written plain, "
              "out.warc.gz compressed.")
@filter_options
@click.option("--all-versions", is_flag=True, help="One record per version instead of per document.")
@click.option("--simplified", is_flag=True, help="text in simplified script.")
@click.option("--bom", is_flag=True, help="csv: start with a byte-order mark, so Excel reads UTF-8.")
def export(db, fmt, out, site, kind, since, published_since, published_until, all_versions, simplified, bom):
    """Export a clean corpus: jsonl, csv, parquet, txt (a file per document) or warc."""
    from .export import export as run
    if bom and fmt != "csv":
        raise click.BadParameter("--bom goes with --format csv", param_hint="--bom")
    with open_archive(db, readonly=True) as a, progress_bar(f"export {fmt}") as tick:
        kw = filters(a, site, kind, since=since, published_since=published_since, published_until=published_until)
        if fmt != "warc":
            kw["all_versions"] = all_versions
        if bom:
            kw["bom"] = True
        n = run(a, fmt, out, simplified=simplified, progress=tick, **kw)
    click.echo(f"wrote {n} records to {out}", err=True)


CREATE = click.option("--create", is_flag=True, help="Start a new archive if there is none at --db.")


@main.command("import-html")
@db_option
@CREATE
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--url", "urls", multiple=True, required=True,
              help="The URL each file was saved from; once per file, in order.")
def import_html(db, create, files, urls):
    """Archive saved HTML pages as fetched from the given URLs."""
    from .imports import import_html as run
    if len(urls) != len(files):
        raise click.ClickException(f"give one --url per file: {len(files)} files, {len(urls)} URLs")
    with open_archive(db, create=create or None) as a:
        for f, u in zip(files, urls):
            out = run(a, f, u)
            click.echo(f"{out.outcome}\t{u}" + (f"\tv{out.version}" if out.version else "")
                       + (f"\t{out.message}" if out.message else ""))


@main.command("import-warc")
@db_option
@CREATE
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def import_warc(db, create, files):
    """Archive the HTML responses of WARC files (from any crawler, or our own export); importing
    a file twice changes nothing, and old captures never become the latest version."""
    from .imports import import_warc as run
    with open_archive(db, create=create or None) as a:
        for f in files:
            with progress_bar(f"import {Path(f).name}") as tick:
                counts = run(a, f, progress=tick)
            click.echo(f"{f}\t{json.dumps(counts)}")


@main.command()
@db_option
@click.option("--health", is_flag=True, help="Per portal: last successful crawl, documents, days since a new one, "
                                              "error and blocked rates; flag the stale ones.")
@click.option("--stale-days", default=7, show_default=True, type=click.IntRange(min=1),
              help="--health flags a portal with no new document for this many days.")
@output_options
def portals(db, health, stale_days, fmt):
    """The configured portals; with --health, how each one's crawls are going. A portal whose
    spider a redesign broke shows up as stale within --stale-days."""
    from crawler.portals import portals as configured
    conf = configured()
    if not health:
        print_rows([{"portal": k, "family": p.family, "name": p.name, "base": p.base} for k, p in conf.items()],
                   ["portal", "family", "name", "base"], fmt)
        return
    with open_archive(db, readonly=True) as a:
        rows = a.health(stale_days, portals=conf)
    print_rows(rows, ["portal", "last_success", "documents", "days_since_new", "error_rate", "blocked_rate", "stale"],
               fmt)


@main.command("slice")
@db_option
@click.argument("site")
@click.argument("out", type=click.Path(dir_okay=False))
def slice_(db, site, out):
    """Write the slice of one portal's documents that a crawl elsewhere needs (validators, latest
    versions, check times) to a new file OUT; crawl into it, then `govarchive merge` it back."""
    from .shards import take_slice
    with open_archive(db, readonly=True) as a:
        known = a.site_keys()
        if site not in known:
            raise click.ClickException(f"no documents of portal {site!r} in {a.path}; portals: "
                                       f"{', '.join(known) or 'none yet'}")
        try:
            emit(take_slice(a, site, out))
        except ArchiveError as e:
            raise click.ClickException(str(e)) from e


@main.command()
@db_option
@CREATE
@click.argument("shards", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def merge(db, create, shards):
    """Fold crawl shards into the archive, one transaction each. Merging a shard twice changes
    nothing; history stays in fetch-time order whatever the order of the shards."""
    from .shards import merge as run
    with open_archive(db, create=create or None) as a:
        for f in shards:
            try:
                counts = run(a, f)
            except ArchiveError as e:
                raise click.ClickException(f"{f}: {e}") from e
            click.echo(f"{f}\t{json.dumps(counts)}")


@main.command()
@db_option
@click.option("--site")
def reextract(db, site):
    """Re-run extraction over stored raw bodies; new versions only where the output changed."""
    from .integrity import reextract as run
    with open_archive(db, create=False) as a, progress_bar("reextract") as tick:
        emit(run(a, filters(a, site).get("site"), progress=tick))


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
    """Browse and search the archive read-only with datasette: /-/search, /-/document?url=…, feeds at
    /-/feeds.atom and /-/feeds/{site}/{kind}.atom (or .json)."""
    from .store import default_path
    path = default_path(_db(db))
    if not path.exists():
        raise click.ClickException(f"no archive at {path}")
    meta = Path(__file__).with_name("datasette.json")
    # on read-only media datasette must not try to write: serve the file as immutable there
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    files = [str(path)] if writable else ["--immutable", str(path)]
    args = [sys.executable, "-m", "datasette", "serve", *files, "--host", host, "--port", str(port),
            "--metadata", str(meta), "--plugins-dir", str(Path(__file__).with_name("plugins")),
            "--setting", "sql_time_limit_ms", "5000"]
    click.echo(f"govarchive: http://{host}:{port}/-/search (search), http://{host}:{port}/-/feeds.atom (changes)",
               err=True)
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
@click.option("--portals", "n_portals", default=0, type=click.IntRange(min=0),
              help="Also serve this many synthetic portals, copies of the real ones on hosts of their own.")
@click.option("--write-portals", type=click.Path(dir_okay=False),
              help="Write the crawler's entries of the synthetic portals to this TOML file (for GOVARCHIVE_PORTALS).")
@click.option("--faults", type=click.File("r"), help="JSON list of fault rules (see seeds/replica/server.py).")
@click.option("--pagers", type=click.Choice(["default", "alt", "alt2", "loop"]), default="default", show_default=True,
              help="Which real CMS pager markup list pages carry (seeds/replica/site.py PAGERS).")
def replica(port, epoch, scale, faults, pagers, n_portals, write_portals):
    """Serve the offline replica of every portal on 127.0.0.1."""
    from seeds.replica.server import ReplicaServer
    from seeds.replica.site import portal_entries
    rules = json.load(faults) if faults else None
    if write_portals:
        Path(write_portals).write_text(portal_entries(n_portals), encoding="utf-8")
    try:
        srv = ReplicaServer(port=port, epoch=epoch, scale=scale, faults=rules, pagers=pagers, portals=n_portals)
    except OSError as e:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {e.strerror}") from e
    srv.install_signal_handlers()      # before the port is announced: a SIGTERM right after it stops cleanly
    click.echo(f"govarchive replica: epoch {epoch}, {srv.state.describe()['pages']} pages, "
               f"listening on {srv.url} (Ctrl-C stops)", err=True)
    sys.stderr.flush()
    srv.serve_until_signal()
    click.echo("govarchive replica: stopped", err=True)


if __name__ == "__main__":
    main()
