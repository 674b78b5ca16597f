"""Hostile input: file names, HTML in diffs, malformed pages, query syntax, robots.txt."""
from __future__ import annotations

import json

import pytest

from archive import diff as D
from archive.export import export
from archive.search import SearchError, search
from tests.helpers import Archive, control
from crawler.extract import Document, extract, extractor_version
from tests.crawl import crawl

HOSTILE_TITLES = ["../../../../etc/passwd", "a/b/c", "..", "nul\x00byte", "长" * 300, "CON", " . ", "a\\b:c*?\"<>|"]


def doc(url, title, text="科技创新工作正文。"):
    return Document(url=url, title=title, text=text, text_simplified=text, script="simplified", published_date=None,
                    metadata={}, reply=None, attachments=[], flags={}, extractor_version=extractor_version())


def test_txt_export_stays_inside_its_folder(tmp_path):
    with Archive(tmp_path / "a.db") as a:
        for i, t in enumerate(HOSTILE_TITLES):
            a.ingest(f"http://x.gov.cn/{i}.html", status=200, body=f"<p>{i}</p>".encode(), headers={},
                     document=doc(f"http://x.gov.cn/{i}.html", t))
        out = tmp_path / "out"
        assert export(a, "txt", out) == len(HOSTILE_TITLES)
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".txt"]
    assert len(files) == len(HOSTILE_TITLES)
    for f in files:
        assert out.resolve() in f.resolve().parents
        assert "\x00" not in f.name and len(f.name.encode()) < 255
    assert {f.parent for f in files} == {out / "x.gov.cn"}


def test_diff_html_escapes_scripts_and_markup():
    a = {"number": 1, "status": "active", "text": "<script>alert('x')</script>\n正文", "title": "<img src=x onerror=alert(1)>",
         "metadata": {"doc_no": "<b>1</b>"}}
    b = {"number": 2, "status": "active", "text": "<script>alert('y')</script>\n正文<iframe src=//evil>",
         "title": "t", "metadata": {"doc_no": "<i>2</i>"}}
    html = D.as_html(D.diff_versions(a, b), "http://x/\"><script>")
    for raw in ("<script>", "<img", "<iframe", "<b>1", "<i>2"):
        assert raw not in html
    assert "&lt;script&gt;" in html and "&lt;iframe" in html


@pytest.mark.parametrize("html", [
    b"<html><body><div class='xwnr_txt'><p>unclosed <b><i><table><tr><td>\xe7\xa7\x91\xe6\x8a\x80",
    b"<html><body><div class='xwnr_txt'><p>\xe6\xad\xa3\xe6\x96\x87</p></div></body></html></html></body></html>",
    b"<html><body><p>" + "科技创新".encode() * (5 * 1024 * 1024 // 12) + b"</p></body></html>",
    b"<html><body>" + b"<table><tr><td>" * 3000 + "深层表格".encode() + b"</td></tr></table>" * 3000 + b"</body></html>",
    b"<html><body>" + b"<div>" * 20000 + b"x" + b"</div>" * 20000 + b"</body></html>",
    b"<?xml version='1.0' encoding='gbk'?><html><body><p>\xbf\xc6\xbc\xbc</p></body></html>",
    b"<html><head><meta charset='no-such-charset'></head><body>\xff\xfe\xfd</body></html>",
    b"<frameset><frame src='a.html'></frameset>",
])
def test_malformed_html_extracts_without_a_crash(html):
    d = extract(html, "http://x.gov.cn/a.html")
    assert isinstance(d.text, str) and d.flags is not None


@pytest.mark.parametrize("q", ['"', "'", "科技\" OR \"x", "NEAR(科技 创新)", "科技*", "-科技", "(", ")", "{title}:科技",
                               "科技; DROP TABLE versions; --", "^", "AND OR NOT", "\x00", "%_", "\\"])
def test_search_syntax_is_inert(tmp_path, q):
    with Archive(tmp_path / "a.db") as a:
        a.ingest("http://x.gov.cn/1.html", status=200, body=b"<p>1</p>", headers={},
                 document=doc("http://x.gov.cn/1.html", "科技创新", "科技创新 AND OR NOT 工作"))
        try:
            hits = search(a, q)
            assert isinstance(hits, list)
        except SearchError as e:
            assert "nothing to search for" in str(e)
        assert a.stats()["versions"] == 1


def test_robots_disallow_is_obeyed_even_for_a_requested_url(replica, tmp_path, manifest):
    forbidden = next(d["url"] for d in manifest["documents"] if d["robots_disallowed"])
    control(replica, "log", {})
    run = crawl("urls", replica, tmp_path / "a.db", "-a", f"url={forbidden}")
    host = forbidden.split("/", 3)[2]
    assert [(e["host"], e["path"]) for e in control(replica, "log")[1]] == [(host, "/robots.txt")]
    assert run.stat("robotstxt/forbidden") == 1
    with Archive(tmp_path / "a.db") as a:
        assert a.stats()["fetches"] == 0


def test_bad_cli_input_loses_nothing(tmp_path):
    from click.testing import CliRunner
    from archive.cli import main
    db = tmp_path / "a.db"
    with Archive(db) as a:
        a.ingest("http://x.gov.cn/1.html", status=200, body=b"<p>1</p>", headers={}, document=doc("http://x.gov.cn/1.html", "标题"))
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(b"not a warc at all" * 50)
    r = CliRunner().invoke(main, ["import-warc", "--db", str(db), str(bad)])
    assert r.exit_code == 1 and "not a readable WARC" in r.output
    r = CliRunner().invoke(main, ["import-html", "--db", str(db), str(bad), "--url", "ftp://x"])
    assert r.exit_code == 1 and "http(s) URL" in r.output
    with Archive(db) as a:
        assert a.stats()["versions"] == 1
        assert json.loads(json.dumps(a.version("http://x.gov.cn/1.html")))["title"] == "标题"
