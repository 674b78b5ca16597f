"""Extraction quality against the replica manifest's gold, beside bare trafilatura and readability.

For every manifest page (each epoch's state that is served with 200) and the five seeds wrapped
as pages: character-bigram precision / recall / F1 of the simplified text against the gold
(whitespace ignored), the pages where any junk leaked (an extracted line that is mostly not in
the gold: spam, pinyin, chrome), and metadata field accuracy. ``python -m bench.quality`` prints
the table; bench/run.py puts it into results.json.
"""
from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from functools import lru_cache

from crawler.cleaning import t2s
from crawler.extract import extract

WS = re.compile(r"\s+")
PINYIN_LEAK = re.compile(r"[\u4e00-\u9fff][\(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+[\)）]")


def simp(s: str | None) -> str:
    return WS.sub("", t2s().convert(s or ""))


def bigrams(s: str) -> Counter:
    s = simp(s)
    return Counter(s[i:i + 2] for i in range(len(s) - 1))


def prf(got: str, gold: str) -> tuple[float, float, float]:
    g, r = bigrams(got), bigrams(gold)
    if not g and not r:
        return 1.0, 1.0, 1.0
    overlap = sum((g & r).values())
    p = overlap / max(1, sum(g.values()))
    rec = overlap / max(1, sum(r.values()))
    f = 2 * p * rec / (p + rec) if p + rec else 0.0
    return p, rec, f


def leaked_lines(text: str, gold: str) -> list[str]:
    """Extracted lines mostly absent from the gold, or carrying pinyin: junk that got through."""
    gb = bigrams(gold)
    out = []
    for line in (text or "").split("\n"):
        lb = bigrams(line)
        if not lb:
            continue
        inside = sum((lb & gb).values()) / sum(lb.values())
        if inside < 0.5 or PINYIN_LEAK.search(line):
            out.append(line)
    return out


@lru_cache(maxsize=1)
def cases() -> list[dict]:
    """(name, kind of page, body, url, content type, gold) for every page with a gold."""
    from seeds.replica import site
    out = []
    for epoch in site.EPOCHS:
        pages = site.build(epoch)
        for d in site.documents():
            g = site.gold(d, epoch)
            if not g or g["status"] != 200:
                continue
            if epoch == 2 and d.state(1) and d.state(1).get("status") == 200 and site.gold(d, 1) == g \
                    and not d.mirror_of:
                continue    # unchanged: counted once
            page = pages[(d.host, d.path)]
            body = page.body
            if d.extra.get("split"):        # an article over two pages is archived as its parts together
                from crawler.extract import PART_MARK
                body += PART_MARK + pages[(d.host, site.part_path(d, 2))].body
            out.append({"name": f"{d.url}#e{epoch}", "type": _page_type(d), "body": body, "url": d.url,
                        "ctype": page.content_type, "gold": g})
    return out


def _page_type(d) -> str:
    if d.seed:
        return f"seed {d.seed}"
    if d.mirror_of:
        return "mirror"
    if d.encoding != "utf-8" or d.template == "old":
        return f"{d.portal} old/gbk"
    return f"{d.portal} {d.kind}"


def readability_text(html: bytes) -> str:
    from readability import Document
    import lxml.html
    summary = Document(html).summary()
    return "\n".join(t.strip() for t in lxml.html.fromstring(summary).itertext() if t.strip())


def trafilatura_text(html: bytes) -> str:
    """Bare trafilatura, given the page as text (it guesses GBK pages' encoding poorly from bytes)."""
    import trafilatura
    from crawler.encoding import decode
    return trafilatura.extract(decode(html)[0]) or ""


def field_pairs(doc, gold: dict) -> list[tuple[str, object, object]]:
    pairs = [("title", doc.title, gold["title"]), ("published_date", doc.published_date, gold["published_date"])]
    pairs += [(f"metadata.{k}", doc.metadata.get(k), v) for k, v in gold["metadata"].items()]
    if gold.get("reply"):
        for k, v in gold["reply"].items():
            pairs.append((f"reply.{k}", (doc.reply or {}).get(k), v))
    else:
        pairs.append(("reply", doc.reply, None))
    pairs.append(("attachments", [a["url"] for a in doc.attachments], [a["url"] for a in gold["attachments"]]))
    return pairs


def same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return simp(a) == simp(b) if a is not None and b is not None else a == b
    return a == b


def evaluate(baselines: bool = True) -> dict:
    per_type: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    pages, leaks, field_ok, field_n, misses = [], [], 0, 0, Counter()
    for c in cases():
        doc = extract(c["body"], c["url"], c["ctype"])
        gold_text = c["gold"]["text"]
        p, r, f = prf(doc.text_simplified, gold_text)
        leak = leaked_lines(doc.text_simplified, gold_text)
        row = {"page": c["name"], "type": c["type"], "p": p, "r": r, "f1": f, "leaked": leak}
        for k, got, want in field_pairs(doc, c["gold"]):
            field_n += 1
            if same(got, want):
                field_ok += 1
            else:
                misses[k] += 1
                row.setdefault("field_misses", []).append((k, got, want))
        t = per_type[c["type"]]
        t["ours"].append(f)
        if baselines:
            t["trafilatura"].append(prf(trafilatura_text(c["body"]), gold_text)[2])
            t["readability"].append(prf(readability_text(c["body"]), gold_text)[2])
        if leak:
            leaks.append(c["name"])
        pages.append(row)
    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0
    return {
        "pages": len(pages),
        "mean_precision": mean([x["p"] for x in pages]),
        "mean_recall": mean([x["r"] for x in pages]),
        "mean_f1": mean([x["f1"] for x in pages]),
        "pages_with_leaked_junk": leaks,
        "metadata_field_accuracy": field_ok / max(1, field_n),
        "field_misses": dict(misses),
        "by_type": {k: {m: mean(v) for m, v in d.items()} | {"pages": len(d["ours"])} for k, d in sorted(per_type.items())},
        "per_page": pages,
    }


def table(res: dict) -> str:
    lines = ["| page type | pages | ours F1 | trafilatura F1 | readability F1 |", "|---|---|---|---|---|"]
    for k, v in res["by_type"].items():
        lines.append(f"| {k} | {v['pages']} | {v['ours']:.4f} | {v.get('trafilatura', float('nan')):.4f} | "
                     f"{v.get('readability', float('nan')):.4f} |")
    return "\n".join(lines)


def main() -> None:
    res = evaluate(baselines="--no-baselines" not in sys.argv)
    print(table(res))
    print(f"\npages {res['pages']}  mean P {res['mean_precision']:.4f}  R {res['mean_recall']:.4f}  "
          f"F1 {res['mean_f1']:.4f}  metadata accuracy {res['metadata_field_accuracy']:.4f}")
    print(f"pages with leaked junk: {len(res['pages_with_leaked_junk'])}")
    if "-v" in sys.argv:
        for row in res["per_page"]:
            if row["f1"] < 0.99 or row["leaked"] or row.get("field_misses"):
                print(f"\n{row['page']} [{row['type']}] F1 {row['f1']:.4f} P {row['p']:.4f} R {row['r']:.4f}")
                for ln in row["leaked"][:5]:
                    print("   LEAK:", ln[:100])
                for m in row.get("field_misses", [])[:8]:
                    print("   FIELD:", m)
    print("field misses:", res["field_misses"])


if __name__ == "__main__":
    main()
