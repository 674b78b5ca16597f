"""Shared fixtures: the replica on a free port (always stopped), the manifest, a fresh archive path."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seeds.replica.server import ReplicaServer  # noqa: E402
from seeds.replica.site import MANIFEST  # noqa: E402
from tests.crawl import PORTALS, crawl  # noqa: E402
from tests.helpers import Archive, control  # noqa: E402


@pytest.fixture(scope="session")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


@pytest.fixture
def replica():
    """A replica in epoch 1 on a free 127.0.0.1 port; stopped whatever the test does."""
    srv = ReplicaServer(port=0).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def crawled(tmp_path_factory, manifest):
    """Every portal crawled in epoch 1, then again unchanged, then in epoch 2 (with their attachments):
    shared by the spider and attachment tests."""
    db = tmp_path_factory.mktemp("crawl") / "a.db"
    srv = ReplicaServer(port=0).start()
    runs = {}
    try:
        for p in PORTALS:
            runs[(p, 1)] = crawl(p, srv, db)
        with Archive(db) as a:
            snapshot1 = a.stats()
        control(srv, "log", {})
        for p in PORTALS:
            runs[(p, "again")] = crawl(p, srv, db)
        log_again = control(srv, "log")[1]
        with Archive(db) as a:
            snapshot_again = a.stats()
        control(srv, "state", {"epoch": 2})
        control(srv, "log", {})
        with Archive(db) as a:
            since = a.conn.execute("SELECT max(fetched_at) FROM fetches").fetchone()[0]
        for p in PORTALS:
            runs[(p, 2)] = crawl(p, srv, db)
        yield {"db": db, "runs": runs, "s1": snapshot1, "s_again": snapshot_again, "log_again": log_again,
               "log_2": control(srv, "log")[1], "since": since}
    finally:
        srv.stop()
