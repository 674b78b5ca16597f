"""Faulty servers: the crawl completes, each bad URL gets an error fetch row with a clear message,
no exception escapes, and no garbage becomes a version."""
from __future__ import annotations

import re

import pytest

from archive.integrity import verify
from tests.helpers import Archive, control
from tests.crawl import crawl

FAST = ("-s", "RETRY_BACKOFF_BASE=0.01", "-s", "DOWNLOAD_TIMEOUT=2", "-s", "RETRY_TIMES=2")


@pytest.fixture(scope="module")
def faulty(tmp_path_factory, manifest):
    """linyi_kjj crawled clean, then again with a different fault on each of twelve documents."""
    from seeds.replica.server import ReplicaServer
    db = tmp_path_factory.mktemp("faults") / "a.db"
    docs = sorted(d["url"] for d in manifest["documents"] if d["portal"] == "linyi_kjj" and d["epochs"]["1"]
                  and d["epochs"]["2"] and d["epochs"]["2"]["status"] == 200 and not d["robots_disallowed"]
                  and not d["change_in_epoch_2"])
    names = ["503", "500_burst", "timeout", "reset", "truncate", "empty", "huge", "gzip_bomb", "redirect_loop", "pdf",
             "wrong_charset", "no_charset"]
    target = dict(zip(names, docs))
    rules = []
    for name, url in target.items():
        path = re.escape(url.split("//", 1)[1])
        if name == "500_burst":
            rules.append({"match": path + "$", "fault": "500", "times": 2})
        elif name == "timeout":
            rules.append({"match": path + "$", "fault": "timeout", "delay": 6})
        else:
            rules.append({"match": path + r"(\?loop)?$", "fault": name})
    rules.append({"match": r"kjj\.linyi\.gov\.cn/jyta/rdjy/2\.htm$", "fault": "503"})     # a list page too
    with ReplicaServer(port=0) as srv:
        crawl("linyi_kjj", srv, db, *FAST)
        with Archive(db) as a:
            before = {u: len(a.versions(u)) for u in target.values()}
            total_before = a.stats()["versions"]
        control(srv, "state", {"faults": rules})
        run = crawl("linyi_kjj", srv, db, *FAST)
        with Archive(db) as a:
            rows = {u: a.history(u)[-1] for u in target.values()}
            after = {u: len(a.versions(u)) for u in target.values()}
            yield {"db": db, "run": run, "target": target, "rows": rows, "before": before, "after": after,
                   "total_before": total_before, "total_after": a.stats()["versions"], "problems": verify(a)}


@pytest.mark.parametrize("name,message", [
    ("503", r"HTTP 503"), ("timeout", r"TimeoutError|took longer"), ("reset", r"Connection|ResponseFailed|lost"),
    ("truncate", r"ResponseFailed|PotentialDataLoss|DataLoss|lost"), ("empty", r"empty body"),
    ("huge", r"Cancel|maxsize|MAXSIZE|larger than|exceeds"), ("gzip_bomb", r"[Dd]ecompress|maxsize|MAXSIZE|exceeds|larger"),
    ("redirect_loop", r"redirect"), ("pdf", r"broken PDF file"),
])
def test_bad_urls_get_an_error_row_with_a_clear_message(faulty, name, message):
    url = faulty["target"][name]
    row = faulty["rows"][url]
    assert row["outcome"] == "error" and re.search(message, row["error"] or ""), (name, row)
    assert faulty["after"][url] == faulty["before"][url]          # the good version stays the latest


@pytest.mark.parametrize("name", ["500_burst", "wrong_charset", "no_charset"])
def test_recoverable_faults_are_recovered(faulty, name):
    url = faulty["target"][name]
    assert faulty["rows"][url]["outcome"] in ("unchanged", "not_modified"), faulty["rows"][url]
    assert faulty["after"][url] == faulty["before"][url]


def test_the_crawl_completes_and_no_garbage_becomes_a_version(faulty):
    assert faulty["total_after"] == faulty["total_before"]
    assert faulty["problems"] == []
    assert "Traceback" not in faulty["run"].log
    assert faulty["run"].stat("retry/count") >= 2 and faulty["run"].stat("govarchive/error") >= 9
    assert "finished" in faulty["run"].log


def test_gbk_page_served_with_wrong_or_no_charset(replica, tmp_path, manifest):
    d = next(x for x in manifest["documents"] if x["encoding"] == "gbk")
    path = re.escape(d["url"].split("//", 1)[1])
    for fault in ("wrong_charset", "no_charset"):
        db = tmp_path / f"{fault}.db"
        control(replica, "state", {"faults": [{"match": path + "$", "fault": fault}]})
        crawl("urls", replica, db, "-a", f"url={d['url']}")
        with Archive(db) as a:
            v = a.version(d["url"])
            assert v["title"] == d["epochs"]["1"]["title"] and v["flags"]["encoding_damage"] == 0, fault
    control(replica, "state", {"faults": []})
