"""Characters that are never document text, shared by the extractor (which removes them) and every
printer of the archive (which makes them visible): controls clear terminals, bidi overrides hide text."""
from __future__ import annotations

import re
from functools import lru_cache

# C0/C1 controls (but tab and newline) and bidirectional marks, embeddings, overrides, isolates.
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(s: str) -> str:
    """``s`` with every control shown as an escape (\\x1b, \\u202e): safe to print anywhere."""
    return CONTROLS.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), s)


@lru_cache(maxsize=1)
def t2s():
    """The OpenCC traditional → simplified converter (one per process: each loads its dictionaries)."""
    import opencc
    return opencc.OpenCC("t2s")
