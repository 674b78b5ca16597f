"""Portal and CMS-family configuration from portals.toml, and from the files GOVARCHIVE_PORTALS
names (os.pathsep-separated TOML files of more [portals.*] entries of the same families)."""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from archive.sites import Sites

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
    cadence: float = 86400.0          # seconds between scheduled crawls (Celery beat): daily by default

    def kind_of(self, list_url: str) -> str | None:
        path = urlsplit(list_url).path
        for lst in self.lists:
            root = lst["path"].rsplit("/", 1)[0] + "/" if lst["path"].endswith((".html", ".htm")) else lst["path"]
            stem = lst["path"][:-4] + "/" if lst["path"].endswith(".htm") else root
            if path.startswith(root) or path.startswith(stem) or path == lst["path"]:
                return lst["kind"]
        return None


CADENCE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")


def cadence_seconds(value: str) -> float:
    """'1d', '12h', '30m', '90s' as seconds."""
    m = CADENCE.match(str(value).strip())
    if not m:
        raise ValueError(f"cadence {value!r}: give a number and s, m, h or d (1d, 12h)")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


@lru_cache(maxsize=1)
def portals() -> dict[str, Portal]:
    data = tomllib.loads(PORTALS_FILE.read_text(encoding="utf-8"))
    for extra in filter(None, os.environ.get("GOVARCHIVE_PORTALS", "").split(os.pathsep)):
        try:
            more = tomllib.loads(Path(extra).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ValueError(f"GOVARCHIVE_PORTALS: cannot read {extra}: {e}") from e
        data["portals"].update(more.get("portals", {}))
    fams = data["families"]
    out = {}
    for key, p in data["portals"].items():
        fam = fams[p["family"]]
        host = urlsplit(p["base"]).hostname
        out[key] = Portal(key=key, name=p["name"], family=p["family"], base=p["base"].rstrip("/"), host=host,
                          aliases=tuple(p.get("aliases", ())), lists=tuple(p["lists"]),
                          detail=re.compile(fam["detail"]), pagination=fam["pagination"],
                          list_container=fam.get("list"), cadence=cadence_seconds(p.get("cadence", "1d")))
    return out


def portal_for_host(host: str) -> Portal | None:
    host = (host or "").lower()
    for p in portals().values():
        if host == p.host or host in p.aliases:
            return p
    return None


def is_portal_host(host: str) -> bool:
    return portal_for_host(host) is not None


@lru_cache(maxsize=1)
def sites() -> Sites:
    """The portals' URL identity, as the archive takes it: every host and alias of each portal."""
    return Sites({h: (p.key, p.host, urlsplit(p.base).scheme) for p in portals().values() for h in (p.host, *p.aliases)})


def canonical_url(url: str) -> str:
    return sites().canonical_url(url)


def site_of(url: str) -> str:
    return sites().site_of(url)
