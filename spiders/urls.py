"""Arbitrary pages: mirror copies, single documents. `-a url=URL` or `-a urls=FILE` (one per line)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from scrapy.exceptions import UsageError

from spiders.base import ArchiveSpider


class UrlsSpider(ArchiveSpider):
    name = "urls"
    custom_settings = {"REVISIT_MIN": 0}     # pages named by hand are fetched now, however recent
    ARGUMENTS = {"url": "URL", "urls": "FILE (one URL per line)", "kind": "KIND (for every page)"}

    @classmethod
    def parse_arguments(cls, url: str | None = None, urls: str | None = None, kind: str | None = None, **_) -> dict:
        targets = [url] if url else []
        if urls:
            try:
                lines = Path(urls).read_text(encoding="utf-8").splitlines()
            except OSError as e:
                raise UsageError(f"cannot read -a urls={urls}: {e.strerror}") from e
            targets += [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
        bad = [t for t in targets if urlsplit(t).scheme not in ("http", "https") or not urlsplit(t).hostname]
        if bad or not targets:
            raise UsageError(f"give -a url=URL or -a urls=FILE of http(s) URLs; not usable: {bad[:3]}")
        return {"targets": list(dict.fromkeys(targets)), "kind": kind}

    def __init__(self, url: str | None = None, urls: str | None = None, kind: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parsed = self.parse_arguments(url, urls, kind)
        self.targets, self.kind = parsed["targets"], parsed["kind"]
        self.allowed_domains = sorted({urlsplit(t).hostname for t in self.targets})

    async def start(self):
        for t in self.targets:
            yield self.detail_request(t, self.kind)
