"""The versioned archive: version semantics, diffs, search, exports, integrity and migrations."""
from __future__ import annotations

import json
import sqlite3

import pytest

from archive import diff as D
from archive.export import export, records
from archive.imports import import_warc
from archive.integrity import reextract, verify
from archive.search import SearchError, search
from archive.store import SCHEMA_VERSION, ArchiveError
from tests.helpers import Archive
from seeds.replica import site


def page(url: str, epoch: int = 1):
    d = next(x for x in site.documents() if x.url == url)
    p = site.build(epoch)[(d.host, d.path)]
    return p.status, p.body, {"content-type": p.content_type, "etag": p.etag, "last-modified": p.last_modified}


AMENDED = next(d.url for d in site.documents() if d.amended and d.portal == "chongqing_kjj")
REMOVED = next(d.url for d in site.documents() if d.gone and d.portal == "linyi_kjj")
SEED003 = "https://kjj.cq.gov.cn/zwgk_176/zwxxgkml/rddbjyblqkgk/202009/t20200916_7893354.html"


@pytest.fixture
def arc(tmp_path):
    a = Archive(tmp_path / "a.db")
    yield a
    a.close()


def ingest(a, url, epoch=1, **kw):
    status, body, headers = page(url, epoch)
    return a.ingest(url, status=status, body=body, headers=headers, **kw)


def test_version_semantics(arc):
    assert ingest(arc, AMENDED).outcome == "new_version"
    assert ingest(arc, AMENDED).outcome == "unchanged"
    assert arc.ingest(AMENDED, status=304, headers={}).outcome == "not_modified"
    out = ingest(arc, AMENDED, epoch=2)
    assert (out.outcome, out.version) == ("new_version", 2)
    assert ingest(arc, AMENDED, epoch=2).outcome == "unchanged"
    assert arc.ingest(AMENDED, status=404, headers={}).outcome == "gone"
    assert arc.document(AMENDED)["status"] == "gone"
    assert arc.ingest(AMENDED, status=410, headers={}).outcome == "gone"    # still gone: no second tombstone
    vs = arc.versions(AMENDED)
    assert [v["status"] for v in vs] == ["active", "active", "gone"]
    assert arc.version(AMENDED, content=True)["number"] == 2 and vs[1]["text"]  # old text stays readable
    out = ingest(arc, AMENDED, epoch=2)                                        # reappears
    assert (out.outcome, out.version) == ("new_version", 4) and arc.document(AMENDED)["status"] == "active"
    outcomes = [h["outcome"] for h in arc.history(AMENDED)]
    assert outcomes == ["new_version", "unchanged", "not_modified", "new_version", "unchanged", "gone", "gone",
                        "new_version"]


def test_counter_churn_is_not_a_change(arc):
    """Epoch 2 changes every page's view counter; the extracted content is the same."""
    url = next(d.url for d in site.documents() if d.portal == "panjin" and not (d.amended or d.gone or d.invalidated)
               and d.born == 1 and not d.disallowed)
    s1, b1, _ = page(url, 1)
    s2, b2, _ = page(url, 2)
    assert b1 != b2
    assert ingest(arc, url).outcome == "new_version"
    assert ingest(arc, url, epoch=2).outcome == "unchanged"
    assert arc.conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 2     # both raw bodies kept


def test_garbage_never_replaces_a_good_version(arc):
    ingest(arc, SEED003)
    for body, headers in [(b"", {}), (b"<html><body></body></html>", {}),
                          (b"%PDF-1.4 binary", {"content-type": "application/pdf"}),
                          (page(SEED003)[1][:3000], {"content-length": "90000"})]:
        out = arc.ingest(SEED003, status=200, body=body, headers=headers)
        assert out.outcome == "error" and out.message, body[:20]
    for status in (500, 503):
        assert arc.ingest(SEED003, status=status, headers={}).outcome == "error"
    assert arc.ingest(SEED003, status=None, error="TimeoutError: took too long").outcome == "error"
    assert len(arc.versions(SEED003)) == 1


def test_unknown_404_and_304_are_errors_not_documents(arc):
    assert arc.ingest("http://kjj.linyi.gov.cn/info/1/1.htm", status=404, headers={}).outcome == "error"
    assert arc.ingest("http://kjj.linyi.gov.cn/info/1/2.htm", status=304, headers={}).outcome == "error"
    assert arc.stats()["documents"] == 0


def test_blobs_are_content_addressed(arc):
    status, body, headers = page(SEED003)
    arc.ingest(SEED003, status=200, body=body, headers=headers)
    arc.ingest("http://example.org/copy-of-003.html", status=200, body=body, headers=headers)
    assert arc.conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 1
    assert arc.get_blob(arc.versions(SEED003)[0]["blob_sha256"]) == body


