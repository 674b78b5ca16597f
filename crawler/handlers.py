"""Download handler that can send every request to the offline replica.

With ``REPLICA`` unset it is Scrapy's HTTP/1.1 handler. With ``REPLICA=http://127.0.0.1:8765`` it
sends each request to the replica with the real host in the Host header, and hands Scrapy a
response carrying the real URL, so robots.txt, offsite rules, redirects and the archive all see
the real portal, as in production.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler


class ReplicaAwareDownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler):
        super().__init__(crawler)
        self.replica = (crawler.settings.get("REPLICA") or "").rstrip("/")

    async def download_request(self, request):
        if not self.replica:
            return await super().download_request(request)
        u = urlsplit(request.url)
        target = self.replica + (u.path or "/") + (f"?{u.query}" if u.query else "")
        routed = request.replace(url=target)
        routed.headers["Host"] = u.netloc
        try:
            response = await super().download_request(routed)
        except Exception as e:
            # report the URL the crawl asked for, not the replica's
            e.args = tuple(a.replace(target, request.url) if isinstance(a, str) else a for a in e.args)
            raise
        return response.replace(url=request.url)
