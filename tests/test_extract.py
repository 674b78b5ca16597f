"""Extraction: the seeds give their gold; each cleaning rule removes junk and keeps its look-alikes."""
from __future__ import annotations

import re

import pytest

from crawler import cleaning as C
from crawler.encoding import damage, decode
from crawler.extract import ExtractionError, extract
from seeds.replica import site

PINYIN_LEFT = re.compile(r"[\u4e00-\u9fff]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
SEED_PAGES = {d.seed + ("m" if d.mirror_of else ""): d for d in site.documents() if d.seed}


def run(doc):
    p = site.build(1)[(doc.host, doc.path)]
    return extract(p.body, doc.url, p.content_type)


def simp(s):
    return C.t2s().convert(s or "")


# --------------------------------------------------------------------------------------------
# The seeds
# --------------------------------------------------------------------------------------------

def test_seed_000_mirror():
    doc = run(SEED_PAGES["000m"])
    assert doc.script == "traditional" and doc.flags["mirror"] and doc.flags["pinyin_removed"] > 100
    assert simp(doc.title) == "对市政协八届四次会议《关于引导企业加强自主创新和加大研发费用投入的提案》第17号提案的答复"
    assert doc.metadata["index_no"] == "pjsrmzf-2021-000328" and doc.metadata["published_date"] == "2021-10-12"
    assert doc.metadata["topic"] == "2021年" and simp(doc.metadata["issuer"]) == "盘锦市政府"
    assert doc.metadata["doc_no"] is None and doc.metadata["written_date"] is None   # empty cells
    assert doc.reply["addressee"] == "潘丕奇" and doc.reply["number"] == "17"
    assert doc.reply["session"] == "市政协八届四次会议" and doc.reply["kind"] == "cppcc_proposal"
    assert simp(doc.reply["signer"]) == "盘锦市科学技术局"
    assert doc.reply["signed_date"] is None                      # the capture's "202176" is no date
    for junk in ("(pán)", "gunxd", "国产", "人妻", "亚洲", "當前位置", "索 引", "瀏覽次數", "發布時間"):
        assert junk not in doc.text, junk
    assert not PINYIN_LEFT.search(doc.text)
    assert doc.text.startswith("尊敬的潘丕奇委員:") and doc.text.endswith("盤錦市科學技術局\n202176")
    assert "R&D" in doc.text and "GDP" in doc.text
    assert doc.text_simplified.startswith("尊敬的潘丕奇委员:")
    assert doc.flags["encoding_damage"] >= 1                     # the private-use character in 受?國外


def test_seed_001_mirror_invalid_policy():
    doc = run(SEED_PAGES["001m"])
    assert doc.metadata["validity"] == "invalid"
    assert "此文件已失效" not in doc.title and simp(doc.title).startswith("盘锦市人民政府办公室印发关于推进科技创新")
    assert doc.published_date == "2019-11-13" and doc.reply is None
    assert "国产" not in doc.text and "無碼" not in doc.text and "发布时间" not in doc.text_simplified
    assert doc.text_simplified.splitlines()[0] == "盘政办发〔201929"
    assert "(2019—2021)" in doc.title and "(R&D)" in doc.text and "(GDP)" in doc.text


def test_seed_002_mirror_shuangtaizi():
    doc = run(SEED_PAGES["002m"])
    assert simp(doc.title) == "《双台子区关于落实科技支持盘锦沿海经济带建设 助推经济高质量发展三年行动计划(2018—2020年)》起草说明"
    assert doc.text_simplified.splitlines()[0] == "(区经信局)"
    for junk in ("主辦單位", "網站標識碼", "ICP", "聯系電話", "(qū)"):
        assert junk not in doc.text, junk
    assert doc.published_date is None                  # the mirror page carries no date


def test_seed_003_chongqing_metadata_rendered_twice():
    doc = run(SEED_PAGES["003"])
    assert doc.title == "重庆市科学技术局关于市五届人大三次会议第0942号建议的复函"
    assert doc.metadata == {"index_no": "11500000MB15895317/2020-00762", "doc_no": "渝科局函〔2020〕109号",
                            "issuer": "市科技局", "topic": "科技", "genre": "人大建议办理", "written_date": "2020-04-10",
                            "published_date": "2020-09-16", "keywords": None, "validity": None}
    assert doc.reply == {"kind": "npc_suggestion", "addressee": "郎平权", "number": "0942",
                         "session": "市五届人大三次会议", "signer": "重庆市科学技术局", "signed_date": "2020-04-10"}
    assert "索引号" not in doc.text and "扫一扫" not in doc.text and "日期:2020" not in doc.text
    assert "(第0942号建议)" in doc.text and doc.text.count("您提出的") == 1


def test_seed_004_linyi():
    doc = run(SEED_PAGES["004"])
    assert doc.reply == {"kind": "cppcc_proposal", "addressee": "王坤", "number": "89", "session": "市政协十五届五次会议",
                         "signer": "临沂市科技学技术局", "signed_date": "2021-07-09"}
    assert doc.metadata["index_no"] == "1342804570/kxjsj/2021-0000168" and doc.metadata["issuer"] == "临沂市科学技术局"
    assert doc.metadata["published_date"] == "2021-07-09" and doc.metadata["doc_no"] is None
    for junk in ("上一条", "下一条", "关闭窗口", "网站标识码", "鲁ICP", "服务热线", "公网安备", "作者:", "点击数"):
        assert junk not in doc.text, junk


@pytest.mark.parametrize("key", ["000", "001", "002"])
def test_mirror_text_matches_its_official_original(key):
    mirror, original = run(SEED_PAGES[key + "m"]), run(SEED_PAGES[key])
    assert mirror.text_simplified.replace("於", "于") == original.text_simplified
    assert original.script == "simplified" and not original.flags["mirror"]


def test_generated_mirrors_lose_every_injected_line():
    for d in site.documents():
        if d.mirror_of and not d.seed:
            doc = run(d)
            gold = site.gold(d, 1)["text"]
            assert doc.text_simplified.split("\n") == gold.split("\n"), d.url
            assert doc.flags["junk_removed"].get("hidden", 0) >= 3 and doc.flags["junk_removed"].get("spam_lines")


# --------------------------------------------------------------------------------------------
# One test per cleaning rule, with the look-alikes that must survive
# --------------------------------------------------------------------------------------------

def page(body: str, head: str = "") -> str:
    return f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


ARTICLE = ("<div class='xwnr_txt'><p>第一段:根据市政府工作安排,现就有关事项通知如下。</p>{mid}"
           "<p>第二段:各单位要高度重视,认真组织实施,确保各项工作落到实处。</p></div>")


def ex(body, head=""):
    return extract(page(body, head), "http://www.example.gov.cn/a.html")


def test_rule_hidden_inline_styles_and_attributes():
    for hidden in ("<div style='display:none'>隐藏链接农场彩票娱乐</div>", "<div style='visibility: hidden'>隐藏文字内容</div>",
                   "<div style='position:absolute;left:-9999px'>屏幕外的文字</div>", "<p hidden>隐藏属性的段落文字</p>",
                   "<marquee width='1' height='1'>一像素跑马灯文字</marquee>"):
        doc = ex(ARTICLE.format(mid=hidden))
        assert "第一段" in doc.text and "第二段" in doc.text
        assert not re.search("隐藏|屏幕外|跑马灯", doc.text), hidden
        assert doc.flags["junk_removed"]["hidden"] == 1
    visible = ex(ARTICLE.format(mid="<p style='display:block;text-indent:2em'>可见段落:本办法自发布之日起施行。</p>"))
    assert "可见段落" in visible.text


def test_rule_hidden_by_stylesheet():
    doc = ex(ARTICLE.format(mid="<div class='x7qk'>样式表隐藏的链接文字</div><div id='farm'>另一块隐藏</div>"),
             head="<style>.x7qk{display:none} #farm { visibility:hidden; } .shown{color:red}</style>")
    assert "样式表隐藏" not in doc.text and "另一块隐藏" not in doc.text
    assert doc.flags["junk_removed"]["hidden"] == 2


def test_stylesheet_rules_that_hide_nothing_from_a_reader_keep_their_elements():
    # look-alikes: a property whose name ends in 'visibility', a rule for narrow screens or print
    # (the other copy of a responsive page stays), beside a farm hidden on every screen
    head = ("<style>#page #content{-webkit-backface-visibility:hidden;backface-visibility:hidden}"
            "@media (max-width:64em){.xwnr_txt{display:none}} @media print{.xwnr_txt{display:none}}"
            "@media screen{.farm{display:none}}</style>")
    doc = ex("<div id='page'><div id='content'>" + ARTICLE.format(mid="<div class='farm'>隐藏的链接农场</div>") +
             "</div></div>", head=head)
    assert "第一段" in doc.text and "第二段" in doc.text and "链接农场" not in doc.text
    inline = ex(ARTICLE.format(mid="<p style='backface-visibility: hidden'>第三段:翻转效果的段落。</p>"))
    assert "第三段" in inline.text


def test_a_block_printed_twice_for_desktop_and_mobile_comes_out_once():
    head = "<style>@media (min-width:769px){.m{display:none}} @media (max-width:768px){.pc{display:none}}</style>"
    meta = "<table><tr><td>发文字号：</td><td>盘政发〔2024〕5号</td></tr></table>"
    body = f"<div class='pc'>{meta}{ARTICLE.format(mid='')}</div><div class='m'>{ARTICLE.format(mid='')}</div>"
    lines = ex(body, head=head).text.split("\n")
    assert [ln[:3] for ln in lines] == ["第一段", "第二段"]
    # look-alike: a block hidden on narrow screens only, with no copy elsewhere, stays
    alone = ex(f"<div class='pc'>{ARTICLE.format(mid='')}</div>", head=head)
    assert [ln[:3] for ln in alone.text.split("\n")] == ["第一段", "第二段"]


def test_rule_random_id_tag_clusters():
    junk = '<sup id="gunxd"></sup><strike id="qk4g0"><small id="qk4g0"></small></strike><blockquote id="a1b2c"></blockquote>'
    doc = ex(junk + ARTICLE.format(mid=""))
    assert doc.flags["junk_removed"]["random_id_tags"] >= 3
    kept = ex('<div id="page"></div><div id="main">' + ARTICLE.format(mid="") + "</div>")
    assert kept.flags["junk_removed"].get("random_id_tags", 0) == 0 and "第一段" in kept.text


def test_rule_spam_lines_anywhere_and_legitimate_lookalikes():
    spam = ["<p>欧美日韩在线观看免费视频,国产精品一区二区,人妻少妇中文字幕</p>",
            "<p>体育直播_即时比分_球迷网_真人娱乐棋牌</p>",
            "<p>麻豆AV天堂 羞羞视频 午夜福利 高清无码</p>"]
    legit = ["<p>统筹使用福利彩票公益金,支持社区养老服务设施建设,并加强彩票市场监管。</p>",
             "<p>通过视频会议方式召开全市社会福利工作推进会,部署下一阶段任务。</p>",
             "<p>推进成人教育和老年大学建设,支持影院、体育场馆向公众开放。</p>"]
    doc = ex(ARTICLE.format(mid="".join(x + y for x, y in zip(legit, spam))))
    for s in ("在线观看", "即时比分", "羞羞"):
        assert s not in doc.text
    for s in ("福利彩票公益金", "视频会议", "成人教育"):
        assert s in doc.text
    assert doc.flags["junk_removed"]["spam_lines"] == 3 and doc.flags["mirror"]


def test_rule_spider_pool_footer():
    pool = "<p>主站蜘蛛池模板: 尉氏县| 舒兰市| 彝良县</p>"
    doc = ex(ARTICLE.format(mid="") + pool)
    assert "蜘蛛池" not in doc.text and "第二段" in doc.text
    inside = ex(ARTICLE.format(mid=pool))
    assert "蜘蛛池" not in inside.text and inside.flags["junk_removed"]["spider_pool"] == 1


@pytest.mark.parametrize("text,want", [
    ("盤(pán)錦市科學(xué)技術(shù)局", "盤錦市科學技術局"),
    ("研究與開發(fā)(R&D)經費", "研究與開發(R&D)經費"),
    ("占地区生产总值(GDP)比重", "占地区生产总值(GDP)比重"),
    ("协同发展(2019—2021)实施意见", "协同发展(2019—2021)实施意见"),
    ("收悉(第0942号建议)", "收悉(第0942号建议)"),
    ("附件(pdf)下载", "附件(pdf)下载"),
    ("关（guān）于", "关于"),
])
def test_rule_pinyin_after_han_characters(text, want):
    assert C.strip_pinyin(text)[0] == want


@pytest.mark.parametrize("line", [
    "当前位置: 首页 > 政务公开 > 建议提案", "您当前的位置: 首页>>政务公开", "您现在所在的位置: 首页 > 政府文件",
    "字号:大 中 小", "【打印本页】 【关闭窗口】", "分享到:微信 微博", "扫一扫在手机打开当前页",
    "上一条:关于某事的通知", "下一条:关于另一事的通知", "无障碍浏览", "发布时间:2021-10-12 浏览次数:382",
])
def test_rule_chrome_lines_anywhere(line):
    doc = ex(ARTICLE.format(mid=f"<p>{line}</p>"))
    assert line.split(":")[0].split(" ")[0][:3] not in doc.text
    assert "第一段" in doc.text and "第二段" in doc.text


@pytest.mark.parametrize("line", ["主办单位:某某市人民政府办公室", "版权所有:某某市人民政府", "网站标识码:2111000001",
                                  "辽ICP备06000634号-1", "辽公网安备 21110202000072号", "联系电话:0427-2360834",
                                  "服务热线:12345"])
def test_rule_footer_lines_at_the_edges_only(line):
    doc = ex(ARTICLE.format(mid="") + f"<div class='xwnr_txt'><p>{line}</p></div>")
    assert line not in doc.text
    inside = ex("<div class='xwnr_txt'><p>一、会议时间:2022年5月10日上午9时。</p>"
                f"<p>{line}</p><p>请各单位按时参加,不得缺席。</p></div>")
    assert line in inside.text                                    # in a notice body it is content


def test_rule_metadata_block_becomes_fields_once():
    table = ("<table><tr><td>[ 索引号 ]</td><td>X/2020-1</td><td>[ 发文字号 ]</td><td>渝科局发〔2020〕1号</td></tr>"
             "<tr><td>[ 发布机构 ]</td><td>市科技局</td><td>[ 成文日期 ]</td><td>2020年4月10日</td></tr></table>"
             "<ul><li><span>[ 索引号 ]</span><span>X/2020-1</span></li><li><span>[ 发布机构 ]</span><span>市科技局</span></li></ul>")
    doc = ex(table + ARTICLE.format(mid=""))
    assert doc.metadata["index_no"] == "X/2020-1" and doc.metadata["written_date"] == "2020-04-10"
    assert doc.metadata["issuer"] == "市科技局" and "索引号" not in doc.text and "X/2020-1" not in doc.text


@pytest.mark.parametrize("title,validity", [
    ("(此文件已失效)关于印发某办法的通知", "invalid"), ("【已废止】关于印发某办法的通知", "invalid"),
    ("关于印发某办法的通知", None),
])
def test_validity_marker_in_title(title, validity):
    doc = ex(f"<h1>{title}</h1>" + ARTICLE.format(mid=""))
    assert doc.metadata["validity"] == validity and doc.title == "关于印发某办法的通知"


def test_validity_field():
    for value, want in (("废止", "invalid"), ("失效", "invalid"), ("有效", "valid"), ("", None)):
        doc = ex(f"<table><tr><td>索引号</td><td>1</td><td>效力状态</td><td>{value}</td></tr></table>" + ARTICLE.format(mid=""))
        assert doc.metadata["validity"] == want, value


def test_page_with_no_main_text_gives_empty_text_and_a_flag():
    nav = "<div class='nav'><a href='/'>首页</a><a href='/a'>政务公开</a></div>"
    doc = ex(nav + "<div class='footer'><p>主办单位:某市人民政府 版权所有</p><p>网站标识码:1</p></div>")
    assert doc.text == "" and doc.flags["no_main_text"]


def test_reply_facts_from_closing_lines():
    body = ("<div class='xwnr_txt'><p>尊敬的张建国代表:</p><p>您提出的《关于加强科普工作的建议》(第21号)收悉,现答复如下:</p>"
            "<p>一是加强组织领导。二是强化资金保障。</p><p>特此答复。</p><p>盘锦市科学技术局</p><p>2022年8月26日</p></div>")
    doc = ex("<h1>对市九届人大一次会议《关于加强科普工作的建议》(第21号)的答复</h1>" + body)
    assert doc.reply == {"kind": "npc_suggestion", "addressee": "张建国", "number": "21", "session": "市九届人大一次会议",
                         "signer": "盘锦市科学技术局", "signed_date": "2022-08-26"}
    policy = ex("<h1>关于印发某办法的通知</h1>" + ARTICLE.format(mid="<p>对代表建议要认真办理。</p>"))
    assert policy.reply is None


def test_attachments_are_absolute_and_named():
    body = ARTICLE.format(mid="") + "<div class='fj'><a href='/uploadfiles/a.pdf'>附件1:实施细则.pdf</a>" \
                                    "<a href='download.jsp?wbfileid=9'>申报表.doc</a><a href='/html/1.html'>相关链接</a></div>"
    doc = extract(page("<div>" + body + "</div>"), "http://www.example.gov.cn/info/1/2.htm")
    assert doc.attachments == [{"url": "http://www.example.gov.cn/uploadfiles/a.pdf", "name": "附件1:实施细则.pdf"},
                               {"url": "http://www.example.gov.cn/info/1/download.jsp?wbfileid=9", "name": "申报表.doc"}]


# --------------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------------

def gbk_page():
    d = next(x for x in site.documents() if x.encoding == "gbk")
    return d, site.build(1)[(d.host, d.path)].body


def test_gbk_page_honoured_and_mislabelled_recovered():
    d, body = gbk_page()
    gold = site.gold(d, 1)
    for label in ("text/html; charset=gb2312", "text/html; charset=utf-8", "text/html", None):
        doc = extract(body, d.url, label)
        assert doc.title == gold["title"] and doc.flags["encoding"] == "gb18030", label
        assert doc.flags["encoding_damage"] == 0
    no_meta = re.sub(rb"<meta[^>]*charset[^>]*>", b"", body)
    assert extract(no_meta, d.url, "text/html").title == gold["title"]


def test_utf8_labelled_gbk_is_utf8():
    text, enc = decode("科技创新".encode("utf-8"), "gbk")
    assert (text, enc) == ("科技创新", "utf-8")


def test_bad_bytes_never_crash_and_damage_is_counted():
    body = page("<div class='xwnr_txt'><p>科技创新\ufffd工作。国?家重点实验室\ue2ae建设。</p></div>").encode("utf-8")
    assert extract(body, "http://x.gov.cn/").flags["encoding_damage"] == 3
    broken = "<html><body><div class='xwnr_txt'><p>科技创新工作取得进展</p></div></body></html>".encode("gbk")[:-30] + b"\xff\xfe\x81"
    doc = extract(broken, "http://x.gov.cn/", "text/html; charset=utf-8")
    assert "科技创新" in doc.text


@pytest.mark.parametrize("body,msg", [(b"", "empty"), (b"   \n", "empty"), (b"%PDF-1.4\n...", "PDF"),
                                      (b"\x00" * 500, "binary")])
def test_not_html_raises_a_clear_error(body, msg):
    with pytest.raises(ExtractionError, match=msg):
        extract(body, "http://x.gov.cn/")


def test_damage_counter():
    assert damage("正常文本") == 0 and damage("国?家") == 1 and damage("\ufffd\ue000") == 2 and damage("what? 国") == 0


def test_extract_accepts_str_and_reports_version():
    doc = extract(page(ARTICLE.format(mid="")), "http://x.gov.cn/a")
    assert doc.extractor_version and doc.to_dict()["url"] == "http://x.gov.cn/a"
