"""Loads rules.toml once and compiles what it holds; EXTRACTOR_VERSION includes its hash."""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

RULES_FILE = Path(__file__).with_name("rules.toml")
CODE_VERSION = "2"      # raised when a code change alters what the extractor outputs


@dataclass(frozen=True)
class Rules:
    containers: tuple
    titles: tuple
    generic_titles: tuple
    attachment_suffixes: tuple
    attachment_markers: tuple
    labels: dict
    label_chars: re.Pattern
    invalid_words: tuple
    valid_words: tuple
    title_markers: re.Pattern
    chrome_anywhere: re.Pattern
    chrome_edges: re.Pattern
    chrome_classes: re.Pattern
    chrome_boxes: re.Pattern
    related: re.Pattern
    spam_weights: dict
    spam_terms: re.Pattern
    cut_markers: tuple
    challenge: dict
    version: str


def _last_chars(labels: dict) -> re.Pattern:
    """Every label ends in one of these characters (simplified or traditional): a cheap first test."""
    import opencc
    ends = {k[-1] for k in labels}
    s2t = opencc.OpenCC("s2t")          # one converter: each one loads its dictionaries
    ends |= {s2t.convert(c) for c in ends}
    return re.compile("[" + "".join(sorted(ends)) + "]")


@lru_cache(maxsize=1)
def rules() -> Rules:
    raw = RULES_FILE.read_bytes()
    data = tomllib.loads(raw.decode("utf-8"))
    c, m, v, ch, sp = data["content"], data["metadata"], data["validity"], data["chrome"], data["spam"]
    weights = {t.lower(): 2 for t in sp["strong"]} | {t.lower(): 1 for t in sp["weak"]}
    terms = sorted(weights, key=len, reverse=True)
    return Rules(
        containers=tuple(etree.XPath(x) for x in c["containers"]),
        titles=tuple(etree.XPath(x) for x in c["titles"]),
        generic_titles=tuple(etree.XPath(x) for x in c["generic_titles"]),
        attachment_suffixes=tuple(c["attachment_suffixes"]),
        attachment_markers=tuple(c["attachment_markers"]),
        labels=dict(m["labels"]),
        label_chars=_last_chars(m["labels"]),
        invalid_words=tuple(v["invalid"]),
        valid_words=tuple(v["valid"]),
        title_markers=re.compile("|".join(f"(?:{p})" for p in v["title_markers"])),
        chrome_anywhere=re.compile("|".join(f"(?:{p})" for p in ch["anywhere"])),
        chrome_edges=re.compile("|".join(f"(?:{p})" for p in ch["anywhere"] + ch["edges"])),
        chrome_classes=re.compile("|".join(f"(?:{p})" for p in ch["classes"])),
        chrome_boxes=re.compile("|".join(f"(?:{p})" for p in ch["box_classes"])),
        related=re.compile(ch["related"]),
        spam_weights=weights,
        spam_terms=re.compile("|".join(re.escape(t) for t in terms), re.I),
        cut_markers=tuple(sp["cut_markers"]),
        challenge=dict(data["challenge"]),
        version=f"{CODE_VERSION}+{hashlib.sha256(raw).hexdigest()[:8]}",
    )
