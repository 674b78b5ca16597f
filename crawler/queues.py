"""A JOBDIR request queue that a SIGKILL cannot wedge.

Scrapy writes its disk queue's header only on a clean stop; after a kill the file may be
inconsistent and the resumed crawl fails on it. This queue sets a damaged file aside and
carries on empty: the spider re-walks its list pages (always fetched) and ResumeMiddleware
skips the detail pages the archive already holds for this job, so nothing is lost.
"""
from __future__ import annotations

import logging
import os
import struct
import time

from scrapy.squeues import PickleLifoDiskQueue

log = logging.getLogger(__name__)


class CrashSafeDiskQueue(PickleLifoDiskQueue):
    def __init__(self, crawler, key):
        try:
            super().__init__(crawler, key)
        except (struct.error, ValueError, OSError, EOFError) as e:
            aside = f"{key}.damaged-{int(time.time())}"
            os.replace(key, aside)
            log.warning("request queue %s was damaged (%s), probably by a killed crawl; set aside as %s. "
                        "List pages are re-walked and archived pages skipped, so nothing is lost.", key, e, aside)
            super().__init__(crawler, key)

    def pop(self):
        try:
            return super().pop()
        except Exception as e:  # noqa: BLE001 - any unreadable entry means the file is damaged
            log.warning("request queue %s is damaged (%s): emptied; list pages are re-walked", self.path, e)
            self.f.seek(0)
            self.f.truncate()
            self.f.write(struct.pack(self.SIZE_FORMAT, 0))
            self.size = 0
            return None
