"""Attachments: every format read by its library, flagged or refused when it has no text, fetched
by the crawl from real portal markup, versioned, searchable, and listed with their pages."""
from __future__ import annotations

import difflib
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections import Counter

import pytest

from archive.search import search
from crawler import attachments as A
from crawler.extract import extract_or_error
from seeds.replica import files, site
from tests.crawl import ROOT, crawl
from tests.helpers import Archive, control

LINES = ["关于市政协十四届二次会议第123号提案的答复", "尊敬的张委员：您提出的关于加强科技创新平台建设的提案收悉。现答复如下。",
         "序号\t项目名称\t经费（万元）", "1\t盐碱地水稻育种\t350", "2\t海洋装备检测平台\t120"]
OFFICE = pytest.mark.skipif(not files.office(), reason="DOC and WPS files are written by LibreOffice "
                                                        "(apt install libreoffice-writer-nogui; .ci/run installs it)")


def similar(gold: str, text: str) -> float:
    strip = lambda s: re.sub(r"\s", "", s)
    return difflib.SequenceMatcher(None, strip(gold), strip(text), autojunk=False).ratio()


@pytest.mark.parametrize("fmt", ["pdf", "docx", "xlsx", "xls", "ofd",
                                 pytest.param("doc", marks=OFFICE), pytest.param("wps", marks=OFFICE)])
def test_each_format_gives_its_text(fmt):
    d, err = extract_or_error(files.make(fmt, "答复函", LINES), f"http://www.example.gov.cn/up/a1.{fmt}")
    assert err is None
    assert d.flags["format"] == fmt and not d.flags.get("needs_ocr")
    assert similar("".join(LINES), d.text) >= 0.99
    if fmt in ("docx", "xlsx", "xls"):        # table rows stay rows: cells tab-separated
        assert "1\t盐碱地水稻育种\t350" in d.text.split("\n")


def test_the_bytes_decide_the_format_not_the_name():
    docx = files.make("docx", "答复函", LINES)
    d, err = extract_or_error(docx, "http://www.example.gov.cn/system/_content/download.jsp?wbfileid=7")
    assert err is None and d.flags["format"] == "docx"
    d, err = extract_or_error(docx, "http://www.example.gov.cn/up/a.doc")       # a .doc link serving DOCX
    assert err is None and d.flags["format"] == "docx"
    # look-alike: an HTML page behind a .pdf link (a portal's "file not found" page) is a page
    d, err = extract_or_error("<html><body><h1>文件下载</h1><p>该文件已经被删除，请联系网站管理员处理此事。</p></body></html>"
                              .encode(), "http://www.example.gov.cn/up/a.pdf")
    assert err is None and "format" not in d.flags


@pytest.mark.parametrize("variant,fmt,message", [
    ("encrypted", "pdf", "encrypted PDF: it needs a password to open"),
    ("broken", "pdf", "broken PDF file"),
    ("broken", "docx", "broken DOCX file"),
    ("broken", "xlsx", "broken XLSX file"),
    ("broken", "ofd", "broken OFD file"),
])
def test_encrypted_and_broken_files_are_errors_that_say_so(variant, fmt, message):
    d, err = extract_or_error(files.make(fmt, "答复函", LINES, variant), f"http://www.example.gov.cn/up/a.{fmt}")
    assert d is None and message in err


def test_bytes_that_are_no_file_of_the_linked_format_are_an_error():
    d, err = extract_or_error(b"\x00\x01garbage" * 50, "http://www.example.gov.cn/up/a.xls")
    assert d is None and "the link says XLS" in err


def test_a_scan_is_flagged_needs_ocr_and_its_bytes_decide_its_versions():
    a, _ = extract_or_error(files.make("pdf", "答复函", LINES, "scan"), "http://www.example.gov.cn/up/s.pdf")
    b, _ = extract_or_error(files.make("pdf", "答复函", LINES[:2], "scan"), "http://www.example.gov.cn/up/s.pdf")
    assert a.flags["needs_ocr"] and not a.text and a.title
    assert a.metadata["sha256"] != b.metadata["sha256"]


