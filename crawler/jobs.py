"""Crawl jobs across machines, on Celery with a Redis broker: one job crawls one portal.

`scrapy crawl` on one machine stays the default. For many machines:

- **The archive host** runs ``celery -A crawler.jobs worker -Q archive -c 1`` and ``celery -A
  crawler.jobs beat``. Beat sends ``dispatch(portal)`` on each portal's cadence (``cadence`` in
  portals.toml, daily by default) and ``merge_shards`` every MERGE_EVERY seconds. ``dispatch``
  takes the portal's slice of the archive (archive/shards.py) into the transport and queues
  ``crawl(portal, slice)``; ``merge_shards`` folds every shard in the transport into the archive.
- **Crawl hosts** run ``celery -A crawler.jobs worker -Q crawl -P solo`` (one job at a time per
  worker process; start several). ``crawl`` fetches the slice, runs ``scrapy crawl`` into it and
  puts the result back as a shard.

Tasks are acknowledged late: a worker that dies leaves its message unacknowledged, and Redis
hands it to another worker after the visibility timeout. A portal is crawled by one job at a
time (a Redis lock, kept alive while the crawl runs and gone soon after its holder dies), so
per-host politeness holds across machines. A job whose shard was handed back is done: a copy
of it delivered again does nothing. The crawl subprocess dies with its worker. A crawl that
fails (scrapy exits non-zero) is not retried: the portal's next dispatch crawls it again, and
`govarchive portals --health` shows the failure.

Configuration, from the environment (Celery's own settings work too): GOVARCHIVE_BROKER (Redis
URL), GOVARCHIVE_SHARDS (the transport: a directory every host mounts; see ``Transport``),
GOVARCHIVE_DB (the archive, on the archive host), GOVARCHIVE_REPLICA (crawl the replica: tests
and the demo), GOVARCHIVE_VISIBILITY (seconds before a dead worker's job is handed out again:
longer than the longest crawl a worker may be busy with), GOVARCHIVE_LOCK_TTL.
"""
from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

from celery import Celery

from archive import shards
from archive.store import Archive, ArchiveError

from .pipelines import die_with_parent
from .portals import portals, sites

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
VISIBILITY = float(os.environ.get("GOVARCHIVE_VISIBILITY", 6 * 3600))
LOCK_TTL = float(os.environ.get("GOVARCHIVE_LOCK_TTL", 60))
MERGE_EVERY = 300.0

app = Celery("govarchive", broker=os.environ.get("GOVARCHIVE_BROKER", "redis://127.0.0.1:6379/0"))
app.conf.update(
    task_acks_late=True,                 # a job is acknowledged when it is done, not when it is taken
    task_reject_on_worker_lost=True,     # a pool child killed mid-job: its job goes back to the queue
    worker_prefetch_multiplier=1,        # a worker holds no job it has not started
    task_default_queue="crawl",
    task_routes={"govarchive.dispatch": {"queue": "archive"}, "govarchive.merge_shards": {"queue": "archive"}},
    broker_transport_options={"visibility_timeout": VISIBILITY, "unacked_restore_interval": max(1, VISIBILITY / 10),
                              "unacked_restore_throttle": 1},
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    timezone="UTC",
)


def beat_schedule() -> dict:
    """Each portal on its cadence, and a merge of the shards handed back every MERGE_EVERY seconds."""
    out = {f"dispatch-{key}": {"task": "govarchive.dispatch", "schedule": p.cadence, "args": (key,)}
           for key, p in portals().items()}
    out["merge-shards"] = {"task": "govarchive.merge_shards", "schedule": MERGE_EVERY}
    return out


app.conf.beat_schedule = beat_schedule()


class Transport:
    """Slices and shards between the archive host and crawl hosts: a directory all of them mount
    (NFS, SMB …), GOVARCHIVE_SHARDS. Files are written beside their name and renamed, so a reader
    never sees half a file. (An S3-compatible store would implement put/get/names/move with
    boto3's upload_file / download_file / list_objects_v2 / copy+delete: see the README.)"""

    def __init__(self, root: str | os.PathLike | None = None):
        root = str(root or os.environ.get("GOVARCHIVE_SHARDS") or "data/shards")
        if "://" in root:
            raise ValueError(f"GOVARCHIVE_SHARDS={root}: only a directory transport is built in (an S3-compatible "
                             "store is described in the README's Scaling out); mount a shared directory")
        self.root = Path(root)

    def put(self, local: Path, kind: str, name: str) -> None:
        dest = self.root / kind / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{name}.{uuid.uuid4().hex}.tmp")
        shutil.copyfile(local, tmp)
        os.replace(tmp, dest)

    def get(self, kind: str, name: str, local: Path) -> None:
        shutil.copyfile(self.root / kind / name, local)

    def names(self, kind: str) -> list[str]:
        d = self.root / kind
        return sorted(p.name for p in d.glob("*.db")) if d.exists() else []

    def move(self, kind: str, name: str, to: str) -> None:
        (self.root / to).mkdir(parents=True, exist_ok=True)
        os.replace(self.root / kind / name, self.root / to / name)