def test_canonical_urls_fold_aliases(arc):
    url = next(d.url for d in site.documents() if d.portal == "panjin" and d.born == 1 and not d.gone)
    status, body, headers = page(url)
    arc.ingest(url.replace("https://www.", "http://"), status=200, body=body, headers=headers)
    assert arc.document(url)["url"] == url


def test_diff_on_chinese_text(arc):
    ingest(arc, AMENDED)
    ingest(arc, AMENDED, epoch=2)
    a, b = arc.versions(AMENDED)
    d = D.diff_versions(a, b)
    changed = [p for p in d["paragraphs"] if p["op"] != "equal"]
    assert len(changed) == 1 and changed[0]["op"] == "replace"
    inserted = "".join(u for op, t, u in changed[0]["chars"] if op in ("insert", "replace"))
    assert inserted.startswith("(经复核,相关数据已更新")
    text = D.as_text(d, AMENDED)
    assert "{+(经复核,相关数据已更新" in text and text.count("\n~ ") == 1
    html = D.as_html(d, AMENDED)
    assert "<ins>(经复核,相关数据已更新" in html
    assert json.loads(D.as_json(d))["paragraphs"][0]["op"] == "equal"


def test_diff_html_escapes_document_content():
    a = {"number": 1, "status": "active", "text": "<script>alert(1)</script>\n第二段", "title": "<b>x</b>"}
    b = {"number": 2, "status": "active", "text": "<script>alert(2)</script>\n第二段<img src=x onerror=y>",
         "title": "<i>y</i>"}
    html = D.as_html(D.diff_versions(a, b), "http://x/<evil>")
    assert "<script>" not in html and "<img" not in html and "<b>x" not in html and "<evil>" not in html
    assert "&lt;script&gt;" in html


def test_search_finds_two_and_four_character_words(arc):
    for d in site.documents():
        if d.portal in ("linyi_kjj", "chongqing_kjj") and d.born == 1:
            ingest(arc, d.url)
    hits = search(arc, "科技")
    assert hits and all("科技" in h["snippet"] for h in hits)
    hits4 = search(arc, "科技创新", limit=100)
    assert hits4 and all("【科技创新】" in h["snippet"] for h in hits4)
    assert {h["url"] for h in search(arc, "渝东南", limit=5)} == {SEED003}
    assert search(arc, "郎平权")[0]["url"] == SEED003          # 3-character name
    assert search(arc, "科技 渝东南")[0]["url"] == SEED003      # two words, both required
    assert search(arc, "渝东南", site="linyi_kjj") == []
    assert search(arc, "量子引力") == []
    # ranking: documents whose title holds the words first, then the newest published
    hits = search(arc, "科技创新", limit=1000)
    in_title = [h["in_title"] for h in hits]
    assert True in in_title and False in in_title and in_title == sorted(in_title, reverse=True)
    dates = [arc.version(h["url"])["published_date"] or "" for h in hits if not h["in_title"]]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize("q", ['"', "科技 OR", "AND", "*", "科技)(", "NEAR(科技", "'; DROP TABLE documents; --", "^科技"])
def test_search_syntax_characters_are_safe(arc, q):
    ingest(arc, SEED003)
    try:
        search(arc, q)
    except SearchError as e:
        assert "nothing to search" in str(e)
    assert arc.stats()["documents"] == 1


def test_search_follows_new_versions(arc):
    ingest(arc, AMENDED)
    assert search(arc, "经复核") == []
    ingest(arc, AMENDED, epoch=2)
    assert [h["url"] for h in search(arc, "经复核")] == [AMENDED]
    arc.ingest(AMENDED, status=404, headers={})
    assert search(arc, "经复核") == []


def _load(arc):
    for d in site.documents():
        if d.portal == "chongqing_kjj" or d.seed:
            for e in (1, 2):
                s, b, h = page(d.url, e) if d.state(e) else (None, None, None)
                if s:
                    arc.ingest(d.url, status=s, body=b, headers=h, kind=d.kind)


