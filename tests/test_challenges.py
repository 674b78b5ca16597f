"""Challenge and not-found pages are recorded as what they are, never as versions; a host that keeps
answering with challenges is slowed down, then stopped, and the run says so."""
from __future__ import annotations

import re

from tests.helpers import Archive, control
from tests.crawl import crawl

KINDS = {"challenge_412": "blocked", "waf": "blocked", "too_frequent": "blocked", "soft404": "soft_404",
         "to_home": "soft_404"}


def docs(manifest):
    return sorted(d["url"] for d in manifest["documents"] if d["portal"] == "linyi_kjj" and d["epochs"]["1"]
                  and d["epochs"]["1"]["status"] == 200 and not d["robots_disallowed"])


def rule(url: str, fault: str) -> dict:
    path = re.escape(url.split("//", 1)[1]) + "$"
    if fault == "to_home":
        return {"match": path, "fault": "redirect", "location": "/"}
    return {"match": path, "fault": fault}


def test_challenge_and_not_found_pages_never_become_versions(replica, tmp_path, manifest):
    urls = docs(manifest)
    target = dict(zip(KINDS, urls[:len(KINDS)]))
    fresh, db = tmp_path / "fresh.db", tmp_path / "a.db"
    crawl("linyi_kjj", replica, db, "-s", "CHALLENGE_STOP=100", "-s", "CHALLENGE_DELAY=0.01")
    with Archive(db) as a:
        before = {u: a.versions(u) for u in target.values()}
    control(replica, "state", {"faults": [rule(u, f) for f, u in target.items()]})
    try:
        crawl("linyi_kjj", replica, db, "-s", "CHALLENGE_STOP=100", "-s", "CHALLENGE_DELAY=0.01")
        crawl("linyi_kjj", replica, fresh, "-s", "CHALLENGE_STOP=100", "-s", "CHALLENGE_DELAY=0.01")        # a first fetch, too
    finally:
        control(replica, "state", {"faults": []})
    with Archive(db) as a:
        for fault, url in target.items():
            last = a.history(url)[-1]
            assert last["outcome"] == KINDS[fault] and last["error"], (fault, last)
            assert a.versions(url) == before[url]                  # the good version stays latest
    with Archive(fresh) as a:
        known = {r[0] for r in a.conn.execute("SELECT url FROM documents")}
        assert not known & set(target.values())                     # 0 of them stored as versions
        outcomes = dict(a.conn.execute("SELECT outcome, count(*) FROM fetch_log GROUP BY outcome"))
        assert outcomes.get("blocked") == 3 and outcomes.get("soft_404") == 2, outcomes


def test_a_host_that_keeps_challenging_is_slowed_then_stopped(replica, tmp_path, manifest):
    control(replica, "state", {"faults": [{"match": r"kjj\.linyi\.gov\.cn/info/", "fault": "challenge_412"}]})
    try:
        run = crawl("linyi_kjj", replica, tmp_path / "a.db", "-s", "CHALLENGE_STOP=3", "-s", "CHALLENGE_DELAY=0.2")
    finally:
        control(replica, "state", {"faults": []})
    served = [e for e in control(replica, "log")[1] if "/info/" in e["path"]]
    assert 3 <= len(served) < len(docs(manifest)) // 2
    assert "stopped host kjj.linyi.gov.cn after" in run.log
    with Archive(tmp_path / "a.db") as a:
        assert a.stats()["versions"] == 0