def test_a_scanned_page_is_flagged_by_number_and_a_sealed_page_is_not():
    url = "http://www.example.gov.cn/up/m.pdf"
    mixed, _ = extract_or_error(files.make("pdf", "答复函", LINES, "mixed"), url)     # page 2: a scan under "- 2 -"
    assert mixed.flags["needs_ocr"] and mixed.flags["needs_ocr_pages"] == [2]
    assert mixed.text.splitlines()[0] == LINES[0]
    resigned, _ = extract_or_error(files.make("pdf", "答复函", LINES[:2], "mixed"), url)    # another scanned page
    assert resigned.text == mixed.text and resigned.metadata["sha256"] != mixed.metadata["sha256"]
    sealed, _ = extract_or_error(files.make("pdf", "答复函", LINES, "sealed"), url)   # page 2: signer, date, a seal
    assert "needs_ocr" not in sealed.flags and sealed.flags["pages"] == 2 and "sha256" not in sealed.metadata
    assert sealed.text.splitlines()[-2:] == ["盘锦市科学技术局", "2024年5月6日"]


def test_a_text_layer_of_unmapped_font_codes_is_dropped_and_flagged():
    d, _ = extract_or_error(files.make("pdf", "答复函", LINES, "garbled"), "http://www.example.gov.cn/up/g.pdf")
    assert d.flags["garbled_pages"] == [1] and d.flags["needs_ocr"] and not d.text
    assert not A._garbled("\uf06c 附件：张三·李四，面积 3×5 米，温度 20°C，增长 ±2%")    # a bullet, and signs Chinese uses
    assert A._garbled("¸ÃÎÄ¼þ¹ØÓÚ¼ÓÇ¿¿Æ¼¼´´ÐÂ")                                      # GBK bytes read as Latin-1


