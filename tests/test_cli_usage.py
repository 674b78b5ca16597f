"""The CLI as users of sqlite-utils, datasette and Scrapy expect it: output formats with headers,
options checked up front with one clear line, filters by portal host and publication date,
exports that honour their file names, spider arguments checked, a demo that runs twice."""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
import socket
import subprocess
import sys
import tomllib

import pytest
from click.testing import CliRunner

from archive.cli import main
from tests.helpers import Archive
from seeds.replica import site
from tests.crawl import ENV, ROOT

REMOVED = next(d for d in site.documents() if d.gone and d.portal == "linyi_kjj")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "a.db"
    with Archive(path) as a:
        for e in (1, 2):
            pages = site.build(e)
            run_id = a.start_run(f"epoch {e}")
            for d in site.documents():
                p = pages.get((d.host, d.path))
                if p and d.portal in ("linyi_kjj", "chongqing_kjj"):
                    a.ingest(d.url, status=p.status, body=p.body, headers={"content-type": p.content_type},
                             kind=d.kind, run_id=run_id)
            a.finish_run(run_id)
    return str(path)


def run(*args, code=0):
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code == code, r.output
    return r.output


def one_line(*args) -> str:
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code != 0 and "Traceback" not in r.output, r.output
    assert len([ln for ln in r.output.splitlines() if ln.strip()]) <= 3, r.output
    return r.output


@pytest.mark.parametrize("command", [["list"], ["changes", "--since", "2000-01-01"], ["search", "科技"],
                                     ["history", REMOVED.url], ["stats"], ["runs"]])
def test_every_row_command_has_every_format(db, command):
    rows = json.loads(run(*command, "--db", db, "--json"))
    assert isinstance(rows, (list, dict)) and rows
    if isinstance(rows, dict):          # stats --json: the whole report
        return
    nl = [json.loads(ln) for ln in run(*command, "--db", db, "--nl").splitlines()]
    assert nl == rows
    for fmt, delim in (("--csv", ","), ("--tsv", "\t")):
        table = list(csv.reader(io.StringIO(run(*command, "--db", db, fmt)), delimiter=delim))
        assert table[0] == list(rows[0]) and len(table) == len(rows) + 1
    piped = run(*command, "--db", db)            # piped: tab-separated with a header
    assert piped.splitlines()[0] == "\t".join(rows[0])
    assert list(rows[0])[0] in run(*command, "--db", db, "--table")


def test_db_before_or_after_the_command_and_version(db):
    assert run("--db", db, "list", "--json") == run("list", "--db", db, "--json")
    assert run("--version").startswith("govarchive ")


def test_site_takes_a_portal_key_or_its_host(db):
    by_key = run("list", "--db", db, "--site", "linyi_kjj", "--json")
    assert json.loads(by_key) and run("list", "--db", db, "--site", "kjj.linyi.gov.cn", "--json") == by_key
    assert "unknown site" in one_line("list", "--db", db, "--site", "nowhere")


def test_options_are_checked_up_front(db):
    out = one_line("list", "--db", db, "--kind", "nonsense")
    assert "unknown kind" in out and "npc_reply" in out
    for bad in ("0", "-5"):
        assert "--limit" in one_line("search", "--db", db, "科技", "--limit", bad)
    for bad in ("yesterday", "2026-13-45"):
        assert "not a date" in one_line("list", "--db", db, "--since", bad)
        assert "not a date" in one_line("changes", "--db", db, "--since", bad)
        assert "not a date" in one_line("list", "--db", db, "--published-since", bad)
    assert "--format" in one_line("export", "--db", db, "--format", "xml", "--out", "x")


def test_publication_date_filters(db):
    rows = json.loads(run("list", "--db", db, "--json"))
    dates = sorted(r["published_date"] for r in rows if r["published_date"])
    mid = dates[len(dates) // 2]
    early = json.loads(run("list", "--db", db, "--published-until", mid, "--json"))
    late = json.loads(run("list", "--db", db, "--published-since", mid, "--json"))
    assert early and late and all(r["published_date"] <= mid for r in early)
    assert all(r["published_date"] >= mid for r in late)
    hits = json.loads(run("search", "--db", db, "科技", "--published-since", mid, "--json", "--limit", "500"))
    assert hits and len(hits) < len(json.loads(run("search", "--db", db, "科技", "--json", "--limit", "500")))
    ch = json.loads(run("changes", "--db", db, "--since", "2000-01-01", "--published-since", mid, "--json"))
    assert ch and all(c["url"] in {r["url"] for r in late} for c in ch)


def test_removed_documents_keep_their_title_in_changes(db):
    ch = json.loads(run("changes", "--db", db, "--since", "2000-01-01", "--json"))
    removed = [c for c in ch if c["change"] == "removed"]
    assert removed and all(c["title"] for c in removed)


def test_exports_honour_names_and_options(db, tmp_path):
    run("export", "--db", db, "--format", "warc", "--out", tmp_path / "a.warc")
    assert (tmp_path / "a.warc").read_bytes().startswith(b"WARC/1.")
    run("export", "--db", db, "--format", "warc", "--out", tmp_path / "a.warc.gz")
    assert gzip.decompress((tmp_path / "a.warc.gz").read_bytes()).startswith(b"WARC/1.")
    run("export", "--db", db, "--format", "csv", "--out", tmp_path / "x.csv", "--bom")
    assert (tmp_path / "x.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    run("export", "--db", db, "--format", "csv", "--out", tmp_path / "y.csv")
    assert not (tmp_path / "y.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    run("export", "--db", db, "--format", "jsonl", "--out", tmp_path / "x.jsonl")
    recs = [json.loads(ln) for ln in (tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(r["text_simplified"] is None for r in recs)       # simplified pages: not repeated
    run("export", "--db", db, "--format", "txt", "--out", tmp_path / "t")
    f = next((tmp_path / "t").rglob("*.txt")).read_text(encoding="utf-8")
    head, body = f.split("\n\n", 1)
    assert len(head.splitlines()) == 4 and body.strip()
    assert "--bom" in one_line("export", "--db", db, "--format", "jsonl", "--out", tmp_path / "z", "--bom")


def scrapy(*args):
    return subprocess.run([sys.executable, "-m", "scrapy", "crawl", *args], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=120)


def test_spider_arguments_are_checked_with_one_line():
    r = scrapy("panjin", "-a", "bogus=1")
    assert r.returncode == 2 and "unknown argument -a bogus=1" in r.stderr and "since=" in r.stderr
    for arg in ("since=notadate", "max_pages=0", "revisit=maybe"):
        r = scrapy("panjin", "-a", arg)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr and "Task exception" not in r.stderr
    r = scrapy("urls", "-a", "url=ftp://x")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_requires_python_is_true():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["requires-python"] == ">=3.11"      # tomllib, used throughout, is 3.11's


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_demo_runs_twice(tmp_path):
    db = tmp_path / "demo.db"
    args = ["make", "-s", "demo", f"DB={db}", f"PORT={free_port()}"]
    first = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, env=os.environ)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    assert "changed" in first.stdout and "{+" in first.stdout
    second = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, env=os.environ)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert "not_due" in second.stdout and "{+" in second.stdout
    assert "Crawled 0 pages" not in first.stdout + second.stdout
