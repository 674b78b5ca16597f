"""Faults a crawl meets that must not turn into false versions, lost items, hangs or orphans:
redirects to internal addresses, bodies cut short, dead or stuck extraction workers, a full disk."""
from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from archive.integrity import verify
from tests.helpers import Archive, control, page_urls
from tests.crawl import ENV, ROOT, command, crawl, start


def linyi_docs(manifest):
    return sorted(d["url"] for d in manifest["documents"] if d["portal"] == "linyi_kjj" and d["epochs"]["1"]
                  and not d["robots_disallowed"])


def rule(url: str, fault: str, **kw) -> dict:
    return {"match": re.escape(url.split("//", 1)[1]) + "$", "fault": fault, **kw}


def hosts_served(replica) -> set:
    return {e["host"] for e in control(replica, "log")[1]}


# --------------------------------------------------------------------------------------------
# SSRF

def test_a_redirect_to_an_internal_address_is_recorded_not_followed(replica, tmp_path, manifest):
    docs = linyi_docs(manifest)
    control(replica, "state", {"faults": [rule(docs[0], "redirect", location="http://127.0.0.1:19002/admin"),
                                          rule(docs[1], "redirect", location="http://other.example.org/x.htm")]})
    control(replica, "log", {})
    db = tmp_path / "a.db"
    crawl("urls", replica, db, "-a", f"url={docs[0]}")
    crawl("urls", replica, db, "-a", f"url={docs[1]}")
    assert hosts_served(replica) == {"kjj.linyi.gov.cn"}
    with Archive(db) as a:
        assert a.stats()["versions"] == 0
        errors = [r[0] for r in a.conn.execute("SELECT error FROM fetches")]
    assert len(errors) == 2 and all("not followed" in e for e in errors), errors
    assert any("127.0.0.1:19002" in e for e in errors) and any("other.example.org" in e for e in errors)


def test_internal_addresses_are_never_requested(replica, tmp_path):
    control(replica, "log", {})
    urls = tmp_path / "urls.txt"
    urls.write_text("http://10.0.0.1/admin\nhttp://169.254.169.254/latest/meta-data/\nhttp://[::1]/x\n"
                    "http://localhost/x\nhttp://192.168.1.1/\n")
    run = crawl("urls", replica, tmp_path / "a.db", "-a", f"urls={urls}")
    assert control(replica, "log")[1] == []          # not even robots.txt
    assert run.stat("govarchive/refused_address") == 5
    with Archive(tmp_path / "a.db") as a:
        assert [r[0] for r in a.conn.execute("SELECT count(*) FROM fetches WHERE error LIKE 'IgnoreRequest: refused%'")] == [5]


def test_outside_replica_mode_names_are_checked_after_resolution(replica, tmp_path):
    """No REPLICA: real connections. A portal-looking name that resolves to 127.0.0.1 (tests/dns.py)
    would reach the replica's port if the address were not checked after resolution."""
    control(replica, "log", {})
    db = tmp_path / "a.db"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "urls", "-a", f"url=http://www.portal.test:{replica.port}/x.htm",
           "-s", f"ARCHIVE_DB={db}", "-s", "LOG_LEVEL=INFO", "-s", "DNS_RESOLVER=tests.dns.LoopbackResolver"]
    proc = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert control(replica, "log")[1] == []
    assert "refused to connect to www.portal.test: 127.0.0.1 is a loopback address" in proc.stderr


# --------------------------------------------------------------------------------------------
# truncated bodies

@pytest.mark.parametrize("fault", ["gzip_truncate", "close_early"])
def test_a_body_cut_short_is_an_error_never_a_version(replica, tmp_path, manifest, fault):
    url = linyi_docs(manifest)[2]
    db = tmp_path / "a.db"
    control(replica, "state", {"faults": [rule(url, fault)]})
    crawl("urls", replica, db, "-a", f"url={url}")            # first fetch: no mojibake version either
    with Archive(db) as a:
        row = a.conn.execute("SELECT outcome, error FROM fetches").fetchone()
        assert row[0] == "error" and "truncated" in row[1], row
        assert a.stats()["versions"] == 0
    control(replica, "state", {"faults": []})
    crawl("urls", replica, db, "-a", f"url={url}")
    control(replica, "state", {"faults": [rule(url, fault)]})
    crawl("urls", replica, db, "-a", f"url={url}")            # later fetch: the good version stays latest
    with Archive(db) as a:
        assert [h["outcome"] for h in a.history(url)] == ["error", "new_version", "error"]
        assert len(a.versions(url)) == 1


