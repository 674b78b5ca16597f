"""The replica's world: portals, their documents in every epoch, list pages, robots.txt, manifest.

``build(epoch)`` returns every page served in that epoch; ``manifest()`` returns the gold that
tests and benchmarks check against. Both are deterministic. ``python -m seeds.replica.site
--write-manifest`` rewrites ``manifest.json`` beside this file.

Epoch 2 is a later state of the sites: some documents amended (a paragraph changed), some marked
此文件已失效 / 效力状态 废止, some removed (404 or 410), some new on the first list pages.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.utils import format_datetime
from datetime import datetime, timezone
import threading
from functools import cached_property, lru_cache
from urllib.parse import urljoin, urlsplit
from pathlib import Path

from . import content as C
from . import files
from . import templates as T

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"
EPOCHS = (1, 2)                       # the states the manifest describes
SERVED_EPOCHS = (1, 2, 3)             # 3: epoch 2 a season later (counters, more amendments): benchmarks
EPOCH_DATE = {1: "2026-06-01", 2: "2026-09-01", 3: "2026-11-01"}
META_KEYS = ("index_no", "doc_no", "issuer", "topic", "genre", "written_date", "published_date",
             "keywords", "validity")


@dataclass
class Doc:
    """One detail page of the replica and everything needed to render it in any epoch."""
    portal: str
    host: str
    scheme: str
    path: str
    channel: str
    kind: str                     # cppcc_reply | npc_reply | policy | other
    date: str
    title: str
    paragraphs: list[str]
    meta: dict
    reply: dict | None = None
    attachments: list[dict] = field(default_factory=list)
    template: str = "modern"
    encoding: str = "utf-8"
    views: int = 100
    seed: str | None = None
    mirror_of: str | None = None
    born: int = 1
    gone: tuple[int, int] | None = None      # (epoch, HTTP status)
    amended: int | None = None
    invalidated: int | None = None
    disallowed: bool = False                 # robots.txt forbids it
    render: object = None                    # callable(doc, state) -> str
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{self.path}"

    def state(self, epoch: int) -> dict | None:
        """What the page is in ``epoch``: None before it exists, else status, title, text, metadata."""
        if epoch < self.born:
            return None
        if self.gone and epoch >= self.gone[0]:
            return {"status": self.gone[1]}
        paras = list(self.paragraphs)
        title, meta = self.title, dict(self.meta)
        if self.amended and epoch >= self.amended:
            i = self.extra["amend_at"]
            paras[i] = paras[i] + self.extra["amend_text"]
        if self.invalidated and epoch >= self.invalidated:
            meta["validity"] = "invalid"
        return {"status": 200, "title": title, "paragraphs": paras, "meta": meta,
                "views": self.views + 37 * (epoch - 1)}


# --------------------------------------------------------------------------------------------
# Portals of the replica world (what the real sites are believed to look like).
# --------------------------------------------------------------------------------------------

PANJIN = dict(key="panjin", host="www.panjin.gov.cn", scheme="https", name="盘锦市人民政府",
              org="盘锦市人民政府办公室", code="2111000001")
STZ = dict(key="shuangtaizi", host="www.shuangtaizi.gov.cn", scheme="http", name="双台子区人民政府",
           org="双台子区人民政府", code="2111020001")   # [I] real host unknown (portals.md section 2)
CQ = dict(key="chongqing_kjj", host="kjj.cq.gov.cn", scheme="https", name="重庆市科学技术局")
LY = dict(key="linyi_kjj", host="kjj.linyi.gov.cn", scheme="http", name="临沂市科学技术局", code="3713000011")
FGW = dict(key="linyi_fgw", host="fgw.linyi.gov.cn", scheme="http", name="临沂市发展和改革委员会", code="3713000004")
HW = dict(key="suzhou_kjj", host="kjj.suzhou.gov.cn", scheme="https", name="苏州市科学技术局", code="3205000019",
          webid="52")     # a Hanweb portal added by configuration alone [I: host and columns not confirmed]

PANJIN_CHANNELS = [
    dict(id="2846", kind="cppcc_reply", year=2021, label="市政协提案答复", session="市政协八届四次会议"),
    dict(id="2847", kind="cppcc_reply", year=2020, label="市政协提案答复", session="市政协八届三次会议"),
    dict(id="2837", kind="npc_reply", year=2023, label="市人大代表建议答复", session="市九届人大二次会议"),
    dict(id="2838", kind="npc_reply", year=2022, label="市人大代表建议答复", session="市九届人大一次会议"),
    dict(id="1898", kind="policy", year=2019, label="市政府办文件", session=None),
]
STZ_CHANNELS = [
    dict(id="jyta", kind="npc_reply", year=2022, label="建议提案", session="区十届人大二次会议"),
    dict(id="zcwj", kind="policy", year=2021, label="政策文件", session=None),
]
CQ_CHANNELS = [
    dict(id="rddbjyblqkgk", kind="npc_reply", year=2022, label="人大代表建议办理情况公开", template="A",
         session="市五届人大五次会议", genre="人大建议办理"),
    dict(id="zxwytablqkgk", kind="cppcc_reply", year=2022, label="政协委员提案办理情况公开", template="A",
         session="市政协五届五次会议", genre="政协提案办理"),   # [I] path not confirmed
    dict(id="zcwj/xzgfxwj", kind="policy", year=2021, label="行政规范性文件", template="B",
         session=None, genre="规范性文件"),
]
LY_CHANNELS = [
    dict(id="1383", list="jyta/zxta", kind="cppcc_reply", year=2021, label="政协提案答复", session="市政协十五届五次会议"),
    dict(id="1382", list="jyta/rdjy", kind="npc_reply", year=2021, label="人大建议答复", session="市十九届人大五次会议"),  # [I]
    dict(id="1091", list="zcwj/zcwj", kind="policy", year=2022, label="政策文件", session=None),  # [I]
]
FGW_CHANNELS = [
    dict(id="1536", list="zcwj/zcwj", kind="policy", year=2022, label="政策文件", session=None),
    dict(id="1537", list="jyta/jyta", kind="npc_reply", year=2022, label="建议提案答复", session="市十九届人大六次会议"),  # [I]
]
HW_CHANNELS = [
    dict(id="6712", unit="43841", kind="policy", year=2022, label="政策文件", session=None),
    dict(id="6715", unit="43862", kind="npc_reply", year=2022, label="建议提案答复", session="市十七届人大二次会议"),
]
LY_NAV = [("/index.htm", "首页"), ("/jgzn.htm", "机构职能"), ("/zwgk.htm", "政务公开"), ("/zcwj/zcwj.htm", "政策文件"),
          ("/jyta/zxta.htm", "政协提案答复"), ("/jyta/rdjy.htm", "人大建议答复"), ("/kjdt.htm", "科技动态"),
          ("/tzgg.htm", "通知公告"), ("/bsfw.htm", "办事服务"), ("/hdjl.htm", "互动交流")]
MIRRORS = {"panjin": ["www.keihe.com", "xyexam.com"], "shuangtaizi": ["zkwjn.com", "www.fisiolando.com"]}
PAGE_SIZE = 10
PER_CHANNEL = 21          # with PAGE_SIZE 10: three list pages per channel


def _dates(rng: random.Random, year: int, n: int) -> list[str]:
    start = date(year, 3, 1)
    days = sorted(rng.sample(range(0, 290), n))
    return [(start + timedelta(days=d)).isoformat() for d in days]


def _number(rng: random.Random, width: int) -> str:
    return str(rng.randint(1, 10 ** width - 1)).zfill(width) if width > 2 else str(rng.randint(1, 320))


def _topic(rng):
    return rng.choice(C.TOPICS)


def _panjin_like(p: dict, ch: dict, rng: random.Random, dates: list[str], id0: int, subsite: bool) -> list[Doc]:
    docs = []
    for i, d in enumerate(dates):
        aid = id0 + i * rng.randint(3, 40)
        if subsite:
            hour = rng.randint(8, 17)
            path = f"/{d[:4]}_{d[5:7]}/{d[8:10]}_{hour:02d}/content-{aid}.html"
        else:
            path = f"/html/{ch['id']}/{d}/content-{aid}.html"
        topic = _topic(rng)
        meta = {k: None for k in META_KEYS}
        if ch["kind"] == "policy":
            seq = rng.randint(1, 120)
            issuer_full = p["org"] if not subsite else "双台子区人民政府办公室"
            prefix = "盘政办发" if not subsite else "双政办发"
            doc_no = f"{prefix}〔{d[:4]}〕{seq}号"
            letter = C.policy_text(rng, issuer=issuer_full, doc_no=doc_no, signed_iso=d,
                                   policy=rng.choice(C.POLICY_NAMES),
                                   addressees="各县、区人民政府,辽东湾新区管委会,市政府各部门、各直属机构:")
            if not subsite:        # subsite pages carry no metadata table
                meta.update(doc_no=doc_no, written_date=d)
            kind = "policy"
        else:
            num = _number(rng, 2 if rng.random() < 0.6 else 3)
            rkind = "cppcc_proposal" if ch["kind"] == "cppcc_reply" else "npc_suggestion"
            role = "委员" if rkind == "cppcc_proposal" else "代表"
            noun = "提案" if rkind == "cppcc_proposal" else "建议"
            full = topic[0]
            title = rng.choice([
                f"对{ch['session']}《关于{full}的{noun}》(第{num}号)的答复",
                f"{ch['session']}《关于{full}的{noun}》(第{num}号)的答复",
                f"对{ch['session']}《关于{full}的{noun}》第{num}号{noun}的答复",
            ])
            signer = rng.choice(["盘锦市科学技术局", "盘锦市工业和信息化局", "盘锦市财政局", "双台子区人民政府",
                                 "盘山县人民政府", "大洼区人民政府"]) if not subsite else rng.choice(
                ["双台子区科学技术局", "双台子区工业和信息化局", "双台子区财政局"])
            signed = (date.fromisoformat(d) - timedelta(days=rng.randint(10, 60))).isoformat()
            letter = C.reply_letter(rng, role=role, number=num, session=ch["session"], kind=rkind,
                                    signer=signer, signed_iso=signed, title=title, topic=topic,
                                    addressee=C.name(rng), salute=rng.choice(["尊敬的{name}{role}:", "{name}{role}:"]))
            kind = ch["kind"]
        if not subsite:
            meta.update(index_no=f"pjsrmzf-{d[:4]}-{rng.randint(1, 2000):06d}",
                        topic=f"{ch['year']}年" if kind != "policy" else ch["label"],
                        issuer="盘锦市政府", published_date=d)
        atts = []
        if kind == "policy" and rng.random() < 0.5:
            base = f"/uploadfiles/{d[:4]}/{d[5:7]}/{aid}"
            atts = [{"href": f"{base}_1.pdf", "name": f"附件1:{letter.title[:12]}政策解读.pdf"},
                    {"href": f"{base}_2.doc", "name": "附件2:申报表.doc"}]
        crumbs = (["首页", "政务公开", "建议提案", ch["label"], f"{ch['year']}年"] if kind != "policy"
                  else ["首页", "政务公开", "政府文件", "盘锦市", ch["label"]])
        if subsite:
            crumbs = [ch["label"]]
        docs.append(Doc(portal=p["key"], host=p["host"], scheme=p["scheme"], path=path, channel=ch["id"], kind=kind,
                        date=d, title=letter.title, paragraphs=letter.paragraphs, meta=meta, reply=letter.reply,
                        attachments=atts, views=rng.randint(40, 900), extra={"crumbs": crumbs, "site": p}))
    return docs


def _render_panjin(doc: Doc, st: dict) -> str:
    p = doc.extra["site"]
    title = st["title"]
    if st["meta"].get("validity") == "invalid" and doc.invalidated:
        title = "(此文件已失效)" + title
    atts = [dict(a, href=a["href"]) for a in doc.attachments]
    if doc.host == STZ["host"] or doc.extra.get("subsite"):
        return T.subsite_detail(site_name=p["name"], org=p["org"], site_code=p["code"], crumbs=doc.extra["crumbs"],
                                title=title, date=doc.date, views=st["views"], paragraphs=st["paragraphs"],
                                attachments=atts, rel=doc.extra.get("related", ()))
    paras, parts, part = st["paragraphs"], "", doc.extra.get("part", 1)
    if doc.extra.get("split"):         # P8 splits a long article: content-{id}.html, content-{id}-2.html
        cut = doc.extra["split"]
        paras = paras[:cut] if part == 1 else paras[cut:]
        parts = T.p8_parts(doc.path, part, 2)
    return T.panjin_detail(site_name=p["name"], org=p["org"], site_code=p["code"], crumbs=doc.extra["crumbs"],
                           title=title, meta=None if doc.extra.get("no_table") else st["meta"], date=doc.date, views=st["views"],
                           paragraphs=paras, attachments=atts if part == 1 else [], old=doc.template == "old",
                           charset="gb2312" if doc.encoding == "gbk" else "utf-8", rel=doc.extra.get("related", ()),
                           parts=parts)


def _split_articles(docs: list[Doc]) -> None:
    """Two Panjin reply letters are split over two pages, one of them amended in its second part."""
    mirrored = {id(d.extra["base"]) for d in docs if d.mirror_of and "base" in d.extra}
    letters = [d for d in docs if d.portal == "panjin" and d.template == "modern" and d.kind != "policy"
               and len(d.paragraphs) >= 6 and not d.gone and not d.disallowed and d.born == 1
               and not d.seed and id(d) not in mirrored]
    amended = next(d for d in letters if d.amended)
    plain = next(d for d in letters if not d.amended and not d.invalidated)
    amended.extra["split"] = max(1, amended.extra["amend_at"] - 1)     # the amendment lands in part 2
    plain.extra["split"] = len(plain.paragraphs) // 2


ATTACHMENT_FORMATS = ("pdf", "docx", "doc", "wps", "xls", "xlsx", "ofd")
PROJECTS = ("智能制造关键技术攻关", "盐碱地水稻育种", "海洋装备检测平台", "新材料中试基地", "数字乡村服务平台",
            "石化废水处理", "中小企业创新券", "科技特派员服务", "高新技术企业培育", "湿地生态修复")


def _attachment_files(docs: list[Doc]) -> None:
    """Every attachment gets a file to serve, the formats in turn: the existing policy attachments,
    and a third of the reply letters get one (the signed letter, or a table of its projects), in
    their portal's download URL scheme. One scanned PDF, one encrypted PDF and one broken file;
    two files change at epoch 2. Its own random stream: the pages drawn before stay as they were."""
    rng = random.Random("govarchive-replica-attachments")
    turn = 0
    by_url: dict[str, dict] = {}
    for d in docs:
        if d.mirror_of or d.seed:
            continue
        if d.kind != "policy" and d.born == 1 and rng.random() < 0.33:
            d.attachments = [{"href": _att_href(d, 1), "name": "答复函（盖章件）.pdf"}]
        for n, a in enumerate(d.attachments):
            if "fmt" in a:           # an epoch-2 copy of a page shares its source's attachments
                continue
            fmt = ATTACHMENT_FORMATS[turn % len(ATTACHMENT_FORMATS)]
            turn += 1
            a["name"] = re.sub(r"\.(pdf|docx?|wps|xlsx?|ofd)$", f".{fmt}", a["name"])
            a["href"] = re.sub(r"\.(pdf|docx?|wps|xlsx?|ofd)$", f".{fmt}", a["href"])
            a["fmt"], a["variant"] = fmt, ""
            rows = [f"{k + 1}\t{rng.choice(PROJECTS)}\t{C.name(rng)}\t{rng.randint(20, 900)}" for k in range(rng.randint(3, 8))]
            table = ["序号\t项目名称\t负责人\t经费（万元）"] + rows
            if fmt in ("xls", "xlsx"):
                a["lines"] = [a["name"].rsplit(".", 1)[0]] + table
            else:
                a["lines"] = [d.title] + d.paragraphs[:3] + table + [f"附件编号：{d.portal}-{d.channel}-{turn:04d}"]
            by_url[urljoin(d.url, a["href"])] = a
    pdfs = [a for a in by_url.values() if a["fmt"] == "pdf"]
    pdfs[0]["variant"], pdfs[1]["variant"] = "scan", "encrypted"
    next(a for a in by_url.values() if a["fmt"] == "docx")["variant"] = "broken"
    for fmt in ("pdf", "xlsx"):
        a = [a for a in by_url.values() if a["fmt"] == fmt and not a["variant"]][2]
        a["amend"] = (2, f"{EPOCH_DATE[2][:4]}年{len(a['lines'])}\t补充项目\t经复核新增\t{rng.randint(20, 90)}")


def attachment_lines(a: dict, epoch: int) -> list[str]:
    """The text an attachment file holds in ``epoch``."""
    amend = a.get("amend")
    return a["lines"] + [amend[1]] if amend and epoch >= amend[0] else a["lines"]


def _att_href(d: Doc, n: int) -> str:
    """An attachment URL in the portal's own download scheme [C for each family's pattern]."""
    aid = int(re.findall(r"\d+", d.path)[-1])
    if d.portal in ("panjin", "shuangtaizi"):
        return f"/uploadfiles/{d.date[:4]}/{d.date[5:7]}/{aid}_{n}.pdf"
    if d.portal == "chongqing_kjj":
        return f"./P0{d.date.replace('-', '')}{aid % 100000}{n}.pdf"
    if d.portal == HW["key"]:
        return f"/module/download/downfile.jsp?classid=0&filename={aid}{n}.pdf"
    return f"/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1164291239&wbfileid={aid * 7 + n}"


def part_path(doc: Doc, k: int) -> str:
    return doc.path[: -len(".html")] + f"-{k}.html"


def _cq_docs(rng: random.Random) -> list[Doc]:
    docs = []
    for ch in CQ_CHANNELS:
        for d in _dates(rng, ch["year"], PER_CHANNEL):
            docid = rng.randint(10_000_000, 16_000_000)
            path = f"/zwgk_176/zwxxgkml/{ch['id']}/{d[:4]}{d[5:7]}/t{d.replace('-', '')}_{docid}.html"
            meta = {k: None for k in META_KEYS}
            seq = rng.randint(1, 400)
            written = (date.fromisoformat(d) - timedelta(days=rng.randint(0, 40))).isoformat()
            if ch["kind"] == "policy":
                doc_no = f"渝科局发〔{d[:4]}〕{seq}号"
                letter = C.policy_text(rng, issuer="重庆市科学技术局", doc_no=doc_no, signed_iso=written,
                                       policy=rng.choice(C.POLICY_NAMES), addressees="各区县(自治县)科技主管部门,各有关单位:")
                atts = [{"href": f"./P0{d.replace('-', '')}{docid % 100000}.pdf", "name": f"{letter.title[:14]}.pdf"}] \
                    if rng.random() < 0.5 else []
            else:
                rkind = "cppcc_proposal" if ch["kind"] == "cppcc_reply" else "npc_suggestion"
                num = _number(rng, 4)
                noun = "提案" if rkind == "cppcc_proposal" else "建议"
                doc_no = f"渝科局函〔{d[:4]}〕{seq}号"
                title = f"重庆市科学技术局关于{ch['session']}第{num}号{noun}办理情况的答复函" if rng.random() < .5 else \
                    f"重庆市科学技术局关于{ch['session']}第{num}号{noun}的复函"
                letter = C.reply_letter(rng, role="委员" if noun == "提案" else "代表", number=num,
                                        session=ch["session"], kind=rkind, signer="重庆市科学技术局",
                                        signed_iso=written, title=title, topic=_topic(rng), addressee=C.name(rng),
                                        salute="{name}{role}:")
                atts = []
            meta.update(index_no=f"11500000MB15895317/{d[:4]}-{rng.randint(1, 999):05d}", doc_no=doc_no,
                        topic=rng.choice(["科技、教育", "科技", "科技、教育\\科技"]), genre=ch["genre"],
                        issuer="市科技局", written_date=written, published_date=d)
            docs.append(Doc(portal="chongqing_kjj", host=CQ["host"], scheme=CQ["scheme"], path=path, channel=ch["id"],
                            kind=ch["kind"], date=d, title=letter.title, paragraphs=letter.paragraphs, meta=meta,
                            reply=letter.reply, attachments=atts, render=_render_cq,
                            extra={"crumbs": ["首页", "政务公开", "政府信息公开目录", ch["label"]], "label": ch["label"]}))
    return docs


def _render_cq(doc: Doc, st: dict) -> str:
    meta = dict(st["meta"])
    title = st["title"]
    if meta.get("validity") == "invalid" and doc.invalidated:
        title = "(此文件已失效)" + title
    return T.cq_detail(crumbs=doc.extra["crumbs"], title=title, meta=meta, date=doc.date,
                       paragraphs=st["paragraphs"], attachments=doc.attachments, column=doc.extra["label"],
                       rel=doc.extra.get("related", ()))


def _vsb_docs(rng: random.Random, p: dict, channels: list[dict], signer: str, short: str) -> list[Doc]:
    docs = []
    for ch in channels:
        art = rng.randint(5000, 7000)
        for d in _dates(rng, ch["year"], PER_CHANNEL):
            art += rng.randint(1, 30)
            path = f"/info/{ch['id']}/{art}.htm"
            meta = {k: None for k in META_KEYS}
            if ch["kind"] == "policy":
                doc_no = f"临{short}发〔{d[:4]}〕{rng.randint(1, 60)}号"
                letter = C.policy_text(rng, issuer=signer, doc_no=doc_no, signed_iso=d,
                                       policy=rng.choice(C.POLICY_NAMES), addressees="各县区科技主管部门,市直有关部门:")
                meta.update(doc_no=doc_no, validity="valid", written_date=d)
                atts = [{"href": f"/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1164291239&wbfileid={art * 7}",
                         "name": f"{letter.title[:10]}.pdf"}] if rng.random() < 0.5 else []
            else:
                rkind = "cppcc_proposal" if ch["kind"] == "cppcc_reply" else "npc_suggestion"
                num = _number(rng, 3 if rng.random() < .3 else 2)
                noun = "提案" if rkind == "cppcc_proposal" else "建议"
                topic = _topic(rng)
                title = f"对{ch['session']}第{num}号{noun}《关于{topic[0]}的建议》答复的函"
                letter = C.reply_letter(rng, role="委员" if noun == "提案" else "代表", number=num,
                                        session=ch["session"], kind=rkind, signer=signer, signed_iso=d, title=title,
                                        topic=topic, addressee=C.name(rng), salute="{name}{role}:")
                atts = []
            meta.update(index_no=f"1342804570/{short}/{d[:4]}-{rng.randint(1, 999):07d}", issuer=signer,
                        published_date=d)
            docs.append(Doc(portal=p["key"], host=p["host"], scheme=p["scheme"], path=path, channel=ch["id"],
                            kind=ch["kind"], date=d, title=letter.title, paragraphs=letter.paragraphs, meta=meta,
                            reply=letter.reply, attachments=atts, render=_render_vsb,
                            extra={"site": p, "label": ch["label"], "art": art, "show_validity": ch["kind"] == "policy"}))
    return docs


VALIDITY_TEXT = {"invalid": "废止", "valid": "有效"}      # the 效力状态/有效性 cell of VSB and Hanweb pages


def _hanweb_docs(rng: random.Random) -> list[Doc]:
    """Hanweb portal documents: same letters and policies as the VSB sites, Hanweb URLs and template."""
    docs = _vsb_docs(rng, HW, HW_CHANNELS, "苏州市科学技术局", "szkj")
    for d in docs:
        d.path = _hanweb_path(d.channel, d.date, d.extra["art"])
        d.render = _render_hanweb
        d.attachments = [dict(a, href=f"/module/download/downfile.jsp?classid=0&filename={d.extra['art']}.pdf")
                         for a in d.attachments]
    return docs


def _hanweb_path(col: str, day: str, aid: int) -> str:
    y, m, dd = day.split("-")
    return f"/art/{y}/{int(m)}/{int(dd)}/art_{col}_{aid}.html"


def _render_hanweb(doc: Doc, st: dict) -> str:
    meta = dict(st["meta"], validity_text=VALIDITY_TEXT.get(st["meta"].get("validity") or "", ""))
    return T.hanweb_detail(site_name=HW["name"], label=doc.extra["label"], title=st["title"], meta=meta,
                           date=doc.date, paragraphs=st["paragraphs"], attachments=doc.attachments)


def _render_vsb(doc: Doc, st: dict) -> str:
    p = doc.extra["site"]
    meta = dict(st["meta"])
    meta["validity_text"] = VALIDITY_TEXT.get(meta.get("validity") or "", "")
    nav = LY_NAV
    return T.vsb_detail(site_name=p["name"], site_code=p["code"], nav=nav, crumbs=[doc.extra["label"]],
                        title=st["title"], meta=meta, date=doc.date, author=p["name"][3:], paragraphs=st["paragraphs"],
                        attachments=doc.attachments, prev=doc.extra.get("prev"), next_=doc.extra.get("next"),
                        ids=(doc.channel, str(doc.extra["art"])), show_validity=doc.extra["show_validity"],
                        rel=doc.extra.get("related", ()))


# --------------------------------------------------------------------------------------------
# Mirrors: traditional script, pinyin, keyword spam, hidden link farms (portals.md section 6)
# --------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _pinyin_table() -> dict[str, str]:
    """Character -> pinyin pairs, harvested from the seeds' own mirror junk."""
    text = "".join(p.read_text(encoding="utf-8") for p in HERE.parent.glob("00*.txt"))
    return dict(re.findall(r"([\u4e00-\u9fff])\(([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+)\)", text))


