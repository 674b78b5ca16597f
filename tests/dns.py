"""A DNS resolver for tests (DNS_RESOLVER): names under .test resolve to 127.0.0.1, as a public
name pointed at an internal address would. Every other name resolves as usual."""
from __future__ import annotations

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer


class LoopbackResolver(CachingThreadedResolver):
    def getHostByName(self, name, timeout=()):
        if name.endswith(".test"):
            return defer.succeed("127.0.0.1")
        return super().getHostByName(name, timeout)
