"""Bad input and hostile content at the CLI: a clear line and a non-zero exit, nothing archived lost,
no foreign file touched, no archive created by a typo, no control character reaching a terminal."""
from __future__ import annotations

import gzip
import io
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.export import export
from archive.store import ArchiveError
from tests.helpers import Archive
from crawler.extract import extract
from tests.reliability.test_hostile import doc

URL = "http://x.gov.cn/1.html"


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_error(r, pattern: str):
    assert r.exit_code != 0, r.output
    assert "Traceback" not in r.output and pattern in r.output, r.output
    assert len(r.output.strip().splitlines()) <= 3, r.output       # a message, perhaps a usage hint


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "a.db"
    with Archive(path) as a:
        a.ingest(URL, status=200, body=b"<p>1</p>", headers={}, document=doc(URL, "标题"))
    return path


def unchanged(path) -> bool:
    with Archive(path, readonly=True) as a:
        return a.stats()["versions"] == 1 and a.version(URL)["title"] == "标题"


def test_a_mistyped_db_never_creates_an_archive(db, tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<html><body><h1>关于科技创新工作的通知</h1><p>正文内容。</p></body></html>", encoding="utf-8")
    typo = tmp_path / "typo" / "a.db"
    for args in (["reextract", "--db", typo], ["import-html", "--db", typo, page, "--url", URL],
                 ["--db", typo, "import-warc", page]):
        r = cli(*args)
        one_line_error(r, "no archive at")
        assert not typo.exists() and not typo.parent.exists()
    r = cli("import-html", "--db", typo, "--create", page, "--url", URL)
    assert r.exit_code == 0 and typo.exists()


def test_a_foreign_sqlite_file_is_refused_and_left_as_it_was(tmp_path):
    own_meta = tmp_path / "own_meta.db"
    c = sqlite3.connect(own_meta)
    c.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    c.execute("INSERT INTO meta VALUES ('app', 'someone else')")
    c.commit()
    c.close()
    other = tmp_path / "other.db"
    c = sqlite3.connect(other)
    c.execute("CREATE TABLE notes (x)")
    c.commit()
    c.close()
    for f in (own_meta, other):
        before = f.read_bytes()
        for args in (["stats", "--db", f], ["import-warc", "--db", f, f], ["reextract", "--db", f]):
            one_line_error(cli(*args), "not a govarchive archive")
        assert f.read_bytes() == before       # still in rollback-journal mode, no tables added
        assert not os.path.exists(f"{f}-wal")


def test_reads_leave_no_wal_files_behind(db):
    Archive(db).close()
    for args in (["stats"], ["list"], ["search", "标题"], ["verify"]):
        assert cli(*args, "--db", db).exit_code == 0
        assert not os.path.exists(f"{db}-wal") and not os.path.exists(f"{db}-shm"), args


def _readonly_run(folder, argv):
    """argv run with ``folder`` mounted read-only (a private mount namespace), or, for a user
    that is not root, with the folder's write permission taken away."""
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    if os.geteuid() == 0:
        script = f"mount --bind -o ro {folder} {folder} && exec \"$@\""
        return subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", *argv], capture_output=True, text=True,
                              env=env)
    os.chmod(folder, 0o555)
    try:
        return subprocess.run(argv, capture_output=True, text=True, env=env)
    finally:
        os.chmod(folder, 0o755)


def test_reads_work_on_read_only_media(db, tmp_path):
    if os.geteuid() == 0 and not shutil.which("unshare"):
        pytest.fail("unshare (util-linux) is needed to mount a folder read-only")
    gov = [sys.executable, "-m", "archive.cli"]
    for args, want in ((["stats", "--json"], '"documents": 1'), (["list", "--tsv"], URL), (["search", "标题"], URL),
                       (["show", URL], '"title": "标题"'), (["verify"], "")):
        r = _readonly_run(tmp_path, gov + [*args, "--db", str(db)])
        assert r.returncode == 0 and want in r.stdout, (args, r.stderr[-500:])
        assert "schema version" not in r.stderr


def test_terminal_escapes_never_reach_the_terminal(tmp_path):
    page = ("<html><head><title>x</title></head><body><h1>&#27;[2J&#27;]0;PWNED&#7;&#8238;关于科技创新工作的通知"
            "</h1><div id='zoom'><p>&#27;[31m正文内容：科技创新工作要求各单位认真落实。</p></div></body></html>")
    d = extract(page.encode(), URL)
    for s in (d.title, d.text):
        assert not any(c in s for c in "\x1b\x07\u202e")
    db = tmp_path / "a.db"
    with Archive(db) as a:     # an archive written by an older release, controls stored as they came
        a.ingest(URL, status=200, body=b"<p>1</p>", headers={},
                 document=doc(URL, "\x1b[2J\x1b]0;PWNED\x07\u202e标题", "科技\x1b[31m创新正文"))
    for args in (["list"], ["list", "--json"], ["list", "--csv"], ["list", "--table"], ["search", "科技"],
                 ["changes", "--since", "2000-01-01"], ["show", URL], ["history", URL]):
        out = cli(*args, "--db", db).output
        assert not any(c in out for c in "\x1b\x07\u202e"), args
    assert "\\x1b" in cli("list", "--db", db).output


