"""Portal and CMS-family configuration from portals.toml."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

PORTALS_FILE = Path(__file__).with_name("portals.toml")


@dataclass(frozen=True)
class Portal:
    key: str
    name: str
    family: str
    base: str
    host: str
    aliases: tuple
    lists: tuple
    detail: re.Pattern
    pagination: str
    list_container: str | None = None

    def kind_of(self, list_url: str) -> str | None:
        path = urlsplit(list_url).path
        for lst in self.lists:
            root = lst["path"].rsplit("/", 1)[0] + "/" if lst["path"].endswith((".html", ".htm")) else lst["path"]
            stem = lst["path"][:-4] + "/" if lst["path"].endswith(".htm") else root
            if path.startswith(root) or path.startswith(stem) or path == lst["path"]:
                return lst["kind"]
        return None


@lru_cache(maxsize=1)
def portals() -> dict[str, Portal]:
    data = tomllib.loads(PORTALS_FILE.read_text(encoding="utf-8"))
    fams = data["families"]
    out = {}
    for key, p in data["portals"].items():
        fam = fams[p["family"]]
        host = urlsplit(p["base"]).hostname
        out[key] = Portal(key=key, name=p["name"], family=p["family"], base=p["base"].rstrip("/"), host=host,
                          aliases=tuple(p.get("aliases", ())), lists=tuple(p["lists"]),
                          detail=re.compile(fam["detail"]), pagination=fam["pagination"],
                          list_container=fam.get("list"))
    return out


def portal_for_host(host: str) -> Portal | None:
    host = (host or "").lower()
    for p in portals().values():
        if host == p.host or host in p.aliases:
            return p
    return None


def is_portal_host(host: str) -> bool:
    return portal_for_host(host) is not None


def canonical_url(url: str) -> str:
    """One URL per document: w3lib's canonical form (Scrapy's: sorted query, percent-encoding, no
    fragment), then our rules on top: a portal's aliases and scheme become its own, default
    ports go."""
    from w3lib.url import canonicalize_url
    u = urlsplit(canonicalize_url(url.strip()))
    host = (u.hostname or "").lower()
    p = portal_for_host(host)
    scheme = u.scheme.lower()
    if p:
        host, scheme = p.host, urlsplit(p.base).scheme
    port = f":{u.port}" if u.port and not ((scheme == "http" and u.port == 80) or (scheme == "https" and u.port == 443)) else ""
    path = u.path or "/"
    return f"{scheme}://{host}{port}{path}" + (f"?{u.query}" if u.query else "")


def site_of(url: str) -> str:
    p = portal_for_host(urlsplit(url).hostname or "")
    return p.key if p else (urlsplit(url).hostname or "unknown")
