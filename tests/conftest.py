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


