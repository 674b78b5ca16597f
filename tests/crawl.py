"""Run `scrapy crawl` as a real subprocess against the replica, the way users run it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORTALS = ("panjin", "shuangtaizi", "chongqing_kjj", "linyi_kjj", "linyi_fgw", "suzhou_kjj")


class Crawl:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.returncode = proc.returncode
        self.log = proc.stderr

    def stat(self, name: str) -> int:
        m = re.search(rf"'{re.escape(name)}': (\d+)", self.log)
        return int(m.group(1)) if m else 0


def command(spider: str, replica, db: Path, *args: str) -> list[str]:
    """Tests switch the epoch between crawls seconds apart, standing for days: every archived page
    is checked (REVISIT_MIN=0) unless a test passes its own -s REVISIT_MIN (the later -s wins)."""
    return [sys.executable, "-m", "scrapy", "crawl", spider, "-s", f"REPLICA={replica.url}", "-s", f"ARCHIVE_DB={db}",
            "-s", "LOG_LEVEL=INFO", "-s", "REVISIT_MIN=0", *args]


ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def start(spider: str, replica, db: Path, *args: str) -> subprocess.Popen:
    """A crawl in the background (to be killed, or run beside another)."""
    return subprocess.Popen(command(spider, replica, db, *args), cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def crawl(spider: str, replica, db: Path, *args: str, timeout: int = 300) -> Crawl:
    proc = subprocess.run(command(spider, replica, db, *args), cwd=ROOT, env=ENV, capture_output=True, text=True,
                          timeout=timeout)
    c = Crawl(proc)
    assert c.returncode == 0, c.log[-3000:]
    assert "Traceback" not in c.log, c.log[-3000:]
    return c
