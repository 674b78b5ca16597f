"""Differences between two versions: paragraphs aligned, characters compared inside changed ones.

Chinese has no spaces, so word diffs are useless; we align paragraphs (lines) first, then diff
the characters of each replaced paragraph pair. Output as text, JSON or a self-contained
side-by-side HTML page in which every piece of document content is escaped.
"""
from __future__ import annotations

import json
from difflib import SequenceMatcher
from html import escape

FIELDS = ("title", "published_date", "metadata", "reply", "attachments")


def diff_versions(a: dict, b: dict) -> dict:
    """Structured diff of two version dicts (as Archive.version returns them)."""
    fields = []
    for f in FIELDS:
        x, y = a.get(f), b.get(f)
        if x == y:
            continue
        if isinstance(x, dict) and isinstance(y, dict):      # metadata, reply: one line per changed key
            for k in dict.fromkeys([*x, *y]):
                if x.get(k) != y.get(k):
                    fields.append({"field": f"{f}.{k}", "from": x.get(k), "to": y.get(k)})
        else:
            fields.append({"field": f, "from": x, "to": y})
    pa = _paras(a.get("text"))
    pb = _paras(b.get("text"))
    blocks = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, pa, pb, autojunk=False).get_opcodes():
        if op == "equal":
            blocks += [{"op": "equal", "from": p, "to": p} for p in pa[i1:i2]]
        elif op == "replace":
            for k in range(max(i2 - i1, j2 - j1)):
                x = pa[i1 + k] if i1 + k < i2 else None
                y = pb[j1 + k] if j1 + k < j2 else None
                if x is not None and y is not None:
                    blocks.append({"op": "replace", "from": x, "to": y, "chars": char_ops(x, y)})
                elif x is not None:
                    blocks.append({"op": "delete", "from": x, "to": None})
                else:
                    blocks.append({"op": "insert", "from": None, "to": y})
        elif op == "delete":
            blocks += [{"op": "delete", "from": p, "to": None} for p in pa[i1:i2]]
        else:
            blocks += [{"op": "insert", "from": None, "to": p} for p in pb[j1:j2]]
    return {"from_version": a.get("number"), "to_version": b.get("number"), "from_status": a.get("status"),
            "to_status": b.get("status"), "fields": fields, "paragraphs": blocks,
            "changed": bool(fields) or any(x["op"] != "equal" for x in blocks) or a.get("status") != b.get("status")}


def _paras(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split("\n") if p.strip()]


def char_ops(x: str, y: str) -> list[list]:
    """[[op, from_text, to_text]] for one paragraph pair, character level."""
    out = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, x, y, autojunk=False).get_opcodes():
        out.append([op, x[i1:i2], y[j1:j2]])
    return out


def as_text(d: dict, url: str = "") -> str:
    lines = [f"--- {url} version {d['from_version']} ({d['from_status']})",
             f"+++ {url} version {d['to_version']} ({d['to_status']})"]
    for f in d["fields"]:
        lines.append(f"~ {f['field']}: {_short(f['from'])} -> {_short(f['to'])}")
    for b in d["paragraphs"]:
        if b["op"] == "equal":
            continue
        if b["op"] == "delete":
            lines.append(f"- {b['from']}")
        elif b["op"] == "insert":
            lines.append(f"+ {b['to']}")
        else:
            inline = "".join(t if op == "equal" else (f"[-{t}-]" if t else "") + (f"{{+{u}+}}" if u else "")
                             for op, t, u in b["chars"])
            lines.append(f"~ {inline}")
    if not d["changed"]:
        lines.append("(no differences)")
    return "\n".join(lines) + "\n"


def _short(v) -> str:
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    return s if s is None or len(s) < 200 else s[:200] + "…"


def as_json(d: dict) -> str:
    return json.dumps(d, ensure_ascii=False, indent=1)


# Chinese text needs a CJK font; where none is installed every character is a box (Debian and
# Ubuntu: apt install fonts-noto-cjk).
FONTS = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
         '"WenQuanYi Micro Hei", sans-serif')
CSS = """body{font-family:""" + FONTS + """;margin:1.5em}table{border-collapse:collapse;width:100%;table-layout:fixed}
td{vertical-align:top;border-top:1px solid #ddd;padding:.4em;white-space:pre-wrap;word-break:break-all}
del{background:#fdd;text-decoration:line-through}ins{background:#dfd;text-decoration:none}
tr.delete td.a,tr.insert td.b{background:#fff4f4}tr.insert td.b{background:#f4fff4}th{text-align:left}
.fields td{font-size:.9em}"""


def as_html(d: dict, url: str = "") -> str:
    """Side-by-side page; all document content passes through html.escape."""
    title = escape(f"{url}: version {d['from_version']} → {d['to_version']}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title><style>{CSS}</style></head>"
            f"<body><h1>{title}</h1>{table_html(d)}</body></html>\n")


def table_html(d: dict) -> str:
    """The side-by-side table of a diff (for as_html and the datasette document pages)."""
    rows = []
    for f in d["fields"]:
        rows.append(f'<tr class="fields"><td>{escape(f["field"])}: {escape(_short(f["from"]) or "")}</td>'
                    f'<td>{escape(f["field"])}: {escape(_short(f["to"]) or "")}</td></tr>')
    for b in d["paragraphs"]:
        if b["op"] == "equal":
            rows.append(f'<tr class="equal"><td class="a">{escape(b["from"])}</td><td class="b">{escape(b["to"])}</td></tr>')
        elif b["op"] == "delete":
            rows.append(f'<tr class="delete"><td class="a"><del>{escape(b["from"])}</del></td><td class="b"></td></tr>')
        elif b["op"] == "insert":
            rows.append(f'<tr class="insert"><td class="a"></td><td class="b"><ins>{escape(b["to"])}</ins></td></tr>')
        else:
            left = "".join(escape(t) if op == "equal" else (f"<del>{escape(t)}</del>" if t else "") for op, t, _ in b["chars"])
            right = "".join(escape(u) if op == "equal" else (f"<ins>{escape(u)}</ins>" if u else "") for op, _, u in b["chars"])
            rows.append(f'<tr class="replace"><td class="a">{left}</td><td class="b">{right}</td></tr>')
    return (f'<table class="diff"><tr><th>version {escape(str(d["from_version"]))}</th>'
            f'<th>version {escape(str(d["to_version"]))}</th></tr>{"".join(rows)}</table>')


def summary(d: dict) -> str:
    """One line saying what changed: the fields, and how many paragraphs were added, removed, edited."""
    ops = [b["op"] for b in d["paragraphs"]]
    parts = [f"{n} paragraph{'s' if n > 1 else ''} {what}" for what, n in (
        ("edited", ops.count("replace")), ("added", ops.count("insert")), ("removed", ops.count("delete"))) if n]
    fields = [f["field"] for f in d["fields"]]
    return "; ".join(([f"changed: {', '.join(fields)}"] if fields else []) + parts) or "no differences"