@lru_cache(maxsize=1)
def _s2t():
    import opencc
    return opencc.OpenCC("s2t")


def mirrorize(html: str, rng: random.Random, pinyin: bool) -> str:
    """Turn an official page into a spam-mirror copy of it."""
    html = _s2t().convert(html)
    if pinyin:
        table = _pinyin_table()
        out, in_tag = [], False
        for ch in html:
            out.append(ch)
            if ch == "<":
                in_tag = True
            elif ch == ">":
                in_tag = False
            elif not in_tag and ch in table and rng.random() < 0.6:
                out.append(f"({table[ch]})")
        html = "".join(out)
    rid = C.random_id(rng)
    cls = C.random_id(rng)
    farm = "".join(f'<a href="http://{C.random_id(rng)}.com/">{C.spam_line(rng)[:12]}</a>' for _ in range(12))
    tag = rng.choice(["sup", "blockquote", "ul"])
    top = (f'<{tag} id="{rid}"></{tag}>'
           f'<ol><li><strike id="{rid}"><small id="{rid}"></small></strike></li></ol>'
           f'<div style="display:none">{farm}</div>'
           f'<div class="{cls}">{farm}</div>'
           f'<marquee width="1" height="1">{C.spam_line(rng)}</marquee>'
           f'<p>{C.spam_line(rng)}</p>')
    html = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + top, html, count=1)
    html = html.replace("</head>", f"<style>.{cls}{{display:none}}</style></head>", 1)
    # a spam line between two paragraphs inside the content container
    paras = [m.start() for m in re.finditer(r"<p style=", html)]
    if len(paras) > 3:
        at = paras[len(paras) // 2]
        html = html[:at] + f"<p>{C.spam_line(rng)}</p>" + html[at:]
    tail = (f'<div hidden>{farm}</div><div style="position:absolute;left:-9999px;top:-9999px">{farm}</div>'
            f'<p>{C.spam_line(rng)}</p><div class="spider">{C.spider_pool_footer(rng)}</div>'
            f'<sup id="{rid}"></sup>')
    return html.replace("</body>", tail + "</body>", 1)


def _mirror_docs(official: list[Doc], rng: random.Random) -> list[Doc]:
    out = []
    for portal, hosts in MIRRORS.items():
        pool = [d for d in official if d.portal == portal and d.born == 1 and not d.gone and not d.amended
                and not d.invalidated and not d.disallowed and d.seed is None and d.encoding == "utf-8" and d.template == "modern"]
        for host in hosts:
            d = rng.choice(pool)
            pool.remove(d)
            m = Doc(**{**d.__dict__, "host": host, "scheme": "http", "mirror_of": d.url, "render": None,
                       "extra": dict(d.extra, pinyin=host != "xyexam.com", base=d)})
            m.portal = "mirror"
            out.append(m)
    return out


# --------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def documents(scale: int = 0) -> tuple[Doc, ...]:
    """Every document of the replica. ``scale`` > 0 adds generated documents up to that many pages."""
    from . import seedpages
    rng = random.Random("govarchive-replica-1")
    docs: list[Doc] = []
    for ch in PANJIN_CHANNELS:
        docs += _panjin_like(PANJIN, ch, rng, _dates(rng, ch["year"], PER_CHANNEL), 80000 + 4000 * len(docs) // 21, False)
    for ch in STZ_CHANNELS:
        docs += _panjin_like(STZ, ch, rng, _dates(rng, ch["year"], PER_CHANNEL), 380000 + 3000 * len(docs) // 21, True)
    for d in docs:
        if d.host == STZ["host"]:
            d.extra["subsite"] = True
    docs += _cq_docs(rng)
    docs += _vsb_docs(rng, LY, LY_CHANNELS, "临沂市科学技术局", "kxjsj")
    docs += _vsb_docs(rng, FGW, FGW_CHANNELS, "临沂市发展和改革委员会", "fgw")
    docs += _hanweb_docs(random.Random("govarchive-replica-hanweb"))     # its own stream: the others stay as they were
    _old_templates(docs, rng)
    _epoch_changes(docs, rng)
    docs += seedpages.seed_docs()
    docs += _mirror_docs(docs, rng)
    _split_articles(docs)
    _attachment_files(docs)
    if scale:
        docs += _scaled(docs, scale)
    _link_neighbours(docs)
    return tuple(docs)


def _old_templates(docs: list[Doc], rng: random.Random) -> None:
    """Older Panjin policy pages use the 2010-2017 template; one of them is GBK-encoded."""
    policy = [d for d in docs if d.portal == "panjin" and d.kind == "policy"]
    for n, d in enumerate(policy[:4]):
        old = date(2012 + n, 5, 10 + n).isoformat()
        d.date = old
        d.meta.update(published_date=old, written_date=old, index_no=None,
                      doc_no=d.meta["doc_no"].replace(d.meta["doc_no"][5:9], old[:4]))
        d.path = f"/html/{d.channel}/{old}/content-{60000 + n * 17}.html"
        d.template = "old"
        d.extra["crumbs"] = ["首页", "政务公开", "政府文件", "盘锦市", "市政府办文件"]
    policy[0].encoding = "gbk"


def _epoch_changes(docs: list[Doc], rng: random.Random) -> None:
    """Per portal: 2 amended, 1 invalidated policy, a 404 and a 410, 2 new, 1 robots-disallowed."""
    by_portal: dict[str, list[Doc]] = {}
    for d in docs:
        by_portal.setdefault(d.portal, []).append(d)
    for portal, ds in by_portal.items():
        pool = [d for d in ds if d.template == "modern"]
        picks = rng.sample(pool, 6)
        for d in picks[:2]:
            d.amended = 2
            d.extra["amend_at"] = min(3, len(d.paragraphs) - 3)
            d.extra["amend_text"] = f"(经复核,相关数据已更新,截至{EPOCH_DATE[2][:4]}年6月底累计完成{rng.randint(20, 90)}项。)"
        policies = [d for d in pool if d.kind == "policy" and d not in picks]
        policies[0].invalidated = 2
        picks[2].gone = (2, 404)
        picks[3].gone = (2, 410)
        picks[4].disallowed = True
        # two new documents: newest dates, so they land on the first list page
        for k, src in enumerate((picks[5], ds[-1])):
            newest = max(x.date for x in ds if x.channel == src.channel)
            nd = (date.fromisoformat(newest) + timedelta(days=3 + k)).isoformat()
            meta = dict(src.meta, published_date=nd) if src.meta.get("published_date") else dict(src.meta)
            clone = Doc(**{**src.__dict__, "meta": meta, "date": nd,
                           "title": src.title.replace("关于", "关于进一步", 1), "born": 2, "amended": None,
                           "gone": None, "invalidated": None, "disallowed": False, "extra": dict(src.extra)})
            clone.path = _new_path(src, nd, k)
            if clone.portal in ("linyi_kjj", "linyi_fgw", HW["key"]):
                clone.extra["art"] = int(re.findall(r"\d+", clone.path.rsplit("/", 1)[1])[-1])
            docs.append(clone)


def _new_path(src: Doc, day: str, k: int) -> str:
    """Where a new document of ``src``'s channel, published on ``day``, lives."""
    if src.portal == "panjin":
        aid = 200000 + k + int(re.search(r"(\d+)\.html", src.path).group(1)) % 1000
    else:
        aid = {"shuangtaizi": 500000, "chongqing_kjj": 17000000}.get(src.portal, 9000) + k
    return _path(src, day, aid, "09")


def _path(src: Doc, day: str, aid: int, hour: str) -> str:
    """A detail path in ``src``'s portal URL scheme for article ``aid`` published on ``day``."""
    if src.portal == "panjin":
        return f"/html/{src.channel}/{day}/content-{aid}.html"
    if src.portal == "shuangtaizi":
        return f"/{day[:4]}_{day[5:7]}/{day[8:10]}_{hour}/content-{aid}.html"
    if src.portal == "chongqing_kjj":
        return f"/zwgk_176/zwxxgkml/{src.channel}/{day[:4]}{day[5:7]}/t{day.replace('-', '')}_{aid}.html"
    if src.portal == HW["key"]:
        return _hanweb_path(src.channel, day, aid)
    return f"/info/{src.channel}/{aid}.htm"


def _link_neighbours(docs) -> None:
    """Related-document lists on every page; VSB pages also carry 上一条 / 下一条 [C]."""
    chans: dict[tuple, list[Doc]] = {}
    for d in docs:
        if not d.mirror_of and d.born == 1:
            chans.setdefault((d.host, d.channel), []).append(d)
    for ds in chans.values():
        ds.sort(key=lambda d: d.date, reverse=True)
        for i, d in enumerate(ds):
            d.extra["related"] = [(x.path, x.title) for x in (ds[i + 1:i + 4] + ds[max(0, i - 2):i])][:4]
    cols: dict[tuple, list[Doc]] = {}
    for d in docs:
        if d.render is _render_vsb and d.born == 1:
            cols.setdefault((d.host, d.channel), []).append(d)
    for ds in cols.values():
        ds.sort(key=lambda d: d.date, reverse=True)
        for i, d in enumerate(ds):
            if i > 0:
                d.extra["prev"] = (f"../../info/{ds[i - 1].channel}/{ds[i - 1].extra['art']}.htm", ds[i - 1].title)
            if i + 1 < len(ds):
                d.extra["next"] = (f"../../info/{ds[i + 1].channel}/{ds[i + 1].extra['art']}.htm", ds[i + 1].title)


def _scaled(docs: list[Doc], scale: int) -> list[Doc]:
    """Extra documents for benchmarks: copies of official pages with fresh text, same markup."""
    rng = random.Random(f"govarchive-scale-{scale}")
    base = [d for d in docs if d.portal != "mirror" and d.seed is None and d.born == 1 and d.template == "modern"
            and not d.disallowed]
    out = []
    n = 0
    while len(docs) + len(out) < scale:
        src = base[n % len(base)]
        n += 1
        topic = rng.choice(C.TOPICS)
        paras = [C._fill(rng, s, topic[1], int(src.date[:4])) for s in rng.sample(C.FACTS, 8)]
        wave = rng.random()
        d = Doc(**{**src.__dict__, "paragraphs": src.paragraphs[:2] + paras + src.paragraphs[-2:],
                   "title": src.title + f"({n})", "amended": 2 if wave < 0.05 else (3 if wave < 0.10 else None),
                   "gone": None, "invalidated": None, "extra": dict(src.extra)})
        d.extra.update(amend_at=4, amend_text=f"(经复核,数据更新为{rng.randint(10, 99)}项。)")
        d.path = _scaled_path(src, n)
        if "art" in d.extra:
            d.extra["art"] = 100000 + n
        out.append(d)
    return out


def _scaled_path(src: Doc, n: int) -> str:
    ids = {"panjin": 1000000 + n, "shuangtaizi": 2000000 + n, "chongqing_kjj": 30000000 + n}
    return _path(src, src.date, ids.get(src.portal, 100000 + n), "10")


# --------------------------------------------------------------------------------------------
# Pages of an epoch
# --------------------------------------------------------------------------------------------

@dataclass
class Page:
    status: int
    body: bytes
    content_type: str
    last_modified: str = ""
    etag: str = ""


def _http_date(iso: str) -> str:
    d = datetime.fromisoformat(iso).replace(hour=8, tzinfo=timezone.utc)
    return format_datetime(d, usegmt=True)


def render(doc: Doc, epoch: int) -> Page | None:
    st = doc.state(epoch)
    if st is None:
        return None
    if st["status"] != 200:
        return Page(st["status"], f"<html><body><h1>{st['status']}</h1></body></html>".encode(), "text/html; charset=utf-8")
    if doc.extra.get("html"):          # a seed page, served as captured
        html = doc.extra["html"]
    elif doc.mirror_of:
        base = doc.extra["base"]
        html = mirrorize(render_html(base, base.state(epoch)), random.Random(doc.url), doc.extra.get("pinyin", True))
    else:
        html = render_html(doc, st)
    body = html.encode(doc.encoding, errors="strict")
    charset = "gb2312" if doc.encoding == "gbk" else "utf-8"
    changed = doc.amended == epoch or doc.invalidated == epoch or epoch > 1
    lm = EPOCH_DATE[epoch] if changed else doc.date
    return Page(200, body, f"text/html; charset={charset}", _http_date(lm),
                '"' + hashlib.sha1(body).hexdigest()[:16] + '"')


def render_html(doc: Doc, st: dict) -> str:
    return (doc.render or _render_panjin)(doc, st)


# Pager markup the replica can draw, per family (templates.p8_pager, trs_pager, vsb_pager): the
# served set is chosen with --pagers or the control API. "default" is the replica's own; the
# others are the real CMS variants, each list page also carrying a side box of another channel.
PAGERS = {
    "default": {"p8": "default", "trs": "default", "vsb": "default"},
    "alt": {"p8": "p8_template_2", "trs": "trs_createpagehtml", "vsb": "vsb_fanye"},
    "alt2": {"p8": "p8_base", "trs": "trs_recordcount", "vsb": "default"},
    "loop": {"p8": "loop", "trs": "default", "vsb": "default"},
}


def _list_pages(docs: list[Doc], epoch: int, pagers: str = "default") -> dict[tuple[str, str], str]:
    """List pages of every channel: newest first, PAGE_SIZE per page, each family's pagination."""
    pages: dict[tuple[str, str], str] = {}
    chans: dict[tuple[str, str], list[Doc]] = {}
    variant = PAGERS[pagers]
    for d in docs:
        st = d.state(epoch)
        if d.mirror_of or st is None or st["status"] != 200:
            continue
        chans.setdefault((d.portal, d.channel), []).append(d)

    def side(portal, ch):       # two documents of another channel of the portal, linked from a side box
        if pagers == "default":
            return []
        other = next((v for (p, c), v in chans.items() if p == portal and c != ch), [])
        return [("/" + x.path.lstrip("/"), _list_title(x, epoch)) for x in other[:2]]

    for (portal, ch), ds in chans.items():
        ds.sort(key=lambda d: (d.date, d.path), reverse=True)
        chunks = [ds[i:i + PAGE_SIZE] for i in range(0, len(ds), PAGE_SIZE)]
        n = len(chunks)
        d0 = ds[0]
        if portal in ("panjin", "shuangtaizi"):
            p = PANJIN if portal == "panjin" else STZ
            root = f"/html/{ch}/" if portal == "panjin" else f"/{ch}/"   # [I] no public list URL
            url = lambda k, root=root: root if k == 1 else f"{root}index_{k}.html"
            label = d0.extra["crumbs"][-2 if d0.kind != "policy" and portal == "panjin" else -1]
            for k, chunk in enumerate(chunks, 1):
                items = [(x.path, _list_title(x, epoch), x.date) for x in chunk]
                pages[(p["host"], url(k))] = T.panjin_list(site_name=p["name"], org=p["org"], site_code=p["code"],
                                                           heading=label, items=items, page=k, pages=n, page_url=url,
                                                           variant=variant["p8"], side=side(portal, ch))
        elif portal == "chongqing_kjj":
            chd = next(c for c in CQ_CHANNELS if c["id"] == ch)
            root = f"/zwgk_176/zwxxgkml/{ch}/"
            for k, chunk in enumerate(chunks, 1):
                items = [{"href": "./" + x.path[len(root):], "title": _list_title(x, epoch), "date": x.date,
                          "doc_no": x.meta.get("doc_no"), "written": x.meta.get("written_date")} for x in chunk]
                name = "index.html" if k == 1 else f"index_{k - 1}.html"
                pages[(CQ["host"], root + name)] = T.cq_list(heading=chd["label"], crumbs=d0.extra["crumbs"],
                                                             items=items, page=k, pages=n, template=chd["template"],
                                                             variant=variant["trs"], total=len(ds),
                                                             side=side(portal, ch))
        elif portal == HW["key"]:
            chd = next(c for c in HW_CHANNELS if c["id"] == ch)
            recs = [[(x.path, _list_title(x, epoch), x.date) for x in chunk] for chunk in chunks]
            pages[(HW["host"], f"/col/col{ch}/index.html")] = T.hanweb_list(
                site_name=HW["name"], heading=chd["label"], records=recs[0], total=len(ds), per_page=PAGE_SIZE,
                col=ch, unit=chd["unit"], webid=HW["webid"])
            for k in range(2, n + 1):
                path = (f"/module/web/jpage/dataproxy.jsp?page={k}&appid=1&webid={HW['webid']}&path=/&columnid={ch}"
                        f"&unitid={chd['unit']}&permissiontype=0")
                pages[(HW["host"], path)] = T.hanweb_dataproxy(recs[k - 1], len(ds), n)
        else:
            p = LY if portal == "linyi_kjj" else FGW
            chd = next(c for c in (LY_CHANNELS if portal == "linyi_kjj" else FGW_CHANNELS) if c["id"] == ch)
            lst = chd["list"]
            col = lst.split("/")[1]

            def href(k, n=n, lst=lst):
                return f"/{lst}.htm" if k == 1 else f"/{lst}/{n - k + 1}.htm"

            for k, chunk in enumerate(chunks, 1):
                depth = "../" if k == 1 else "../../"
                items = [(f"{depth}info/{x.channel}/{x.extra['art']}.htm", _list_title(x, epoch), x.date) for x in chunk]
                pages[(p["host"], href(k))] = T.vsb_list(site_name=p["name"], site_code=p["code"], nav=LY_NAV,
                                                         heading=chd["label"], items=items, page=k, pages=n,
                                                         total=len(ds), page_href=_vsb_rel(k, n, col),
                                                         variant=variant["vsb"], side=side(portal, ch))
    return pages


def _vsb_rel(k: int, n: int, col: str):
    """Relative pager hrefs as VSB writes them, from page k's own location."""
    def rel(j: int) -> str:
        target = f"{col}.htm" if j == 1 else f"{col}/{n - j + 1}.htm"
        return target if k == 1 else "../" + target
    return rel


def _list_title(d: Doc, epoch: int) -> str:
    st = d.state(epoch)
    if st["meta"].get("validity") == "invalid" and d.invalidated and d.render is not _render_vsb:
        return "(此文件已失效)" + st["title"]
    return st["title"]


ROBOTS = {
    PANJIN["host"]: ["/search/"],
    STZ["host"]: ["/search/"],
    CQ["host"]: ["/igs/"],
    LY["host"]: ["/system/resource/"],          # VSB's search; its downloads live in /system/_content/
    FGW["host"]: ["/system/resource/"],
    HW["host"]: ["/module/search/"],
}


def robots_rules(docs) -> dict[str, list[str]]:
    """Each portal forbids its search and one detail page that the spiders must never fetch."""
    rules = {h: list(rs) for h, rs in ROBOTS.items()}
    for d in docs:
        if d.disallowed and d.host in rules:
            rules[d.host].append(d.path)
    return rules


# Synthetic portals (--portals N), for tests and benchmarks at scale: portal k copies one real
# portal of the replica, the CMS families in turn, onto a host of its own. Their crawler entries
# are generated (portal_entries), never written by hand.
SYNTHETIC_SOURCES = (   # (source portal, family, list paths and kinds as its crawler entry gives them)
    (LY, "vsb", [(f"/{c['list']}.htm", c["kind"]) for c in LY_CHANNELS]),
    (CQ, "trs_wcm", [(f"/zwgk_176/zwxxgkml/{c['id']}/index.html", c["kind"]) for c in CQ_CHANNELS]),
    (STZ, "panjin_subsite", [(f"/{c['id']}/", c["kind"]) for c in STZ_CHANNELS]),
    (HW, "hanweb", [(f"/col/col{c['id']}/index.html", c["kind"]) for c in HW_CHANNELS]),
)


def synthetic(n: int) -> list[dict]:
    """The ``n`` synthetic portals: key, source portal, host, scheme, family, lists."""
    out = []
    for k in range(1, n + 1):
        src, family, lists = SYNTHETIC_SOURCES[(k - 1) % len(SYNTHETIC_SOURCES)]
        out.append({"key": f"city{k:03d}_{src['key']}", "source": src, "family": family, "lists": lists,
                    "host": f"{src['host'].split('.')[0]}.city{k:03d}.gov.cn", "scheme": src["scheme"]})
    return out


def portal_entries(n: int) -> str:
    """The crawler's [portals.*] entries of the ``n`` synthetic portals (GOVARCHIVE_PORTALS)."""
    out = ["# Generated by `govarchive replica --portals N --write-portals FILE`: the replica's synthetic portals."]
    for p in synthetic(n):
        lists = ",\n".join(f'  {{ path = "{path}", kind = "{kind}" }}' for path, kind in p["lists"])
        out.append(f'\n[portals.{p["key"]}]\nfamily = "{p["family"]}"\nname = "{p["source"]["name"]}（{p["key"]}）"\n'
                   f'base = "{p["scheme"]}://{p["host"]}"\nlists = [\n{lists},\n]')
    return "\n".join(out) + "\n"


@lru_cache(maxsize=8)
def build(epoch: int = 1, scale: int = 0, pagers: str = "default", portals: int = 0) -> dict[tuple[str, str], Page]:
    """Every (host, path) -> Page of the replica in ``epoch``, list pages with ``pagers``' markup;
    ``portals``: that many synthetic portals too, each a copy of a real one on its own host."""
    if portals:
        pages = dict(build(epoch, scale, pagers))
        for p in synthetic(portals):
            pages.update({(p["host"], path): page for (host, path), page in list(pages.items())
                          if host == p["source"]["host"]})
        return pages
    docs = documents(scale)
    pages: dict[tuple[str, str], Page] = {}
    for d in docs:
        page = render(d, epoch)
        if page is not None:
            pages[(d.host, d.path)] = page
            if d.extra.get("split") and page.status == 200:
                part = Doc(**{**d.__dict__, "extra": dict(d.extra, part=2)})
                pages[(d.host, part_path(d, 2))] = render(part, epoch)
            for a in d.attachments if page.status == 200 else ():
                u = urlsplit(urljoin(d.url, a["href"]))
                pages[(u.hostname, u.path + (f"?{u.query}" if u.query else ""))] = FilePage(a, epoch)
    for key, html in _list_pages(list(docs), epoch, pagers).items():
        body = html.encode("utf-8")
        ctype = "text/xml; charset=utf-8" if "dataproxy.jsp" in key[1] else "text/html; charset=utf-8"
        pages[key] = Page(200, body, ctype, _http_date(EPOCH_DATE[epoch]),
                          '"' + hashlib.sha1(body).hexdigest()[:16] + '"')
    hosts = {d.host for d in docs}
    rules = robots_rules(docs)
    for h in hosts:
        pages[(h, "/robots.txt")] = Page(200, T.robots(rules.get(h, [])).encode(), "text/plain")
    return pages


class FilePage:
    """An attachment file, written when first asked for (a PDF or DOCX takes milliseconds, the
    DOC and WPS files of an epoch one LibreOffice run together)."""
    status = 200

    def __init__(self, a: dict, epoch: int):
        self.a, self.epoch = a, epoch
        self.content_type = files.CONTENT_TYPES[a["fmt"]]
        amended = a.get("amend") and epoch >= a["amend"][0]
        self.last_modified = _http_date(EPOCH_DATE[a["amend"][0]] if amended else EPOCH_DATE[1])

    @cached_property
    def body(self) -> bytes:
        a = self.a
        if a["fmt"] in ("doc", "wps") and not a["variant"]:
            return _word97_files(self.epoch)[a["href"]]
        return files.make(a["fmt"], a["name"].rsplit(".", 1)[0], attachment_lines(a, self.epoch), a["variant"])

    @cached_property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


_WORD97 = threading.Lock()


@lru_cache(maxsize=4)
def _word97_files(epoch: int) -> dict[str, bytes]:
    """Every DOC and WPS attachment of ``epoch`` (href -> bytes), in one LibreOffice run."""
    with _WORD97:
        atts = {a["href"]: a for d in documents(0) for a in d.attachments
                if a.get("fmt") in ("doc", "wps") and not a["variant"]}
        made = files.word97([(a["name"].rsplit(".", 1)[0], attachment_lines(a, epoch)) for a in atts.values()])
        return dict(zip(atts, made))


def attachments(epoch: int) -> dict[str, dict]:
    """URL -> the attachment (format, variant, lines) of every page that exists in ``epoch``."""
    out = {}
    for d in documents(0):
        st = d.state(epoch)
        if st and st["status"] == 200 and not d.mirror_of:
            for a in d.attachments:
                out.setdefault(urljoin(d.url, a["href"]), a)
    return out


# --------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------

def abs_attachments(d: Doc) -> list[dict]:
    return [{"url": urljoin(d.url, a["href"]), "name": a["name"]} for a in d.attachments]


def gold(d: Doc, epoch: int) -> dict | None:
    st = d.state(epoch)
    if st is None:
        return None
    if st["status"] != 200:
        return {"status": st["status"]}
    meta = {k: st["meta"].get(k) for k in META_KEYS}
    return {"status": 200, "title": st["title"], "text": "\n".join(st["paragraphs"]), "metadata": meta,
            "reply": d.reply, "attachments": abs_attachments(d),
            "published_date": d.extra.get("published_date", meta.get("published_date") or d.date)}


def manifest() -> dict:
    docs = documents(0)
    out = []
    for d in docs:
        change = None
        if d.born == 2:
            change = "new"
        elif d.gone:
            change = "removed"
        elif d.amended:
            change = "amended"
        elif d.invalidated == 2:
            change = "invalidated"
        out.append({
            "url": d.url, "portal": d.portal, "channel": d.channel, "kind": d.kind, "seed": d.seed,
            "mirror_of": d.mirror_of, "encoding": d.encoding, "template": d.template,
            "script": "traditional" if d.mirror_of else "simplified",
            "robots_disallowed": d.disallowed, "change_in_epoch_2": change,
            "epochs": {str(e): gold(d, e) for e in EPOCHS},
        })
    files_gold = {}
    for e in EPOCHS:
        for url, a in attachments(e).items():
            g = files_gold.setdefault(url, {"url": url, "format": a["fmt"], "variant": a["variant"] or None,
                                            "change_in_epoch_2": "amended" if a.get("amend") else None,
                                            "parents": [], "epochs": {}})
            g["epochs"][str(e)] = "\n".join(attachment_lines(a, e))
    for d in docs:
        for a in d.attachments if not d.mirror_of else ():
            url = urljoin(d.url, a["href"])
            if url in files_gold and d.url not in files_gold[url]["parents"]:
                files_gold[url]["parents"].append(d.url)
    return {"description": "Every detail page of the replica with its gold, per epoch, and every attachment file "
                           "with the text it was written from. Generated by seeds/replica/site.py.",
            "epochs": list(EPOCHS), "documents": out, "attachments": list(files_gold.values())}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--write-manifest", action="store_true")
    args = ap.parse_args(argv)
    if args.write_manifest:
        MANIFEST.write_text(json.dumps(manifest(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MANIFEST}")


if __name__ == "__main__":
    main()
