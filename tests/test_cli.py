"""The govarchive CLI: a thin layer, clear messages, no tracebacks on bad input."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.store import SCHEMA_VERSION
from tests.helpers import Archive
from seeds.replica import site

SEED003 = "https://kjj.cq.gov.cn/zwgk_176/zwxxgkml/rddbjyblqkgk/202009/t20200916_7893354.html"
AMENDED = next(d.url for d in site.documents() if d.amended and d.portal == "linyi_kjj")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "a.db"
    with Archive(path) as a:
        for d in site.documents():
            if d.portal == "linyi_kjj" or d.url == SEED003:
                for e in (1, 2):
                    p = site.build(e).get((d.host, d.path))
                    if p:
                        a.ingest(d.url, status=p.status, body=p.body, headers={"content-type": p.content_type})
    return str(path)


def run(*args, ok=True):
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    if ok:
        assert r.exit_code == 0, r.output
    return r


def test_help_lists_every_command():
    out = run("--help").output
    for cmd in ("stats", "list", "history", "show", "diff", "changes", "search", "export", "import-html",
                "import-warc", "reextract", "verify", "serve", "extract", "replica"):
        assert cmd in out


def test_reading_commands(db):
    stats = json.loads(run("stats", "--db", db, "--json").output)
    assert stats["documents"] > 40 and stats["schema_version"] == SCHEMA_VERSION
    assert SEED003 in run("list", "--db", db, "--site", "chongqing_kjj").output
    assert "new_version" in run("history", "--db", db, AMENDED).output
    v = json.loads(run("show", "--db", db, SEED003).output)
    assert v["reply"]["addressee"] == "郎平权" and v["document_status"] == "active"
    assert run("show", "--db", db, SEED003, "--raw").output.startswith("<!DOCTYPE html>")
    assert "{+(经复核" in run("diff", "--db", db, AMENDED).output
    assert "<ins>(经复核" in run("diff", "--db", db, AMENDED, "--format", "html").output
    assert json.loads(run("diff", "--db", db, AMENDED, "--format", "json", "--from", "1", "--to", "2").output)["changed"]
    ch = run("changes", "--db", db, "--since", "2000-01-01").output
    assert "removed" in ch and "changed" in ch and "new" in ch
    assert "【渝东南】" in run("search", "--db", db, "渝东南").output


def test_bad_input_gives_clear_messages(db, tmp_path):
    r = run("show", "--db", db, "http://nowhere.example/x", ok=False)
    assert r.exit_code == 1 and "no document" in r.output and "Traceback" not in r.output
    r = run("show", "--db", db, SEED003, "--version", "7", ok=False)
    assert "has no version 7" in r.output
    r = run("stats", "--db", str(tmp_path / "nope.db"), ok=False)
    assert "no archive" in r.output
    r = run("search", "--db", db, "***", ok=False)
    assert "nothing to search" in r.output
    r = run("import-html", "--db", db, __file__, __file__, "--url", "http://x.org/a", ok=False)
    assert "one --url per file" in r.output


def test_export_and_verify(db, tmp_path):
    run("export", "--db", db, "--format", "jsonl", "--out", str(tmp_path / "x.jsonl"))
    assert len((tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines()) == json.loads(
        run("stats", "--db", db, "--json").output)["documents"]
    assert "ok" in run("verify", "--db", db).output
    with Archive(db) as a:
        a.conn.execute("UPDATE versions SET title = 'forged' WHERE id = 1")
    r = run("verify", "--db", db, ok=False)
    assert r.exit_code == 1 and "content hash" in r.output


def test_extract_command(tmp_path):
    p = site.build(1)[("kjj.linyi.gov.cn", "/info/1383/7261.htm")]
    f = tmp_path / "page.html"
    f.write_bytes(p.body)
    doc = json.loads(run("extract", str(f), "--url", "http://kjj.linyi.gov.cn/info/1383/7261.htm").output)
    assert doc["reply"]["number"] == "89" and doc["metadata"]["index_no"] == "1342804570/kxjsj/2021-0000168"
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    r = run("extract", str(empty), "--url", "http://x.org/", ok=False)
    assert "empty body" in r.output


def test_import_html_mirror_copy(tmp_path):
    p = site.build(1)[("www.keihe.com", "/html/2846/2021-10-12/content-104527.html")]
    f = tmp_path / "mirror.html"
    f.write_bytes(p.body)
    db = str(tmp_path / "m.db")
    out = run("import-html", "--db", db, "--create", str(f), "--url", "http://www.keihe.com/html/2846/2021-10-12/content-104527.html").output
    assert out.startswith("new_version")
    v = json.loads(run("show", "--db", db, "http://www.keihe.com/html/2846/2021-10-12/content-104527.html").output)
    assert v["flags"]["mirror"] and "盤(pán)" not in v["text"] and "潘丕奇" in v["text"]