def test_jsonl_and_parquet_round_trip(arc, tmp_path):
    import pyarrow.parquet as pq
    _load(arc)
    for all_versions in (False, True):
        want = list(records(arc, all_versions=all_versions))
        assert want and len({r["url"] for r in want}) == arc.stats()["documents"]
        n = export(arc, "jsonl", tmp_path / "x.jsonl", all_versions=all_versions)
        got = [json.loads(line) for line in (tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines()]
        assert n == len(want) and got == want
        export(arc, "parquet", tmp_path / "x.parquet", all_versions=all_versions)
        rows = pq.read_table(tmp_path / "x.parquet").to_pylist()
        for r in rows:
            r["flags"] = json.loads(r["flags"]) if r["flags"] else None
        assert rows == want
    assert any(r["version_status"] == "gone" for r in records(arc, all_versions=True))


def test_txt_and_csv_exports(arc, tmp_path):
    _load(arc)
    n = export(arc, "txt", tmp_path / "txt")
    files = list((tmp_path / "txt").rglob("*.txt"))
    assert n == len(files) == arc.stats()["documents"]
    body = next(f for f in files if "0942" in f.name).read_text(encoding="utf-8")
    assert "郎平权代表:" in body
    assert export(arc, "csv", tmp_path / "x.csv", site="chongqing_kjj") > 0
    assert export(arc, "jsonl", tmp_path / "s.jsonl", simplified=True, site="www.keihe.com") == 1
    rec = json.loads((tmp_path / "s.jsonl").read_text(encoding="utf-8"))
    assert "盘锦" in rec["text"] or "科技" in rec["text"]
    assert rec["text"] == rec["text_simplified"]


def test_warc_export_then_import_reproduces_raw_bodies(arc, tmp_path):
    _load(arc)
    export(arc, "warc", tmp_path / "a.warc.gz")
    with Archive(tmp_path / "b.db") as b:
        counts = import_warc(b, tmp_path / "a.warc.gz")
        assert counts.get("error", 0) == 0
        blobs = lambda x: {sha: x.get_blob(sha) for (sha,) in x.conn.execute(
            "SELECT blob_sha256 FROM versions WHERE blob_sha256 IS NOT NULL")}
        assert blobs(b) == blobs(arc)
        assert b.stats()["documents"] == arc.stats()["documents"]
        # removals and kinds survive the round trip (404 responses, metadata records)
        assert b.stats()["versions"] == arc.stats()["versions"] and arc.stats()["tombstones"] > 0
        assert b.stats()["tombstones"] == arc.stats()["tombstones"]
        kinds = lambda x: dict(x.conn.execute("SELECT url, kind FROM documents"))
        assert kinds(b) == kinds(arc)
        status = lambda x: dict(x.conn.execute("SELECT url, status FROM documents"))
        assert status(b) == status(arc)
        # importing the same file again changes nothing
        before = b.stats()
        again = import_warc(b, tmp_path / "a.warc.gz")
        assert set(again) <= {"duplicate", "skipped_revisit", "skipped_not_html"}, again
        assert {k: b.stats()[k] for k in ("versions", "fetches")} == {k: before[k] for k in ("versions", "fetches")}


def test_verify_catches_a_tampered_blob_and_a_tampered_version(arc):
    _load(arc)
    assert verify(arc) == []
    sha, codec, data = arc.conn.execute("SELECT sha256, codec, data FROM blobs LIMIT 1").fetchone()
    body = arc._decompress(codec, data)
    forged = body.replace("科技".encode(), "科枝".encode(), 1)
    arc.conn.execute("UPDATE blobs SET data = ?, codec = 'zstd' WHERE sha256 = ?",
                     (__import__("zstandard").ZstdCompressor().compress(forged), sha))
    arc.conn.execute("UPDATE versions SET text = text || '。' WHERE id = (SELECT min(id) FROM versions WHERE status='active')")
    problems = verify(arc)
    assert any(sha in p for p in problems) and any("content hash" in p for p in problems)


def test_reextract_is_idempotent(arc):
    _load(arc)
    before = arc.stats()["versions"]
    first = reextract(arc)
    assert first["new_version"] == 0 and first["unchanged"] > 0        # same extractor: nothing changes
    # an older extractor had left chrome in the text of one version: reextract repairs it once
    vid, url = arc.conn.execute("SELECT v.id, d.url FROM versions v JOIN documents d ON d.id = v.document_id "
                                "AND d.latest_version = v.number WHERE v.status = 'active' LIMIT 1").fetchone()
    from archive.store import content_hash
    row = arc.conn.execute("SELECT title, text, metadata, reply, attachments, published_date FROM versions WHERE id=?",
                           (vid,)).fetchone()
    stale = row[1] + "\n打印本页 关闭窗口"
    arc.conn.execute("UPDATE versions SET text = ?, extractor_version = '0', content_hash = ? WHERE id = ?",
                     (stale, content_hash(row[0], stale, json.loads(row[2]), json.loads(row[3] or "null"),
                                          json.loads(row[4]), row[5]), vid))
    assert reextract(arc)["new_version"] == 1
    assert reextract(arc)["new_version"] == 0
    assert arc.stats()["versions"] == before + 1
    assert "打印本页" not in arc.version(url)["text"]


@pytest.mark.parametrize("version", [1, 2])
def test_archive_at_an_older_schema_version_opens_after_migration(tmp_path, version):
    path = tmp_path / "old.db"
    old = Archive(path, migrate_to=version)
    assert old.schema_version() == version
    old.conn.execute("INSERT INTO documents (url, site, kind, first_seen, last_seen, status, latest_version) VALUES "
                     "('https://kjj.cq.gov.cn/x.html', 'chongqing_kjj', 'policy', '2020', '2020', 'active', 1)")
    old.conn.execute("INSERT INTO versions (document_id, number, fetched_at, status, title, text, content_hash, "
                     "attachments) VALUES (1, 1, '2020-01-01', 'active', '旧标题', '科技创新的旧版本正文', 'x', "
                     "'[{\"url\": \"https://kjj.cq.gov.cn/P0.pdf?b=2&a=1\", \"name\": \"附件.pdf\"}]')")
    old.conn.execute("INSERT INTO fetches (url, fetched_at, http_status, outcome, version_id) VALUES "
                     "('https://kjj.cq.gov.cn/x.html', '2020-01-01', 200, 'new_version', 1)")
    old.conn.execute("INSERT INTO fetches (url, fetched_at, http_status, outcome, error) VALUES "
                     "('https://kjj.cq.gov.cn/broken.html', '2020-01-02', 500, 'error', 'HTTP 500')")
    old.close()
    with Archive(path) as a:
        assert a.schema_version() == SCHEMA_VERSION
        assert a.versions("https://kjj.cq.gov.cn/x.html")[0]["text"] == "科技创新的旧版本正文"
        assert [p["url"] for p in a.parents("https://kjj.cq.gov.cn/P0.pdf?a=1&b=2")] == ["https://kjj.cq.gov.cn/x.html"]
        assert [h["url"] for h in search(a, "旧版本")] == ["https://kjj.cq.gov.cn/x.html"]
        assert [h["version"] for h in a.history("https://kjj.cq.gov.cn/x.html")] == [1]
        assert [r[0] for r in a.conn.execute("SELECT url FROM fetch_log ORDER BY id")] == [
            "https://kjj.cq.gov.cn/x.html", "https://kjj.cq.gov.cn/broken.html"]
        ingest(a, SEED003)
        assert a.stats()["documents"] == 2


def test_a_failed_first_fetch_joins_the_document_s_history(arc):
    arc.ingest(SEED003, status=None, error="TimeoutError: took too long")
    ingest(arc, SEED003)
    assert [h["outcome"] for h in arc.history(SEED003)] == ["error", "new_version"]
    assert arc.conn.execute("SELECT count(*) FROM fetches WHERE url IS NOT NULL").fetchone()[0] == 0


def test_readonly_and_bad_files_give_clear_errors(tmp_path):
    with pytest.raises(ArchiveError, match="no archive"):
        Archive(tmp_path / "missing.db", readonly=True)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ArchiveError, match="not a govarchive"):
        Archive(junk)
    newer = tmp_path / "newer.db"
    Archive(newer).close()
    c = sqlite3.connect(newer)
    c.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    c.commit()
    c.close()
    with pytest.raises(ArchiveError, match="upgrade govarchive"):
        Archive(newer)