def test_bad_warc_files_give_one_line_and_a_non_zero_exit(db, tmp_path):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter
    nourl = tmp_path / "nourl.warc"        # written by hand: warcio refuses to write such a record
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body>x</body></html>"
    nourl.write_bytes(b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-0000000"
                      b"00001>\r\nWARC-Date: 2024-01-01T00:00:00Z\r\nContent-Type: application/http; msgtype=response"
                      b"\r\nContent-Length: " + str(len(http)).encode() + b"\r\n\r\n" + http + b"\r\n\r\n")
    one_line_error(cli("import-warc", "--db", db, nourl), "no WARC-Target-URI")
    for gz in (True, False):
        full = tmp_path / f"full.warc{'.gz' if gz else ''}"
        with open(full, "wb") as fh:
            w = WARCWriter(fh, gzip=gz)
            for i in range(4):
                body = ("<html><body><h1>关于科技工作的通知</h1><p>" + "科技创新" * 500 + f"{i}</p></body></html>").encode()
                w.write_record(w.create_warc_record(f"http://x.gov.cn/{i}.html", "response", payload=io.BytesIO(body),
                                                    http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                                                                  protocol="HTTP/1.1")))
        half = tmp_path / f"half{full.name}"
        half.write_bytes(full.read_bytes()[: full.stat().st_size // 2 + 101])     # inside a record
        one_line_error(cli("import-warc", "--db", db, half), "cut short")
    for bad, why in ((b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "PNG"), (b"%PDF-1.4\n%%EOF", "PDF"), (b"", "empty")):
        f = tmp_path / "bad.html"
        f.write_bytes(bad)
        one_line_error(cli("import-html", "--db", db, f, "--url", "http://x.gov.cn/2.html"), why)
    with Archive(db, readonly=True) as a:
        assert a.conn.execute("SELECT count(*) FROM fetches WHERE url = 'http://x.gov.cn/2.html'").fetchone()[0] == 0


def test_extract_refuses_binary_data(tmp_path):
    for name, data in (("png", b"\x89PNG\r\n\x1a\n" + os.urandom(3000)), ("random", os.urandom(5000)),
                       ("gzip", gzip.compress(b"<html>" + os.urandom(2000)))):
        f = tmp_path / name
        f.write_bytes(data)
        one_line_error(cli("extract", f, "--url", URL), "not HTML")


def test_search_with_a_thousand_words_is_a_clear_error(db):
    one_line_error(cli("search", "--db", db, " ".join("科" * 1200)), "too long")
    one_line_error(cli("search", "--db", db, "标 " * 1200), "too long")


def test_a_full_disk_during_import_is_one_line(db, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("this test mounts a small tmpfs: run it as root (CI does)")
    from tests.reliability.test_history import warc
    from seeds.replica import site
    records = []
    for i, (key, p) in enumerate(sorted(site.build(1).items())[:400]):
        if p.status == 200 and b"<html" in p.body[:2000].lower():
            records.append((f"http://x.gov.cn/{i}.html", "2024-01-01T00:00:00Z", 200, p.body))
    warc(tmp_path / "big.warc.gz", records)
    small = tmp_path / "small"
    small.mkdir()
    shutil.copy(db, small / "a.db")
    script = (f"mount -t tmpfs -o size=600k tmpfs {small} && cp {db} {small}/a.db && "
              f"exec {sys.executable} -m archive.cli import-warc --db {small}/a.db {tmp_path}/big.warc.gz")
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert r.returncode == 1 and "disk is full" in r.stderr and "Traceback" not in r.stderr, r.stderr[-800:]


def test_exports_replace_their_target_only_when_complete(db, tmp_path, monkeypatch):
    out = tmp_path / "out.jsonl"
    with Archive(db, readonly=True) as a:
        export(a, "jsonl", out)
        good = out.read_bytes()

        def broken(*args, **kw):
            raise OSError(28, "No space left on device")
            yield
        import archive.export as E
        monkeypatch.setattr(E, "rows", broken)
        with pytest.raises(ArchiveError, match="No space left"):
            export(a, "jsonl", out)
    assert out.read_bytes() == good and [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_export_errors_are_one_line(db, tmp_path):
    one_line_error(cli("export", "--db", db, "--format", "jsonl", "--out", tmp_path), "is a folder")
    one_line_error(cli("export", "--db", db, "--format", "csv", "--out", "/proc/x/y.csv"), "cannot write")


def test_txt_all_versions_writes_a_file_per_version(tmp_path):
    with Archive(tmp_path / "a.db") as a:
        for text in ("第一稿正文。", "第二稿正文。", "第三稿正文。"):
            a.ingest(URL, status=200, body=text.encode(), headers={}, document=doc(URL, "同一标题", text))
        assert export(a, "txt", tmp_path / "t", all_versions=True) == 3
    files = sorted((tmp_path / "t").rglob("*.txt"))
    assert len(files) == 3
    assert [f.read_text(encoding="utf-8").split("\n\n", 1)[1].strip() for f in files] == \
        ["第一稿正文。", "第二稿正文。", "第三稿正文。"]


def test_serve_works_on_read_only_media(db, tmp_path):
    """`govarchive serve` of an archive on a read-only mount answers searches and document pages."""
    import socket
    import time
    import urllib.request
    from urllib.parse import quote
    if os.geteuid() != 0:
        pytest.fail("this test mounts a folder read-only: run it as root (CI does)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = f"mount --bind -o ro {tmp_path} {tmp_path} && exec \"$@\""
    proc = subprocess.Popen(["unshare", "-m", "sh", "-c", script, "sh", sys.executable, "-m", "archive.cli", "serve",
                             "--db", str(db), "--port", str(port)], env=dict(os.environ, PYTHONPATH=os.getcwd()),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        page, deadline = None, time.monotonic() + 60
        while page is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/-/search?q={quote('标题')}", timeout=2).read()
            except OSError:
                time.sleep(0.2)
        assert page is not None, proc.stderr.read().decode()[-2000:] if proc.poll() is not None else "no answer"
        assert URL in page.decode()
        doc = urllib.request.urlopen(f"http://127.0.0.1:{port}/-/document?url={quote(URL, safe='')}", timeout=10).read()
        assert "标题" in doc.decode()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stderr.close()
