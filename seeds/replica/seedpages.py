"""The five seed captures as replica documents.

The seeds are text captures of real pages. Mirror captures (000, 001, 002) are served on mirror
hosts as captured: their lines go into HTML of the same shape, junk tags as real tags, junk lines
as text. Each also gets an official simplified original at the portal URL it was copied from.
Seeds 003 and 004 are official pages and are rendered with their portal's template.
Gold (title, metadata, reply facts) is written here by hand from reading the captures.
"""
from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent
PINYIN = re.compile(r"(?<=[\u4e00-\u9fff])\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
TAG_LINE = re.compile(r"^(?:\d+\.\s*)?(<[a-z]+ id=\"\w+\">.*)$")
BLANK = "\xa0"


def seed_text(name: str) -> list[str]:
    path = next(SEEDS.glob(f"{name}_*.txt"))
    return path.read_text(encoding="utf-8").split("\n")


@lru_cache(maxsize=1)
def _t2s():
    import opencc
    return opencc.OpenCC("t2s")


def official(s: str) -> str:
    """What the official page said: pinyin out, simplified script."""
    return _t2s().convert(PINYIN.sub("", s))


def body_lines(lines: list[str], first: int, last: int) -> list[str]:
    """Lines first..last (1-based) as paragraphs: stripped, blank and nbsp-only lines dropped."""
    return [ln.strip(" \xa0\t") for ln in lines[first - 1:last] if ln.strip(" \xa0\t")]


def _html_paras(lines: list[str], first: int, last: int) -> str:
    out = []
    for ln in lines[first - 1:last]:
        s = ln.strip(" \t")
        if not s:
            continue
        if s.strip(BLANK + " ") == "":
            out.append("<p>&nbsp;</p>")
        elif ln.startswith(" " * 12) or ln.startswith(BLANK * 6) or ln.lstrip(" ").startswith(BLANK + " " + BLANK):
            out.append(f'<p style="text-align:right">{escape(s.strip(BLANK + " "))}</p>')
        else:
            out.append(f'<p style="text-indent:2em">{escape(s.strip(BLANK + " "))}</p>')
    return "\n".join(out)


def _meta_cells(line: str) -> str:
    """'索 引 號(hào): X 主題分類: Y' -> label and value cells, as the portal's table has them."""
    parts = re.findall(r"(\S.*?:)\s*((?:(?!\S*:)\S+)?)(?:\s+|$)", line.strip())
    return "<tr>" + "".join(f'<td class="xxgk_lab">{escape(l)}</td><td class="xxgk_val">{escape(v)}</td>'
                            for l, v in parts) + "</tr>"


def _raw(line: str) -> str:
    m = TAG_LINE.match(line.strip())
    return m.group(1) if m else escape(line.strip())


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{escape(title)}</title></head>\n'
            f"<body>\n{body}\n</body></html>\n")


def seed000_html(L: list[str]) -> str:
    meta = "".join(_meta_cells(L[i - 1]) for i in range(9, 14))
    body = f"""{_raw(L[0])}
<ol>
<li>{_raw(L[2])}
{_raw(L[3])}</li>
<li><div class="logo">{escape(L[4].strip()[3:])}</div>
<div class="dqwz">{escape(L[6].strip())}</div>
<table class="xxgk_table">{meta}</table>
<p class="ny_title">{escape(L[14].strip())}</p>
<div class="fbsj_llcs_box"><span>{escape(L[16].strip())}</span></div>
<div class="xwnr_txt" id="zoom">
{_html_paras(L, 19, 74)}
</div>
<p>{escape(L[75].strip())}</p>
{_raw(L[76])}
<ol><li>{_raw(L[78])}
{_raw(L[79])}</li></ol>
</li></ol>"""
    return _page(PINYIN.sub("", L[14].strip()), body)


def seed001_html(L: list[str]) -> str:
    body = f"""<p>{escape(L[0].strip())}</p>
<div class="ny_title"><h1>{escape(L[2].strip())}</h1></div>
<div class="fbsj_llcs_box">{escape(L[4].strip())}</div>
<div class="xwnr_txt" id="zoom">
{_html_paras(L, 7, len(L))}
</div>"""
    return _page(L[2].strip(), body)


def seed002_html(L: list[str]) -> str:
    footer = "".join(f"<p>{escape(x.strip())}</p>" for x in L[11:14])
    body = f"""<div class="article"><h1 class="art_title">{escape(L[0].strip())}</h1>
<div class="art_con xwnr_txt">
{_html_paras(L, 2, 11)}
</div></div>
<div class="footer">{footer}</div>"""
    return _page(PINYIN.sub("", L[0].strip()), body)


NULL_META = dict.fromkeys(("index_no", "doc_no", "issuer", "topic", "genre", "written_date", "published_date",
                           "keywords", "validity"))


