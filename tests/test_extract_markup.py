"""Rules about kinds of markup met on real government pages, each on a small synthetic page with a
look-alike that must not be touched (see bench/eval.py for the measurement on real pages)."""
from __future__ import annotations

from crawler.extract import extract, split_title
from crawler.metadata import iso_date

URL = "http://www.example.gov.cn/art/2021/10/12/art_1_1.html"
LETTER = ("<p>王超斌委员：</p><p>您提出的《关于设立总理热线电话的提案》收悉。经研究，答复如下：</p>"
          "<p>推进政务公开，实行科学民主决策是政府工作的一项基本制度。各级政府要不断加强制度建设。</p>"
          "<p>感谢您对政府工作的关心与支持。</p><p style='text-align:right'>国务院办公厅</p>"
          "<p style='text-align:right'>2006年10月18日</p>")
META = ("<table class='bd1'><tr><td><b>索 引 号：</b></td><td>000014349/2006-00213</td><td><b>主题分类：</b></td>"
        "<td>其他</td></tr><tr><td><b>发文机关：</b></td><td>国务院办公厅</td><td><b>成文日期：</b></td>"
        "<td>2006年10月18日</td></tr><tr><td><b>发文字号：</b></td><td>国办函〔2006〕82号</td><td><b>发布日期：</b>"
        "</td><td>2018年12月24日</td></tr></table>")
TITLE = "国务院办公厅对全国政协十届四次会议第4626号提案的答复"


def page(body: str, title: str = TITLE, head: str = "") -> bytes:
    return f"<html><head><meta charset='utf-8'><title>{title}</title>{head}</head><body>{body}</body></html>".encode()


def test_a_page_wide_wrapper_around_the_metadata_is_not_the_metadata_block():
    d = extract(page(f"<div class='wrap'>{META}<div>{LETTER}</div></div>"), URL)
    assert d.text.startswith("王超斌委员：") and "推进政务公开" in d.text
    assert d.metadata["doc_no"] == "国办函〔2006〕82号" and d.metadata["written_date"] == "2006-10-18"
    assert "索引号" not in d.text.replace(" ", "")
    # the look-alike: a metadata table on its own stays a metadata table, out of the text
    d = extract(page(f"{META}<div>{LETTER}</div>"), URL)
    assert d.metadata["index_no"] == "000014349/2006-00213" and "000014349" not in d.text


def test_a_metadata_table_inside_the_article_wrapper_is_read_and_leaves_the_text():
    # a template that puts the 信息公开 table inside the article's own wrapper (id='zoom'), above the text
    d = extract(page(f"<div id='zoom'>{META}{LETTER}</div>"), URL)
    assert d.metadata["index_no"] == "000014349/2006-00213" and d.metadata["issuer"] == "国务院办公厅"
    assert d.text.startswith("王超斌委员：") and "000014349" not in d.text
    # look-alike: a data table in the text whose header row is made of label words
    rows = [("标题", "文号", "发布日期"), ("关于加强科技计划管理的通知", "盘科发〔2015〕3号", "2015-03-02"),
            ("关于印发专项资金管理办法的通知", "盘科发〔2016〕9号", "2016-06-18")]
    table = "<table>" + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows) + "</table>"
    repeal = ("<div id='zoom'><p>经清理，决定废止以下2件规范性文件，自公布之日起停止执行。</p>" + table +
              "<p>盘锦市科学技术局</p></div>")
    d = extract(page(repeal, "盘锦市科学技术局关于废止部分规范性文件的决定"), URL)
    assert [c for r in rows for c in r] == [ln for ln in d.text.split("\n") if ln in {c for r in rows for c in r}]
    assert d.metadata["doc_no"] is None