# --------------------------------------------------------------------------------------------
# extraction workers

def children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                continue
    return out


def workers_of(pid: int) -> list[int]:
    out = []
    for c in children(pid):
        try:
            with open(f"/proc/{c}/cmdline", "rb") as f:
                if b"spawn_main" in f.read():
                    out.append(c)
        except OSError:
            continue
    return out


def wait_until(cond, timeout: float) -> bool:
    """Poll a condition the test cannot be told about (another process's exit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


SLOW_DETAILS = [{"match": r"kjj\.linyi\.gov\.cn/info/.*\.htm$", "fault": "slow", "delay": 0.05}]


def test_a_dead_extraction_worker_loses_no_item(replica, tmp_path, manifest):
    db = tmp_path / "a.db"
    control(replica, "state", {"faults": SLOW_DETAILS})
    served = replica.state.log.count
    proc = start("linyi_kjj", replica, db, "-s", "EXTRACTION_WORKERS=1")
    assert replica.state.log.wait_for(served + 15, timeout=120, give_up=lambda: proc.poll() is not None)
    assert wait_until(lambda: workers_of(proc.pid), 60)
    workers = workers_of(proc.pid)
    for w in workers:
        os.kill(w, signal.SIGKILL)             # as the OOM killer would
    _, err = proc.communicate(timeout=300)
    control(replica, "state", {"faults": []})
    assert proc.returncode == 0 and "Traceback" not in err, err[-3000:]
    assert re.search(r"'govarchive/extraction_worker_deaths': [1-9]", err)
    with Archive(db) as a:
        docs = page_urls(a)
        assert a.conn.execute("SELECT count(*) FROM fetches WHERE outcome = 'error'").fetchone()[0] == 0
        assert verify(a) == []
    want = {u for u in linyi_docs(manifest)}
    assert docs == want


def test_workers_die_with_a_killed_crawl(replica, tmp_path):
    control(replica, "state", {"faults": SLOW_DETAILS})
    served = replica.state.log.count
    proc = start("linyi_kjj", replica, tmp_path / "a.db", "-s", "EXTRACTION_WORKERS=1")
    try:
        assert replica.state.log.wait_for(served + 10, timeout=120, give_up=lambda: proc.poll() is not None)
        family = children(proc.pid)
        assert family
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert wait_until(lambda: not any(os.path.exists(f"/proc/{c}") and _alive(c) for c in family), 20), \
            [open(f"/proc/{c}/cmdline").read() for c in family if os.path.exists(f"/proc/{c}")]
    finally:
        proc.stderr.close()
        control(replica, "state", {"faults": []})


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.timeout(60)
def test_brace_less_style_text_extracts_in_linear_time():
    from crawler.extract import extract
    page = ("<html><head><style>" + "a" * 1_000_000 + "</style></head><body><div id='zoom'><p>"
            + "科技创新工作正文。" * 20 + "</p></div></body></html>")
    assert "科技创新" in extract(page.encode(), "http://x.gov.cn/a.html").text


def test_a_page_over_the_extraction_time_limit_is_an_error_and_the_crawl_goes_on(replica, tmp_path, manifest):
    slow = linyi_docs(manifest)[3]
    db = tmp_path / "a.db"
    control(replica, "state", {"faults": [rule(slow, "huge", size_mb=8, blocks=True)]})     # seconds to extract
    crawl("linyi_kjj", replica, db, "-s", "EXTRACTION_TIMEOUT=0.5", "-s", "DOWNLOAD_MAXSIZE=0",
          "-s", "DOWNLOAD_WARNSIZE=0")
    control(replica, "state", {"faults": []})
    with Archive(db) as a:
        errors = dict(a.conn.execute("SELECT coalesce(f.url, d.url), f.error FROM fetches f LEFT JOIN documents d "
                                     "ON d.id = f.document_id WHERE f.outcome = 'error'"))
        docs = page_urls(a)
    assert list(errors) == [slow] and "EXTRACTION_TIMEOUT" in errors[slow]
    assert docs == set(linyi_docs(manifest)) - {slow}


def test_a_crawl_waiting_on_the_network_commits_its_batch(replica, tmp_path, manifest):
    """The batch is committed on a timer: while the crawl waits on a slow list page, another writer
    gets the lock and the fetched pages are already readable."""
    db = tmp_path / "a.db"
    Archive(db).close()
    control(replica, "state", {"faults": [{"match": r"kjj\.linyi\.gov\.cn/jyta/rdjy/\d+\.htm$", "fault": "slow",
                                           "delay": 20}]})
    proc = start("linyi_kjj", replica, db, "-s", "ARCHIVE_BATCH_SIZE=100000", "-s", "ARCHIVE_BATCH_SECONDS=1")
    try:
        def committed():
            c = sqlite3.connect(db, timeout=0.5)
            try:
                return c.execute("SELECT count(*) FROM fetches").fetchone()[0] > 0
            finally:
                c.close()
        assert wait_until(committed, 15)
        c = sqlite3.connect(db, timeout=5, isolation_level=None)
        c.execute("BEGIN IMMEDIATE")          # another writer is not locked out
        c.execute("ROLLBACK")
        c.close()
    finally:
        proc.kill()
        proc.wait(timeout=30)
        proc.stderr.close()
        control(replica, "state", {"faults": []})


# --------------------------------------------------------------------------------------------
# a full disk

def test_a_full_disk_stops_the_crawl_loudly_and_jobdir_redoes_what_was_lost(replica, tmp_path, manifest):
    if os.geteuid() != 0:
        pytest.fail("this test mounts a small tmpfs: run it as root (CI does)")
    small, job = tmp_path / "small", tmp_path / "job"
    small.mkdir()
    db = small / "a.db"
    argv = command("linyi_kjj", replica, db, "-s", f"JOBDIR={job}", "-s", "ARCHIVE_BATCH_SIZE=10")
    out = tmp_path / "out"
    script = f"mount -t tmpfs -o size=1200k tmpfs {small} && \"$@\"; rc=$?; cp -a {small} {out}; exit $rc"
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", *argv], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "disk is full" in proc.stderr and "archive_write_failed" in proc.stderr
    assert "'finish_reason': 'finished'" not in proc.stderr
    db = out / "a.db"           # the archive as the full disk left it
    with Archive(db) as a:
        assert verify(a) == []
        before = len(page_urls(a))
    assert 0 < before < len(linyi_docs(manifest))
    crawl("linyi_kjj", replica, db, "-s", f"JOBDIR={job}")
    with Archive(db) as a:
        assert page_urls(a) == set(linyi_docs(manifest))
        assert verify(a) == []


# --------------------------------------------------------------------------------------------
# robots.txt when many requests start at once (a resumed job, a list of URLs)

def test_requests_waiting_together_for_robots_txt_all_obey_it(replica, tmp_path, manifest):
    forbidden = next(d["url"] for d in manifest["documents"] if d["robots_disallowed"] and d["portal"] == "linyi_kjj")
    others = linyi_docs(manifest)[:6]
    urls = tmp_path / "urls.txt"
    urls.write_text("\n".join(others[:3] + [forbidden] + others[3:]) + "\n")
    control(replica, "log", {})
    run = crawl("urls", replica, tmp_path / "a.db", "-a", f"urls={urls}")
    paths = [e["path"] for e in control(replica, "log")[1]]
    assert forbidden.split("/", 3)[3] not in "\n".join(paths) and run.stat("robotstxt/forbidden") == 1
    assert len([p for p in paths if "/_content/download.jsp" not in p]) == 1 + len(others)      # and their files
