"""Attachment benchmark: text extraction throughput per format, and what attachments add to an archive.

    python -m bench.attachments        (make bench-attachments)

Files are written by the replica's generators (seeds/replica/files.py) at realistic sizes: a
three-page letter or policy for the text formats, a 300-row table for the spreadsheets. Each
format is read by govarchive's extractor (the same call the crawl's workers make) in rounds; the
best round counts. The archive figure crawls every replica portal twice into fresh archives
(bench/crawl_all.py), once with ATTACHMENTS_ENABLED=False, and compares the two files after
VACUUM. Writes the section between the "attachments" markers of bench/README.md and the
"attachments" key of results.json.
"""
from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bench.report import publish, scratch
from crawler.extract import extract_or_error
from seeds.replica import content as C
from seeds.replica import files, site

ROOT = Path(__file__).resolve().parent.parent
FILES_PER_FORMAT = 20
ROUNDS = 3


def corpus(fmt: str, rng: random.Random) -> list[tuple[bytes, str]]:
    """(file, its text) of realistic size for ``fmt``."""
    docs = [d for d in site.documents() if not d.mirror_of and not d.seed]
    out = []
    for k in range(FILES_PER_FORMAT):
        if fmt in ("xls", "xlsx"):
            lines = ["序号\t项目名称\t承担单位\t负责人\t经费（万元）\t起止年限"] + [
                f"{i + 1}\t{rng.choice(site.PROJECTS)}\t{rng.choice(docs).title[:12]}\t{C.name(rng)}\t"
                f"{rng.randint(20, 900)}\t2025-2027" for i in range(300)]
        else:
            d = docs[(k * 7) % len(docs)]
            lines = [d.title] + d.paragraphs * 3
        out.append((files.make(fmt, f"附件{k}", lines), "".join(lines)))
    return out


def bench_formats() -> dict:
    rng = random.Random("bench-attachments")
    res = {}
    formats = [f for f in site.ATTACHMENT_FORMATS if files.office() or f not in ("doc", "wps")]
    for fmt in formats:
        made = corpus(fmt, rng)
        size = sum(len(b) for b, _ in made)
        best = None
        for _ in range(ROUNDS):
            t = time.perf_counter()
            for body, _ in made:
                d, err = extract_or_error(body, f"http://www.example.gov.cn/f.{fmt}")
                assert err is None, err
            best = min(best or 1e9, time.perf_counter() - t)
        res[fmt] = {"files": len(made), "mean_kb": size / len(made) / 1024, "files_per_s": len(made) / best,
                    "mb_per_s": size / best / 1e6}
        print(f"  {fmt}: {res[fmt]['files_per_s']:.1f} files/s, {res[fmt]['mb_per_s']:.2f} MB/s", file=sys.stderr)
    if shutil.which("tesseract") and files.cjk_font():
        d = [d for d in site.documents() if not d.mirror_of and not d.seed][0]
        scan = files.make("pdf", "扫描件", [d.title] + d.paragraphs[:12], "scan")
        t = time.perf_counter()
        doc, err = extract_or_error(scan, "http://www.example.gov.cn/s.pdf", ocr=True)
        res["ocr"] = {"seconds_per_page": time.perf_counter() - t, "chars": len(doc.text) if doc else 0}
    return res


def bench_archive(work: Path) -> dict:
    from seeds.replica.server import ReplicaServer
    srv = ReplicaServer(port=0).start()
    out = {}
    try:
        for on in (False, True):
            db = work / f"{'with' if on else 'without'}.db"
            t = time.perf_counter()     # every portal, in one Scrapy process
            subprocess.run([sys.executable, "-m", "bench.crawl_all", srv.url, str(db), f"ATTACHMENTS_ENABLED={on}"],
                           cwd=ROOT, check=True, capture_output=True)
            seconds = time.perf_counter() - t
            c = sqlite3.connect(db)
            files_n, raw, stored = c.execute(
                "SELECT count(DISTINCT d.id), coalesce(sum(b.size), 0), coalesce(sum(length(b.data)), 0) FROM documents d "
                "JOIN versions v ON v.document_id = d.id JOIN blobs b ON b.sha256 = v.blob_sha256 "
                "WHERE d.kind = 'attachment'").fetchone()
            c.execute("VACUUM")
            c.close()
            out["with" if on else "without"] = {"bytes": db.stat().st_size, "seconds": seconds, "files": files_n,
                                                "file_bytes": raw, "stored_file_bytes": stored}
    finally:
        srv.stop()
    return out


def render(res: dict) -> str:
    lines = [f"## Attachments: `make bench-attachments` ({res['date']}, this machine)", "",
             "Text extraction per format, through the same call the crawl's extraction workers make "
             f"({FILES_PER_FORMAT} files each, best of {ROUNDS} rounds; letters and policies of about three pages, "
             "tables of 300 rows):", "",
             "| format | reader | mean file | files/s | MB/s |", "|---|---|---|---|---|"]
    readers = {"pdf": "pypdf", "docx": "python-docx", "doc": "olefile + [MS-DOC] piece table",
               "wps": "olefile + [MS-DOC] piece table", "xls": "xlrd", "xlsx": "openpyxl (read-only)",
               "ofd": "zip + lxml, per GB/T 33190"}
    for fmt, r in res["formats"].items():
        if fmt == "ocr":
            continue
        lines.append(f"| {fmt} | {readers[fmt]} | {r['mean_kb']:.0f} kB | {r['files_per_s']:.1f} | {r['mb_per_s']:.2f} |")
    if "ocr" in res["formats"]:
        lines += ["", f"OCR (ATTACHMENT_OCR, Tesseract chi_sim+eng) of a scanned A4 page: "
                      f"{res['formats']['ocr']['seconds_per_page']:.1f} s per page."]
    w, wo = res["archive"]["with"], res["archive"]["without"]
    lines += ["", f"What attachments add to an archive: every replica portal crawled into a fresh archive with and "
                  f"without them (after VACUUM): {wo['bytes'] / 1e6:.1f} MB without, {w['bytes'] / 1e6:.1f} MB with "
                  f"{w['files']} files ({w['file_bytes'] / 1e6:.1f} MB of files, stored as "
                  f"{w['stored_file_bytes'] / 1e6:.1f} MB: zstd without a dictionary, as PDF and Office files are "
                  f"compressed already), so {(w['bytes'] - wo['bytes']) / 1e3 / max(w['files'], 1):.0f} kB per file "
                  f"with its text and search index. The crawl took {w['seconds']:.0f} s with and {wo['seconds']:.0f} s "
                  "without (DOC/WPS files written by LibreOffice on the replica's first request)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    with scratch("govarchive-bench-att-") as work:
        res = {"date": time.strftime("%Y-%m-%d"), "formats": bench_formats(), "archive": bench_archive(work)}
    publish("attachments", res, render(res))


if __name__ == "__main__":
    main()