def zipped(members: dict[str, bytes], names: str | None = "gbk") -> bytes:
    """A zip with member names in ``names`` and no UTF-8 flag, as Windows tools write GBK (None:
    UTF-8 with the flag, as zipfile writes)."""

    class Named(zipfile.ZipInfo):
        def _encodeFilenameFlags(self):
            return self.filename.encode(names), self.flag_bits

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            info = (Named if names else zipfile.ZipInfo)(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return out.getvalue()


def test_a_zip_of_annexes_is_read_member_by_member_under_their_names():
    body = zipped({"附件1：项目清单.xlsx": files.make("xlsx", "清单", LINES[2:]),
                   "附件2/答复函.pdf": files.make("pdf", "答复函", LINES[:2]),
                   "说明.txt": "请按附件填报。".encode("gbk"),
                   "签字页.jpg": b"\xff\xd8\xff\xe0" + bytes(100),
                   "旧版.rar": b"Rar!\x1a\x07\x00" + bytes(50)})
    assert not any(i.flag_bits & 0x800 for i in zipfile.ZipFile(io.BytesIO(body)).infolist())    # GBK names
    d, err = extract_or_error(body, "http://www.example.gov.cn/system/_content/download.jsp?id=9")
    assert err is None and d.flags["format"] == "zip"
    assert d.text.splitlines()[:4] == ["附件1：项目清单.xlsx", *LINES[2:]]
    assert "答复函.pdf" in d.text.splitlines() and LINES[1] in d.text and "请按附件填报。" in d.text
    assert [(m["name"], m["format"]) for m in d.flags["members"]] == [
        ("附件1：项目清单.xlsx", "xlsx"), ("答复函.pdf", "pdf"), ("说明.txt", "txt"), ("签字页.jpg", "image"),
        ("旧版.rar", "rar")]
    assert d.flags["needs_ocr"]                   # the scanned signature page
    for names in (None, "utf-8"):       # look-alikes: UTF-8 names, with the flag and without
        plain = zipped({"答复.docx": files.make("docx", "答复函", LINES[:2])}, names)
        d, _ = extract_or_error(plain, "http://www.example.gov.cn/up/a.zip")
        assert d.text.splitlines()[:2] == ["答复.docx", LINES[0]] and "needs_ocr" not in d.flags
    d, _ = extract_or_error(zipped({"签字页.png": b"\x89PNG" + bytes(40), "答复.txt": "特此函复。".encode()}),
                            "http://www.example.gov.cn/up/a.zip", ocr=True)    # an image that is no image
    assert d.text.splitlines() == ["答复.txt", "特此函复。"] and "error" in d.flags["members"][0]


def test_archives_that_cannot_be_read_are_errors_that_say_so():
    d, err = extract_or_error(b"Rar!\x1a\x07\x01\x00" + bytes(200), "http://www.example.gov.cn/up/a.rar")
    assert d is None and "RAR archive: no reader here" in err
    bomb = zipped({"a.txt": b"0" * (A.ZIP_LIMIT + 1)})
    d, err = extract_or_error(bomb, "http://www.example.gov.cn/up/a.zip")
    assert d is None and "unpacks to over" in err
    assert zipfile.is_zipfile(io.BytesIO(bomb)) and len(bomb) < 500_000


@pytest.mark.skipif(not (shutil.which("tesseract") and files.cjk_font()),
                    reason="OCR needs tesseract-ocr, tesseract-ocr-chi-sim and a CJK font (.ci/run installs them)")
def test_ocr_reads_a_scan_when_asked():
    scan = files.make("pdf", "答复函", LINES[:2], "scan")
    d, err = extract_or_error(scan, "http://www.example.gov.cn/up/s.pdf", ocr=True)
    assert err is None and d.flags["needs_ocr"] and d.flags["ocr"] == "tesseract"
    assert similar("".join(LINES[:2]), d.text) >= 0.9
    mixed, _ = extract_or_error(files.make("pdf", "答复函", LINES[:3], "mixed"), "http://www.example.gov.cn/up/m.pdf",
                                ocr=True)          # only the scanned page is read by OCR, after the text page
    assert mixed.text.splitlines()[0] == LINES[0] and similar("".join(LINES[:3]), mixed.text) >= 0.85


def test_doc_reader_drops_field_codes_and_keeps_their_results():
    text = "目录\x13 TOC \\o \"1-3\" \x14第一章 总则\x15\r正文\x07单元格\x07\x07"
    assert re.split(r"[\r\x07]", A.FIELD.sub(lambda m: m.group(1) or "", text)) == ["目录第一章 总则", "正文", "单元格", "", ""]


# --------------------------------------------------------------------------------------------
# The crawl: every portal of the replica in epoch 1, again, then in epoch 2 (conftest.crawled)
# --------------------------------------------------------------------------------------------

def archived_files(db) -> dict[str, dict]:
    with Archive(db) as a:
        return {r["url"]: r for r in a.db.query(
            "SELECT d.url, d.status, v.text, v.flags, v.number FROM documents d JOIN versions v ON v.document_id = d.id "
            "AND v.number = d.latest_version WHERE d.kind = 'attachment'")}


@OFFICE
def test_text_of_at_least_97_percent_of_each_format_is_extracted(crawled, manifest):
    got = archived_files(crawled["db"])
    forbidden = {d["url"] for d in manifest["documents"] if d["robots_disallowed"]}
    done, total = Counter(), Counter()
    with Archive(crawled["db"]) as a:
        canon = a.sites.canonical_url
        for g in manifest["attachments"]:
            if g["variant"] or not g["epochs"].get("2") or set(g["parents"]) <= forbidden:
                continue
            total[g["format"]] += 1
            row = got.get(canon(g["url"]))
            done[g["format"]] += bool(row) and similar(g["epochs"]["2"], row["text"] or "") >= 0.97
    assert set(total) == set(site.ATTACHMENT_FORMATS) and min(total.values()) >= 15
    for fmt in total:
        assert done[fmt] / total[fmt] >= 0.97, (fmt, done[fmt], total[fmt])


def test_scan_encrypted_and_broken_files_end_as_flag_and_errors(crawled, manifest):
    special = {g["variant"]: g["url"] for g in manifest["attachments"] if g["variant"]}
    with Archive(crawled["db"]) as a:
        assert a.version(special["scan"])["flags"]["needs_ocr"]
        for variant, words in (("encrypted", "encrypted PDF"), ("broken", "broken DOCX file")):
            errors = [e for (e,) in a.conn.execute("SELECT error FROM fetch_log WHERE url = ?",
                                                   (a.sites.canonical_url(special[variant]),))]
            assert len(errors) == 3 and all(words in e for e in errors), errors      # one per crawl


def test_a_file_changed_at_epoch_2_gets_a_version_and_a_diff(crawled, manifest):
    changed = [g for g in manifest["attachments"] if g["change_in_epoch_2"]]
    assert {g["format"] for g in changed} == {"pdf", "xlsx"}
    for g in changed:
        out = subprocess.run([sys.executable, "-m", "archive.cli", "diff", "--db", str(crawled["db"]), g["url"]],
                             cwd=ROOT, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert "补充项目" in out.stdout and "经复核新增" in out.stdout
        with Archive(crawled["db"]) as a:
            assert [v["number"] for v in a.versions(g["url"])] == [1, 2]
    unchanged = [g["url"] for g in manifest["attachments"] if not g["change_in_epoch_2"] and not g["variant"]]
    with Archive(crawled["db"]) as a:
        assert all(len(a.versions(u)) == 1 for u in unchanged if a.conn.execute(
            "SELECT 1 FROM documents WHERE url = ?", (a.sites.canonical_url(u),)).fetchone())


def test_unchanged_files_are_checked_conditionally(crawled):
    files_asked = [e for e in crawled["log_again"] if e.get("conditional") and re.search(
        r"\.(pdf|docx?|wps|xlsx?|ofd)$|download\.jsp|downfile\.jsp", e["path"])]
    assert len(files_asked) > 100 and all(e["status"] == 304 for e in files_asked)


def test_search_finds_a_phrase_only_in_an_attachment(crawled, manifest):
    g = next(g for g in manifest["attachments"] if g["format"] == "ofd" and not g["variant"])
    phrase = next(line for line in g["epochs"]["1"].split("\n") if line.startswith("附件编号"))
    with Archive(crawled["db"]) as a:
        hits = search(a, phrase.split("：")[1])
        assert [h["url"] for h in hits] == [a.sites.canonical_url(g["url"])]
    out = subprocess.run([sys.executable, "-m", "archive.cli", "search", "--db", str(crawled["db"]), "经复核新增",
                          "--json"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and {h["kind"] for h in json.loads(out.stdout)} == {"attachment"}


def test_show_and_export_list_a_pages_files_and_a_files_pages(crawled, manifest, tmp_path):
    page = next(d for d in manifest["documents"] if d["epochs"]["1"] and d["epochs"]["1"].get("attachments")
                and d["portal"] == "chongqing_kjj" and not d["change_in_epoch_2"] and not d["robots_disallowed"])
    file_url = page["epochs"]["1"]["attachments"][0]["url"]
    show = lambda url: json.loads(subprocess.run([sys.executable, "-m", "archive.cli", "show", "--db",
                                                  str(crawled["db"]), url], cwd=ROOT, capture_output=True,
                                                 text=True).stdout)
    listed = show(page["url"])["attachments"]
    assert listed[0]["url"] == file_url and listed[0]["versions"][0]["version"] == 1
    assert [p["url"] for p in show(file_url)["parents"]] == [page["url"]]
    out = tmp_path / "e.jsonl"
    subprocess.run([sys.executable, "-m", "archive.cli", "export", "--db", str(crawled["db"]), "--format", "jsonl",
                    "--out", str(out), "--site", "chongqing_kjj"], cwd=ROOT, check=True, capture_output=True)
    recs = {r["url"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert recs[page["url"]]["attachments"][0]["versions"][0]["status"] == "active"
    assert recs[file_url]["kind"] == "attachment" and recs[file_url]["text"]


def test_files_are_not_revisited_as_pages_and_never_go_to_a_dictionary(crawled):
    with Archive(crawled["db"]) as a:
        assert not a.conn.execute("SELECT count(*) FROM fetch_log f JOIN documents d ON d.url = f.url "
                                  "WHERE d.kind = 'attachment' AND f.outcome = 'gone'").fetchone()[0]
        codecs = {c for (c,) in a.conn.execute(
            "SELECT DISTINCT b.codec FROM blobs b JOIN versions v ON v.blob_sha256 = b.sha256 JOIN documents d "
            "ON d.id = v.document_id WHERE d.kind = 'attachment'")}
        assert not any(c.startswith("zstd:") for c in codecs), codecs


def test_attachments_can_be_switched_off_and_have_a_size_limit(replica, tmp_path):
    crawl("chongqing_kjj", replica, tmp_path / "a.db", "-s", "ATTACHMENTS_ENABLED=False")
    with Archive(tmp_path / "a.db") as a:
        assert a.conn.execute("SELECT count(*) FROM documents WHERE kind = 'attachment'").fetchone()[0] == 0
        pages = a.stats()["documents"]
    crawl("chongqing_kjj", replica, tmp_path / "b.db", "-s", "ATTACHMENT_MAXSIZE=3000")
    with Archive(tmp_path / "b.db") as a:
        sizes = {url: n for url, n in a.conn.execute(
            "SELECT d.url, f.bytes FROM fetches f JOIN documents d ON d.id = f.document_id WHERE d.kind = 'attachment'")}
        over = [e for (e,) in a.conn.execute("SELECT error FROM fetches WHERE url LIKE '%/P0%' AND outcome = 'error'")]
        assert a.stats()["documents"] == pages + len(sizes)
    assert sizes and all(n <= 3000 for n in sizes.values())        # the small files (OFD, some PDFs) only
    assert over and all("max size (3000)" in e or "DOWNLOAD_MAXSIZE (3000 B)" in e for e in over), over[:3]


def test_a_resumed_job_fetches_the_files_its_first_run_did_not_get(replica, tmp_path):
    """The pages are done, their files are not (a kill lost their requests, or they failed): the
    resumed job skips the pages and still fetches the files."""
    job, db = tmp_path / "job", tmp_path / "a.db"
    control(replica, "state", {"faults": [{"fault": "503", "match": r"kjj\.cq\.gov\.cn/.*/P0\d+\.\w+$"}]})
    try:
        first = crawl("chongqing_kjj", replica, db, "-s", f"JOBDIR={job}")
    finally:
        control(replica, "state", {"faults": []})
    with Archive(db) as a:
        assert a.conn.execute("SELECT count(*) FROM documents WHERE kind = 'attachment'").fetchone()[0] == 0
    assert first.stat("govarchive/attachments_requested") >= 15
    control(replica, "log", {})
    again = crawl("chongqing_kjj", replica, db, "-s", f"JOBDIR={job}")
    asked = [e["path"] for e in control(replica, "log")[1]]
    assert again.stat("govarchive/skipped_done_in_job") >= 60 and not [p for p in asked if p.endswith(".html")
                                                                       and "/t20" in p]     # no page again
    with Archive(db) as a:
        files = a.conn.execute("SELECT count(*) FROM documents WHERE kind = 'attachment'").fetchone()[0]
    assert files == first.stat("govarchive/attachments_requested") == again.stat("govarchive/attachments_requested")
