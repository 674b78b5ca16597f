"""Extraction evaluation on every set, govarchive beside bare trafilatura and readability-lxml.

Sets: the replica manifest (ours, written with the extractor), and the pages nobody here wrote in
../shared/corpus/ (read where they are, never copied): ``realworld`` (22 government pages with
hand-made gold, titles, labelled metadata and reply facts), ``cwce`` (Chinese web pages) and
``aeb`` (English news: generic pages must not regress). Per set: mean and min character-bigram
F1, paragraph recall (share of gold lines that come out as a line of their own), pages with
leaked junk, and for realworld titles, metadata fields and reply facts.

    python -m bench.eval                  # the table
    python -m bench.eval -v realworld     # and per-page detail for a set
"""
from __future__ import annotations

import gzip
import json
import sys
from functools import lru_cache
from pathlib import Path

from bench.quality import leaked_lines, prf, readability_text, simp, trafilatura_text
from crawler.extract import ExtractionError, extract

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
SETS = ("replica", "realworld", "cwce", "aeb")
SYSTEMS = ("govarchive", "trafilatura", "readability")


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


@lru_cache(maxsize=None)
def cases(name: str) -> list[dict]:
    """Pages of a set: {name, body, url, gold_lines, title, meta, reply}."""
    if name == "replica":
        from bench.quality import cases as replica
        return [{"name": c["name"], "body": c["body"], "url": c["url"], "ctype": c["ctype"],
                 "gold_lines": c["gold"]["text"].split("\n"), "title": c["gold"]["title"], "meta": None,
                 "reply": None} for c in replica()]
    folder = {"realworld": "realworld", "cwce": "cwce", "aeb": "scrapinghub-aeb"}[name]
    manifest = CORPUS / folder / "manifest.jsonl"
    if not manifest.exists():
        raise SystemExit(f"{manifest} is missing: the corpus lives in ../shared/corpus beside the project")
    out = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        m = json.loads(line)
        if m.get("flag"):
            continue
        body = _read(manifest.parent / m["html"])
        if name == "realworld":
            gold, title = m["gold_body"], m.get("gold_title")
        else:
            gold, title = _read(manifest.parent / m["gold"]).decode("utf-8", "replace").split("\n"), None
        out.append({"name": m["html"].rsplit("/", 1)[-1], "body": body, "url": m.get("url") or "http://example.org/",
                    "ctype": f"text/html; charset={m['encoding']}" if m.get("encoding") else None,
                    "gold_lines": [g for g in gold if g.strip()], "title": title, "meta": m.get("meta"),
                    "reply": m.get("reply")})
    return out


def paragraph_recall(text: str, gold_lines: list[str]) -> float:
    """Share of gold lines that come out as a line of their own (whitespace and script folded)."""
    got = {simp(x) for x in text.split("\n") if x.strip()}
    gold = [simp(g) for g in gold_lines if simp(g)]
    return sum(g in got for g in gold) / len(gold) if gold else 1.0


def run_system(system: str, c: dict) -> tuple[str, object]:
    if system == "govarchive":
        try:
            d = extract(c["body"], c["url"], c["ctype"])
        except ExtractionError:
            return "", None
        return d.text, d
    if system == "trafilatura":
        return trafilatura_text(c["body"]), None
    return readability_text(c["body"]), None


def evaluate(name: str, systems=SYSTEMS) -> dict:
    res = {s: {"f1": [], "pr": [], "leaks": 0} for s in systems}
    detail, titles, fields, replies = [], [0, 0], [0, 0], [0, 0]
    for c in cases(name):
        gold = "\n".join(c["gold_lines"])
        row = {"page": c["name"]}
        for s in systems:
            text, doc = run_system(s, c)
            f = prf(text, gold)[2]
            pr = paragraph_recall(text, c["gold_lines"])
            leak = leaked_lines(text, gold)
            res[s]["f1"].append(f)
            res[s]["pr"].append(pr)
            res[s]["leaks"] += bool(leak)
            row[s] = (f, pr)
            if s == "govarchive":
                row["leak"] = leak[:3]
                if doc is not None and c["title"] is not None:
                    titles[1] += 1
                    ok = simp(doc.title or "") == simp(c["title"])
                    titles[0] += ok
                    if not ok:
                        row["title"] = (doc.title, c["title"])
                for k, want in (c["meta"] or {}).items():
                    fields[1] += 1
                    got = (doc.metadata or {}).get(k) if doc else None
                    if simp(got or "") == simp(want or "") and got:
                        fields[0] += 1
                    else:
                        row.setdefault("meta", []).append((k, got, want))
                for k, want in (c["reply"] or {}).items():
                    replies[1] += 1
                    got = ((doc.reply or {}) if doc else {}).get(k)
                    if simp(got or "") == simp(want or "") and got:
                        replies[0] += 1
                    else:
                        row.setdefault("reply", []).append((k, got, want))
        detail.append(row)
    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0
    out = {"set": name, "pages": len(detail), "detail": detail}
    for s in systems:
        out[s] = {"mean_f1": mean(res[s]["f1"]), "min_f1": min(res[s]["f1"], default=0.0),
                  "paragraph_recall": mean(res[s]["pr"]), "pages_with_leaks": res[s]["leaks"]}
    out["govarchive"].update(titles=titles, metadata_fields=fields, reply_facts=replies)
    return out


def table(results: list[dict]) -> str:
    lines = ["| set | pages | system | mean F1 | min F1 | paragraph recall | pages with leaked junk | titles | "
             "metadata fields | reply facts |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for s in SYSTEMS:
            if s not in r:
                continue
            v = r[s]
            extra = " | ".join(f"{v[k][0]}/{v[k][1]}" if k in v and v[k][1] else "" for k in
                               ("titles", "metadata_fields", "reply_facts"))
            lines.append(f"| {r['set']} | {r['pages']} | {s} | {v['mean_f1']:.3f} | {v['min_f1']:.3f} | "
                         f"{v['paragraph_recall']:.3f} | {v['pages_with_leaks']} | {extra or ' | '} |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    verbose = "-v" in argv
    wanted = [a for a in argv if a in SETS] or list(SETS)
    results = [evaluate(n) for n in wanted]
    print(table(results))
    if verbose:
        for r in results:
            print(f"\n## {r['set']}")
            for row in r["detail"]:
                g, t, rd = row["govarchive"], row["trafilatura"], row["readability"]
                flag = "  <" if g[0] < max(t[0], rd[0]) - 0.02 or g[0] < 0.9 else ""
                print(f"{row['page'][:44]:44} ours {g[0]:.3f}/{g[1]:.2f}  traf {t[0]:.3f}/{t[1]:.2f}  "
                      f"read {rd[0]:.3f}/{rd[1]:.2f}{flag}")
                for k in ("title", "meta", "reply", "leak"):
                    if row.get(k):
                        print(f"    {k}: {row[k]}")


if __name__ == "__main__":
    main(sys.argv[1:])