def redis_client():
    import redis
    return redis.Redis.from_url(app.conf.broker_url)


class PortalLock:
    """At most one job per portal: a Redis key that expires LOCK_TTL seconds after its holder
    stops renewing it (a killed worker renews nothing)."""

    def __init__(self, r, portal: str, holder: str):
        self.r, self.key, self.holder = r, f"govarchive:lock:{portal}", holder
        self.stop = threading.Event()

    def __enter__(self) -> bool:
        if not self.r.set(self.key, self.holder, nx=True, px=int(LOCK_TTL * 1000)):
            return False
        threading.Thread(target=self._renew, daemon=True).start()
        return True

    def _renew(self) -> None:
        while not self.stop.wait(LOCK_TTL / 3):
            self.r.pexpire(self.key, int(LOCK_TTL * 1000))

    def __exit__(self, *exc) -> None:
        self.stop.set()
        # release only our own lock (compare and delete in one step)
        self.r.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end",
                    1, self.key, self.holder)


@app.task(name="govarchive.dispatch")
def dispatch(portal: str) -> str:
    """On the archive host: the portal's slice into the transport, then its crawl job queued."""
    if portal not in portals():
        raise ValueError(f"unknown portal {portal!r}")
    name = f"{portal}--{uuid.uuid4().hex[:12]}.db"
    with tempfile.TemporaryDirectory() as tmp, Archive(os.environ.get("GOVARCHIVE_DB"), sites=sites()) as a:
        local = Path(tmp) / name
        shards.take_slice(a, portal, local)
        Transport().put(local, "slices", name)
    crawl.delay(portal, name)
    return name


@app.task(name="govarchive.crawl", bind=True, max_retries=None)
def crawl(self, portal: str, slice_name: str) -> str:
    """On a crawl host: the slice, `scrapy crawl` into it, the shard handed back."""
    r = redis_client()
    done_key = f"govarchive:done:{slice_name}"
    if r.exists(done_key):
        return "done already"            # a copy delivered again after the job finished
    holder = f"{socket.gethostname()}:{os.getpid()}:{self.request.id}"
    with PortalLock(r, portal, holder) as locked:
        if not locked:                   # another job holds the portal: try again later
            raise self.retry(countdown=max(1.0, LOCK_TTL / 4))
        if r.exists(done_key):
            return "done already"
        t = Transport()
        with tempfile.TemporaryDirectory(prefix="govarchive-job-") as tmp:
            local = Path(tmp) / slice_name
            t.get("slices", slice_name, local)
            run_crawl(portal, local, job=f"{slice_name[:-3]}.{os.getpid()}")
            t.put(local, "shards", slice_name)
        r.set(done_key, holder, ex=14 * 86400)
    return slice_name


def run_crawl(portal: str, db: Path, job: str) -> None:
    """`scrapy crawl` as a child that dies with this process (SIGKILL included); its User-Agent
    names the job and the worker running it, so a site's logs (and the replica's) tell apart
    jobs, and a job's first attempt from its redo."""
    from scrapy.utils.project import get_project_settings
    ua = f"{get_project_settings().get('USER_AGENT')} job/{job}"
    cmd = [sys.executable, "-m", "scrapy", "crawl", portal, "-s", f"ARCHIVE_DB={db}", "-s", f"USER_AGENT={ua}",
           "-s", "LOG_LEVEL=WARNING"]
    if os.environ.get("GOVARCHIVE_REPLICA"):
        cmd += ["-s", f"REPLICA={os.environ['GOVARCHIVE_REPLICA']}"]
    proc = subprocess.run(cmd, cwd=ROOT, preexec_fn=die_with_parent, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"scrapy crawl {portal} exited {proc.returncode}: {proc.stderr[-2000:]}")


@app.task(name="govarchive.merge_shards")
def merge_shards() -> dict:
    """On the archive host: every shard handed back, merged into the archive, then set aside
    (in ``merged/``, or ``failed/`` with the reason logged when it cannot be read)."""
    t = Transport()
    counts: dict[str, int] = {}
    with Archive(os.environ.get("GOVARCHIVE_DB"), sites=sites()) as a:
        for name in t.names("shards"):
            try:
                merged = shards.merge(a, t.root / "shards" / name)
            except ArchiveError as e:
                log.error("shard %s cannot be merged, set aside in failed/: %s", name, e)
                t.move("shards", name, "failed")
                continue
            for k, v in merged.items():
                counts[k] = counts.get(k, 0) + v
            t.move("shards", name, "merged")
            (t.root / "slices" / name).unlink(missing_ok=True)
    return counts
