"""URL identity in the archive: one canonical URL per document, and the site it belongs to.

Which hosts make up a portal (its aliases, its scheme) is the crawler's configuration; the crawler
and the CLI hand it to the archive as a ``Sites`` object, so the archive imports nothing from
the crawler. Without one, a URL is only put in w3lib's canonical form and its site is its host.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Sites:
    portals: dict = field(default_factory=dict)     # host or alias -> (site key, canonical host, scheme)

    def portal(self, host: str | None) -> tuple[str, str, str] | None:
        return self.portals.get((host or "").lower())

    def canonical_url(self, url: str) -> str:
        """w3lib's canonical form (Scrapy's: sorted query, percent-encoding, no fragment), then a
        portal's aliases and scheme become its own and default ports go."""
        from w3lib.url import canonicalize_url
        u = urlsplit(canonicalize_url(url.strip()))
        host, scheme = (u.hostname or "").lower(), u.scheme.lower()
        p = self.portal(host)
        if p:
            host, scheme = p[1], p[2]
        default = (scheme == "http" and u.port == 80) or (scheme == "https" and u.port == 443)
        port = f":{u.port}" if u.port and not default else ""
        return f"{scheme}://{host}{port}{u.path or '/'}" + (f"?{u.query}" if u.query else "")

    def site_of(self, url: str) -> str:
        host = urlsplit(url).hostname or ""
        p = self.portal(host)
        return p[0] if p else (host or "unknown")