def test_other_templates_label_spellings_are_read():
    meta = ("<table class='xxgk'><tr><td>索引号：</td><td>11330000002482870P/2024-123456</td><td>发布机关：</td>"
            "<td>浙江省科学技术厅</td></tr><tr><td>生成日期：</td><td>2024-03-08</td><td>时效性：</td><td>有效</td></tr>"
            "<tr><td>文号：</td><td>浙科发〔2024〕12号</td><td>公开方式：</td><td>主动公开</td></tr></table>")
    d = extract(page(f"{meta}<div>{LETTER}</div>"), URL)
    assert (d.metadata["issuer"], d.metadata["written_date"], d.metadata["validity"]) == (
        "浙江省科学技术厅", "2024-03-08", "valid")
    assert "浙科发" not in d.text and d.text.startswith("王超斌委员：")


def test_a_letter_in_a_layout_table_keeps_its_paragraphs_and_reply_facts():
    body = (f"<table width='724'><tr><td>{META}</td></tr></table><table><tr><td><table><tr><td id='c'>"
            f"<p style='text-align:center'><b>国务院办公厅对全国政协十届四次会议</b></p>"
            f"<p style='text-align:center'><b>第4626号提案的答复</b></p>{LETTER}</td></tr></table></td></tr></table>")
    d = extract(page(body), URL)
    lines = d.text.split("\n")
    assert lines[0] == "王超斌委员：" and "推进政务公开，实行科学民主决策是政府工作的一项基本制度。各级政府要不断加强制度建设。" in lines
    assert d.reply["addressee"] == "王超斌" and d.reply["signer"] == "国务院办公厅" and d.reply["number"] == "4626"


def test_a_data_table_stays_a_table_cell_by_cell_in_row_order():
    rows = [("产品名称", "计量单位", "产量"), ("饮料酒", "千升", "15767"), ("塑料制品", "吨", "183946")]
    table = "<table>" + "".join("<tr>" + "".join(f"<td><p>{c}</p></td>" for c in r) + "</tr>" for r in rows) + "</table>"
    body = f"<div id='zoom'><p>全年工业生产平稳增长，主要产品产量如下表所示。</p>{table}<p>以上数据为初步统计。</p></div>"
    lines = extract(page(body, "万载县2015年国民经济和社会发展统计公报"), URL).text.split("\n")
    cells = [c for r in rows for c in r]
    assert [ln for ln in lines if ln in cells] == cells          # every cell, rows in order, none merged
    assert lines[0].startswith("全年工业生产") and lines[-1] == "以上数据为初步统计。"


def test_an_inline_style_that_shows_an_element_beats_the_stylesheet():
    head = "<style>.content{display:none} .spam{display:none}</style>"
    body = ("<div class='content' style='display:block'><p>行政处罚决定书文号：金罚决字〔2024〕36号。对当事人合计罚款158万元。</p></div>"
            "<div class='spam'><p>澳门新葡京真人娱乐在线开户。</p></div><div class='content'><p>移动版隐藏的重复内容。</p></div>")
    d = extract(page(body, "行政处罚信息公开表", head), URL)
    assert "金罚决字〔2024〕36号" in d.text
    assert "新葡京" not in d.text and "移动版隐藏" not in d.text


def test_titles_come_from_the_page_never_from_the_site_name():
    body = ("<h1 class='logo'>万载县人民政府</h1><h2>友情链接</h2><h1 class='article-title'>万载县2022年国民经济和社会发展统计公报</h1>"
            "<div id='zoom'><p>2022年，全县经济运行总体平稳，发展质量稳步提升。</p></div>")
    d = extract(page(body, "万载县2022年国民经济和社会发展统计公报 | 万载县人民政府",
                     "<meta name='SiteName' content='万载县人民政府'>"), URL)
    assert d.title == "万载县2022年国民经济和社会发展统计公报"
    # only <title> to go on: the site's part goes, brackets and digit ranges stay whole
    for raw, want in (("1-10月德清县固定资产投资结构趋稳趋优 - 德清县人民政府", "1-10月德清县固定资产投资结构趋稳趋优"),
                      ("关于印发某某行动方案(2018—2020年)的通知_山西省人民政府网站", "关于印发某某行动方案(2018—2020年)的通知"),
                      ("天宫一号任务新闻发布会_中国载人航天官方网站", "天宫一号任务新闻发布会")):
        d = extract(page("<h2>友情链接</h2><div id='zoom'><p>正文内容：工作进展顺利，成效明显。</p></div>", raw), URL)
        assert d.title == want, raw
    assert split_title("1-10月投资 - 某县") == ["1-10月投资", "某县"]


