"""What spiders yield: one fetched page (or a failed fetch) of a portal."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PageItem:
    """A fetch result on its way through extraction into the archive."""
    url: str
    status: int | None
    body: bytes | None = None
    headers: dict = field(default_factory=dict)
    kind: str | None = None
    duration_ms: int | None = None
    error: str | None = None
    refused: str | None = None        # 'blocked' or 'soft_404': a challenge or not-found page
    document: object = None           # crawler.extract.Document, set by ExtractionPipeline