def seed_docs() -> list:
    """The seeds as Doc objects: three mirror copies, their three originals, two official pages."""
    from .site import CQ, LY, PANJIN, STZ, Doc, _render_cq, _render_vsb
    docs = []
    # 000: Panjin 市政协提案答复 2021, keihe.com-style mirror (hidden tags, pinyin, porn lines)
    L = seed_text("000")
    path = "/html/2846/2021-10-12/content-104527.html"
    meta0 = dict(NULL_META, index_no="pjsrmzf-2021-000328", topic="2021年", issuer="盘锦市政府",
                 published_date="2021-10-12")
    reply0 = {"kind": "cppcc_proposal", "addressee": "潘丕奇", "number": "17", "session": "市政协八届四次会议",
              "signer": "盘锦市科学技术局", "signed_date": None}   # the capture's date reads "202176": damaged
    title0 = official(L[14].strip())
    paras0 = [official(p) for p in body_lines(L, 21, 68)]
    orig0 = Doc(portal="panjin", host=PANJIN["host"], scheme=PANJIN["scheme"], path=path, channel="2846",
                kind="cppcc_reply", date="2021-10-12", title=title0, paragraphs=paras0, meta=meta0, reply=reply0,
                views=382, seed="000",
                extra={"site": PANJIN, "crumbs": ["首页", "政务公开", "建议提案", "市政协提案答复", "2021年"]})
    docs.append(orig0)
    docs.append(_mirror_of(orig0, "www.keihe.com", seed000_html(L), "000"))
    # 001: Panjin 市政府办文件 (此文件已失效), xyexam.com-style mirror (porn line, traditional)
    L = seed_text("001")
    path = "/html/1898/2019-11-13/content-89614.html"
    title1 = official(L[2].strip()).replace("(此文件已失效)", "")
    orig1 = Doc(portal="panjin", host=PANJIN["host"], scheme=PANJIN["scheme"], path=path, channel="1898",
                kind="policy", date="2019-11-13", title=title1, paragraphs=[official(p) for p in body_lines(L, 7, len(L))],
                meta=dict(NULL_META, validity="invalid"), views=360, seed="001", invalidated=1,
                extra={"site": PANJIN, "crumbs": ["首页", "政务公开", "政府文件", "盘锦市", "市政府办文件"],
                       "no_table": True, "published_date": "2019-11-13"})
    docs.append(orig1)
    docs.append(_mirror_of(orig1, "xyexam.com", seed001_html(L), "001"))
    # 002: Shuangtaizi 起草说明, fisiolando.com mirror (pinyin, footer)
    L = seed_text("002")
    path = "/2018_06/22_10/content-162034.html"
    orig2 = Doc(portal="shuangtaizi", host=STZ["host"], scheme=STZ["scheme"], path=path, channel="zcwj",
                kind="policy", date="2018-06-22", title=official(L[0].strip()),
                paragraphs=[official(p) for p in body_lines(L, 2, 11)], meta=dict(NULL_META), views=97, seed="002",
                extra={"site": STZ, "crumbs": ["政策文件"], "subsite": True, "published_date": "2018-06-22"})
    docs.append(orig2)
    m2 = _mirror_of(orig2, "www.fisiolando.com", seed002_html(L), "002")
    m2.extra["published_date"] = None          # the mirror page carries no date
    docs.append(m2)
    # 003: Chongqing kjj 人大建议 reply letter, official
    L = seed_text("003")
    docs.append(Doc(
        portal="chongqing_kjj", host=CQ["host"], scheme=CQ["scheme"], channel="rddbjyblqkgk", kind="npc_reply",
        path="/zwgk_176/zwxxgkml/rddbjyblqkgk/202009/t20200916_7893354.html", date="2020-09-16",
        title=L[13].strip(), paragraphs=body_lines(L, 18, 52), seed="003", render=_render_cq,
        meta=dict(NULL_META, index_no="11500000MB15895317/2020-00762", doc_no="渝科局函〔2020〕109号", topic="科技",
                  genre="人大建议办理", issuer="市科技局", written_date="2020-04-10", published_date="2020-09-16"),
        reply={"kind": "npc_suggestion", "addressee": "郎平权", "number": "0942", "session": "市五届人大三次会议",
               "signer": "重庆市科学技术局", "signed_date": "2020-04-10"},
        extra={"crumbs": ["首页", "政务公开", "政府信息公开目录", "人大代表建议办理情况公开"],
               "label": "人大代表建议办理情况公开"}))
    # 004: Linyi kjj 政协提案 reply letter, official
    L = seed_text("004")
    docs.append(Doc(
        portal="linyi_kjj", host=LY["host"], scheme=LY["scheme"], channel="1383", kind="cppcc_reply",
        path="/info/1383/7261.htm", date="2021-07-09", title=L[7].strip(), paragraphs=body_lines(L, 15, 57),
        seed="004", render=_render_vsb,
        meta=dict(NULL_META, index_no="1342804570/kxjsj/2021-0000168", issuer="临沂市科学技术局",
                  published_date="2021-07-09"),
        reply={"kind": "cppcc_proposal", "addressee": "王坤", "number": "89", "session": "市政协十五届五次会议",
               "signer": "临沂市科技学技术局", "signed_date": "2021-07-09"},
        extra={"site": LY, "label": "政协提案答复", "art": 7261, "show_validity": False}))
    return docs


def _mirror_of(orig, host: str, html: str, seed: str):
    from .site import Doc
    return Doc(**{**orig.__dict__, "portal": "mirror", "host": host, "scheme": "http", "mirror_of": orig.url,
                  "seed": seed, "invalidated": None, "extra": dict(orig.extra, html=html)})