def test_labels_in_other_spellings_and_chinese_numeral_dates():
    body = ("<section><p class='text-des'>【文&ensp;&ensp;&ensp;&ensp;号】 晋医保发〔2021〕14号<br>【成文日期】 2021-07-28<br>"
            "【是否有效】 全文有效<br></p></section><div class='info'><div class='pubDate'>发布日期: <span>2021-08-02</span>"
            "</div></div><div id='zoom'><p>各市医疗保障局：现将有关事项通知如下，请认真贯彻执行。</p></div>")
    d = extract(page(body, "关于做好2021年城乡居民基本医疗保障工作的通知"), URL)
    assert d.metadata["doc_no"] == "晋医保发〔2021〕14号" and d.metadata["written_date"] == "2021-07-28"
    assert d.metadata["published_date"] == "2021-08-02"
    assert iso_date("二〇二一年十月十二日") == "2021-10-12" and iso_date("二〇〇六年十月十八日") == "2006-10-18"
    assert iso_date("二〇二一年二十月一日") is None


def test_a_title_printed_again_over_several_lines_leaves_the_text():
    title = "全国人民代表大会常务委员会关于批准财政部发行特别国债购买外汇的决议"
    body = ("<div id='zoom'><p>全国人民代表大会常务委员会</p><p>关于批准财政部发行特别国债购买外汇的决议</p>"
            "<p>（2007年6月29日通过）</p><p>会议决定：批准发行15500亿元特别国债购买外汇。</p></div>")
    d = extract(page(body, title), URL)
    assert d.text.split("\n")[0] == "（2007年6月29日通过）"
    # the look-alike: the name of the measure a notice issues is part of its title, and stays
    title = "关于印发《科技创新券管理办法》的通知"
    body = "<div id='zoom'><p>各有关单位：现将办法印发给你们，请遵照执行。</p><p>科技创新券管理办法</p><p>第一条 为了规范管理，制定本办法。</p></div>"
    assert "科技创新券管理办法" in extract(page(body, title), URL).text.split("\n")


def test_keyword_stuffed_lines_inside_the_content_go_policy_word_lists_stay():
    body = ("<div id='zoom'><p>各区县科技主管部门：现将有关事项通知如下。</p>"
            "<p>澳门新葡京_真人娱乐_北京赛车pk10_时时彩开奖_体育直播_百家乐</p>"
            "<p>时时彩,北京赛车,幸运飞艇,六合彩,开奖直播</p>"
            "<p>关键词：科技，创新，人才，政策，产业</p><p>福利彩票、体育彩票公益金使用情况</p></div>")
    text = extract(page(body, "关于做好科技创新工作的通知"), URL).text
    assert "新葡京" not in text and "幸运飞艇" not in text
    assert "关键词：科技，创新，人才，政策，产业" in text and "福利彩票、体育彩票公益金使用情况" in text


def test_a_class_naming_furniture_does_not_make_the_main_text_furniture():
    text = "".join(f"<p>第{i}段：自治区出台若干措施，在权限范围内加大减税力度，降低涉企收费。</p>" for i in range(12))
    body = (f"<div class='share'>分享到：微信 微博</div><div class='detail_content fontsize'>{text}</div>"
            "<div class='fontsize'>字号：大 中 小</div>")
    d = extract(page(body, "内蒙古延续部分到期税收优惠政策"), URL)
    assert "第11段" in d.text and "分享到" not in d.text and "字号" not in d.text