def test_batches_roll_back_whole(arc):
    with pytest.raises(RuntimeError):
        with arc.batch():
            ingest(arc, SEED003)
            raise RuntimeError("crash in the middle of a batch")
    assert arc.stats()["documents"] == 0 and arc.stats()["fetches"] == 0


def test_a_traditional_title_leaves_the_index_with_its_version(arc):
    """A title is indexed in simplified characters; a new version must remove exactly those tokens."""
    para = "<p>盤錦市科學技術局認真研究了您的建議，結合工作實際，現答覆如下：第{}條措施已經落實。</p>"

    def page(title):
        body = "".join(para.format(i) for i in range(6))
        return (f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
                f"<div id='zoom'>{body}</div></body></html>").encode()

    def indexed(bigram):
        return arc.conn.execute("SELECT count(*) FROM search_title WHERE search_title MATCH ?",
                                (f'"{bigram}"',)).fetchone()[0]

    url = "https://www.panjin.gov.cn/html/1/2024-01-01/content-1.html"
    html = {"content-type": "text/html; charset=utf-8"}
    arc.ingest(url, status=200, body=page("盤錦市科學技術局關於舊標題的通知"), headers=html)
    assert indexed("旧标") == 1
    arc.ingest(url, status=200, body=page("盤錦市科學技術局關於新標題的通知"), headers=html)
    assert arc.version(url)["number"] == 2
    assert indexed("旧标") == 0 and indexed("新标") == 1
