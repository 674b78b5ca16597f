"""HTML of the replica pages, one set of templates per CMS family.

Markup follows ../shared/research/portals.md. Tags in comments: [C] confirmed by a public copy or
public scraper code, [I] our guess where nothing public shows it, [G] generic CMS behaviour.
"""
from __future__ import annotations

from html import escape
from urllib.parse import quote

FW = "\u3000"  # full-width space in Panjin labels [C]


DEPARTMENTS = [
    ("fgw", "发展和改革委员会"), ("jyj", "教育局"), ("kjj", "科学技术局"), ("gxj", "工业和信息化局"), ("mzj", "民族和宗教事务局"),
    ("gaj", "公安局"), ("mz", "民政局"), ("sfj", "司法局"), ("czj", "财政局"), ("rsj", "人力资源和社会保障局"),
    ("zrzyj", "自然资源局"), ("sthjj", "生态环境局"), ("zjj", "住房和城乡建设局"), ("cgj", "城市管理综合行政执法局"),
    ("jtj", "交通运输局"), ("slj", "水利局"), ("nyj", "农业农村局"), ("swj", "商务局"), ("wlgdj", "文化旅游和广播电视局"),
    ("wjw", "卫生健康委员会"), ("tyjrj", "退役军人事务局"), ("yjj", "应急管理局"), ("sjj", "审计局"), ("gzw", "国有资产监督管理委员会"),
    ("scjgj", "市场监督管理局"), ("tyj", "体育局"), ("tjj", "统计局"), ("ybj", "医疗保障局"), ("rfb", "人民防空办公室"),
    ("xfj", "信访局"), ("sjzj", "数据局"), ("yshj", "营商环境建设局"), ("jgsw", "机关事务服务中心"), ("gjj", "住房公积金管理中心"),
    ("ggzy", "公共资源交易中心"), ("jrj", "金融发展局"), ("lcj", "林业和草原局"), ("lsj", "粮食和物资储备局"), ("dag", "档案馆"),
    ("dfz", "地方志办公室"), ("qxj", "气象局"), ("tax", "税务局"), ("xf", "消防救援支队"), ("yzj", "邮政管理局"),
]
NAV_SUB = ["工作动态", "通知公告", "政策文件", "政策解读", "规划计划", "统计数据", "人事信息", "财政资金", "建议提案", "回应关切"]
INLINE_JS = """<script type="text/javascript">
$(function(){
  $(".nav>ul>li").hover(function(){ $(this).addClass("on").find(".subnav").stop(true,true).slideDown(200); },
    function(){ $(this).removeClass("on").find(".subnav").stop(true,true).slideUp(100); });
  $(".tab_tit li").mouseover(function(){ var i=$(this).index(); $(this).addClass("cur").siblings().removeClass("cur");
    $(this).parents(".tab_box").find(".tab_con").eq(i).show().siblings(".tab_con").hide(); });
  $("#wza").click(function(){ var s=document.createElement("script"); s.src="/statics/js/wza/aria.js?appid=b3b1c3a0";
    document.body.appendChild(s); return false; });
  var fs=16; window.doZoom=function(n){ fs=n; $("#zoom, #zoom p").css({"font-size":n+"px","line-height":(n*2)+"px"}); };
  $(".gotop").click(function(){ $("html,body").animate({scrollTop:0},300); });
  $(window).scroll(function(){ if($(window).scrollTop()>300){$(".gotop").fadeIn();}else{$(".gotop").fadeOut();} });
  $(".yqlj select").change(function(){ var u=$(this).val(); if(u){ window.open(u); } });
  if (typeof(zh_autoLang) != "undefined") { zh_init(); }
});
function setHomePage(o){ try{ o.style.behavior="url(#default#homepage)"; o.setHomePage(location.href); }catch(e){
  alert("此操作被浏览器拒绝!请在浏览器地址栏输入about:config并回车然后将[signed.applets.codebase_principal_support]设置为true"); } }
function addFavorite(){ var t=document.title, u=location.href; try{ window.external.addFavorite(u,t); }catch(e){
  try{ window.sidebar.addPanel(t,u,""); }catch(e){ alert("加入收藏失败,请使用Ctrl+D进行添加"); } } }
</script>"""


def _subnav(base: str) -> str:
    return "<div class=\"subnav\"><ul>" + "".join(f'<li><a href="{base}{i}/">{s}</a></li>' for i, s in enumerate(NAV_SUB)) + "</ul></div>"


def portal_links(city: str, domain: str) -> str:
    """The department and county link blocks every portal page carries at its foot."""
    deps = "".join(f'<li><a href="http://{k}.{domain}/" target="_blank">{city}{n}</a></li>' for k, n in DEPARTMENTS)
    opts = "".join(f'<option value="http://{k}.{domain}/">{city}{n}</option>' for k, n in DEPARTMENTS[:24])
    return (f'<div class="bmlj"><div class="tab_box"><ul class="tab_tit"><li class="cur">市政府部门</li><li>县区政府</li>'
            f'<li>其他网站</li></ul><div class="tab_con"><ul>{deps}</ul></div></div>'
            f'<div class="yqlj">友情链接:<select><option value="">中央政府网站</option><option value="http://www.gov.cn/">'
            f'中国政府网</option></select><select><option value="">市直部门网站</option>{opts}</select></div>'
            f'<a class="gotop" href="javascript:void(0)">返回顶部</a></div>{INLINE_JS}')


def _links(items: list[tuple[str, str]]) -> str:
    return "".join(f'<li><a href="{h}" target="_blank">{escape(t)}</a></li>' for h, t in items)


def _paras(paragraphs: list[str], indent: bool = True) -> str:
    out = []
    for p in paragraphs:
        style = ' style="text-indent:2em;"' if indent else ""
        out.append(f"<p{style}>{escape(p)}</p>")
    return "\n".join(out)


def related(items: list[tuple[str, str]], heading: str = "相关文章") -> str:
    """A related-documents list after the article, as portals show it."""
    if not items:
        return ""
    lis = "".join(f'<li><a href="{h}" target="_blank">{escape(t)}</a></li>' for h, t in items)
    return f'<div class="xgwz"><h3>{heading}</h3><ul>{lis}</ul></div>'


def _attachments(atts: list[dict], cls: str = "fj") -> str:
    if not atts:
        return ""
    links = "".join(f'<p><a href="{escape(a["href"])}">{escape(a["name"])}</a></p>' for a in atts)
    return f'<div class="{cls}"><p>附件:</p>{links}</div>'


# --------------------------------------------------------------------------------------------
# Panjin platform: www.panjin.gov.cn and its subsites (Shuangtaizi)
# --------------------------------------------------------------------------------------------

PANJIN_NAV = [
    ("/", "首页"), ("/html/1738/", "盘锦要闻"), ("/html/1739/", "部门动态"), ("/html/1740/", "县区动态"),
    ("/html/1950/", "市长简介"), ("/html/2059/", "政府信息公开制度"), ("/html/1875/", "市政府办文件"),
    ("/html/1898/", "市政府文件"), ("/html/2837/", "市人大代表建议答复"), ("/html/2846/", "市政协提案答复"),
    ("/html/2735/", "通知公告"), ("/html/1801/", "政策解读"), ("/html/1802/", "人事信息"),
    ("/html/1803/", "财政预决算"), ("/html/1804/", "重点领域信息公开"), ("/html/1805/", "政务服务"),
    ("/html/1806/", "办事指南"), ("/html/1807/", "互动交流"), ("/html/1808/", "市长信箱"),
    ("/html/1809/", "在线访谈"), ("/html/1810/", "征集调查"), ("/html/1811/", "走进盘锦"),
]
PANJIN_HEAD = """<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" type="text/css" href="/statics/css/common.css">
<link rel="stylesheet" type="text/css" href="/statics/css/ny.css">
<script type="text/javascript" src="/statics/js/jquery-1.11.3.min.js"></script>
<script type="text/javascript" src="/statics/js/zh_choose.js"></script>
<script type="text/javascript">var _hmt = _hmt || [];(function(){var hm=document.createElement("script");hm.src="/statics/js/tongji.js";var s=document.getElementsByTagName("script")[0];s.parentNode.insertBefore(hm,s);})();</script>"""


def panjin_header(site_name: str) -> str:
    return f"""<div class="top_bar"><div class="w1200">
<span class="fl">欢迎访问{escape(site_name)}网站</span>
<span class="fr"><a href="javascript:void(0)" id="wza">无障碍浏览</a> | <a href="javascript:zh_tran('s');">简体</a> | <a href="javascript:zh_tran('t');">繁体</a> | <a href="/html/1808/">市长信箱</a></span>
</div></div>
<div class="header"><div class="w1200"><div class="logo"><a href="/"><img src="/statics/images/logo.png" alt="{escape(site_name)}"></a></div>
<div class="search"><form action="/search/" method="get"><input type="text" name="word" placeholder="请输入关键字"><input type="hidden" name="site" value="allstation"><button type="submit">搜索</button></form></div></div></div>
<div class="nav"><ul class="w1200">{"".join(f'<li><a href="{h}">{escape(n)}</a>{_subnav(h)}</li>' for h, n in PANJIN_NAV)}</ul></div>"""


def panjin_footer(org: str, site_code: str) -> str:
    return f"""{portal_links("盘锦市", "panjin.gov.cn")}<div class="footer"><div class="w1200">
<p><a href="/html/1811/">关于我们</a> | <a href="/sitemap.html">网站地图</a> | <a href="/html/1807/">联系我们</a></p>
<p>主办单位:{escape(org)} 版权所有:盘锦市人民政府办公室 <a href="/sitemap.html">网站地图</a></p>
<p>网站标识码:{site_code} ICP备案序号:辽ICP备06000634号-1 辽公网安备 21110202000072号</p>
<p>联系电话:0427-2360834</p>
<script type="text/javascript" src="/statics/js/jiucuo.js"></script>
</div></div>"""


def panjin_meta_table(meta: dict, title: str) -> str:
    """2 label/value pairs per row, labels padded with full-width spaces [C]."""
    v = {k: escape(meta.get(k) or "") for k in ("index_no", "topic", "issuer", "written_date", "doc_no",
                                                 "published_date", "keywords")}
    return f"""<table class="xxgk_table" width="100%" border="0" cellspacing="0" cellpadding="0">
<tr><td class="xxgk_lab">索{FW}引{FW}号:</td><td class="xxgk_val">{v['index_no']}</td><td class="xxgk_lab">主题分类:</td><td class="xxgk_val">{v['topic']}</td></tr>
<tr><td class="xxgk_lab">发文机关:</td><td class="xxgk_val">{v['issuer']}</td><td class="xxgk_lab">成文日期:</td><td class="xxgk_val">{v['written_date']}</td></tr>
<tr><td class="xxgk_lab">标{FW}{FW}题:</td><td class="xxgk_val" colspan="3">{escape(title)}</td></tr>
<tr><td class="xxgk_lab">发文字号:</td><td class="xxgk_val">{v['doc_no']}</td><td class="xxgk_lab">发布日期:</td><td class="xxgk_val">{v['published_date']}</td></tr>
<tr><td class="xxgk_lab">主{FW}题{FW}词:</td><td class="xxgk_val" colspan="3">{v['keywords']}</td></tr>
</table>"""


def panjin_detail(*, site_name: str, org: str, site_code: str, crumbs: list[str], title: str,
                  meta: dict | None, date: str, views: int, paragraphs: list[str],
                  attachments: list[dict], old: bool = False, charset: str = "utf-8",
                  rel: list[tuple[str, str]] = (), parts: str = "") -> str:
    """A Panjin-platform detail page; ``old`` is the 2010-2017 template (您现在所在的位置) [C].
    ``parts``: the pager of an article P8 split into content-{id}-{k}.html pages [C: P8 rules]."""
    crumb_label = "您现在所在的位置:" if old else "当前位置:"
    crumb_html = " &gt; ".join([f'<a href="/">{escape(crumbs[0])}</a>'] +
                               [f'<a href="javascript:void(0)">{escape(c)}</a>' for c in crumbs[1:]])
    table = panjin_meta_table(meta, title) if meta is not None else ""
    if old:
        body = f"""<table width="960" align="center" border="0" cellpadding="0" cellspacing="0"><tr><td>
<div class="position">{crumb_label} {crumb_html}</div>
{table}
<table width="100%"><tr><td class="biaoti" align="center"><b>{escape(title)}</b></td></tr>
<tr><td align="center" class="fbsj">发布时间:{date} 浏览次数:{views}</td></tr>
<tr><td class="zoom"><div id="zoom" class="xwnr_txt">
{_paras(paragraphs)}
</div>{_attachments(attachments)}</td></tr></table>
<div class="print"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
</td></tr></table>"""
    else:
        body = f"""<div class="ny_mb w1200">
<div class="dqwz">{crumb_label} {crumb_html}</div>
<div class="ny_mb_inner_box ny_mb_inner_box1">
{table}
<p class="ny_title">{escape(title)}</p>
<div class="fbsj_llcs_box"><span>发布时间:{date}</span> <span>浏览次数:<em id="hits">{views}</em></span>
<span class="zh">字号:<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a></span></div>
<div class="xwnr_txt" id="zoom">
{_paras(paragraphs)}
</div>
{parts}
{_attachments(attachments)}
<div class="fx"><span>分享到:</span><a class="wx" href="javascript:void(0)">微信</a><a class="wb" href="javascript:void(0)">微博</a><a class="qq" href="javascript:void(0)">QQ空间</a></div>
<div class="print"><a href="javascript:window.print()">打印本页</a> <a href="javascript:window.close()">关闭窗口</a></div>
</div>
{related(list(rel))}
</div>"""
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="{charset}">
<title>{escape(title)}-{escape(site_name)}</title>
<meta name="keywords" content="{escape(site_name)}">
{PANJIN_HEAD}
</head><body>
{panjin_header(site_name)}
{body}
{panjin_footer(org, site_code)}
</body></html>"""


def subsite_detail(*, site_name: str, org: str, site_code: str, crumbs: list[str], title: str,
                   date: str, views: int, paragraphs: list[str], attachments: list[dict],
                   rel: list[tuple[str, str]] = ()) -> str:
    """Subsite template of the same platform: title, then 发布日期 / 浏览次数 list items [C]."""
    crumb_html = " &gt; ".join(escape(c) for c in crumbs)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>
{PANJIN_HEAD}
</head><body>
{panjin_header(site_name)}
<div class="main w1200"><div class="location">当前位置:<a href="/">首页</a> &gt; {crumb_html}</div>
<div class="article">
<h1 class="art_title">{escape(title)}</h1>
<ul class="art_info"><li>- 发布日期:{date}</li><li>- 浏览次数:{views}</li></ul>
<div class="art_con xwnr_txt">
{_paras(paragraphs)}
</div>
{_attachments(attachments)}
<div class="print"><a href="javascript:window.print()">打印本页</a> <a href="javascript:window.close()">关闭窗口</a></div>
</div>
{related(list(rel), "相关信息")}
</div>
{panjin_footer(org, site_code)}
</body></html>"""


def p8_pager(page: int, pages: int, page_url, variant: str) -> str:
    """The pagers PHP168 P8 draws [I for Panjin; the templates are P8's stock ones]:
    - default: 首页 上一页 k/N 下一页 尾页, with no 下一页 on the last page;
    - p8_template_2: every link always drawn, a missing one as <a href="###" class="s1 s3">
      (the last page's 下一页 loops a naive crawler on its own page for ever);
    - p8_base: base_page_template, numbered links, and on the last page 下一页 pointing at itself;
    - loop: a broken pager whose 下一页 on the last page leads back to page 1."""
    if variant == "p8_template_2":
        prev = f'<a href="{page_url(page - 1)}" class="s1">上一页</a>' if page > 1 else '<a href="###" class="s1 s3">上一页</a>'
        nxt = f'<a href="{page_url(page + 1)}" class="s1">下一页</a>' if page < pages else '<a href="###" class="s1 s3">下一页</a>'
        return (f'<div class="page_template_2"><a href="{page_url(1)}" class="s1">首页</a>{prev}'
                f'<span class="s2">{page}/{pages}</span>{nxt}<a href="{page_url(pages)}" class="s1">尾页</a></div>')
    if variant == "p8_base":
        nums = "".join(f"<b>{k}</b>" if k == page else f'<a href="{page_url(k)}">{k}</a>' for k in range(1, pages + 1))
        return (f'<div class="pagelist"><a href="{page_url(1)}">首页</a><a href="{page_url(max(1, page - 1))}">上一页</a>'
                f'{nums}<a href="{page_url(min(pages, page + 1))}">下一页</a><a href="{page_url(pages)}">尾页</a></div>')
    nav = [f'<a href="{page_url(1)}">首页</a>']
    if page > 1:
        nav.append(f'<a href="{page_url(page - 1)}">上一页</a>')
    nav.append(f"<span>{page}/{pages}</span>")
    if page < pages:
        nav.append(f'<a href="{page_url(page + 1)}">下一页</a>')
    elif variant == "loop":
        nav.append(f'<a href="{page_url(1)}">下一页</a>')
    nav.append(f'<a href="{page_url(pages)}">尾页</a>')
    return f'<div class="page">{" ".join(nav)}</div>'


def side_box(links: list[tuple[str, str]]) -> str:
    """A 通知公告 box of another channel beside the list, linking detail pages too."""
    if not links:
        return ""
    return ('<div class="side_box"><h3>通知公告</h3><ul>' + "".join(
        f'<li><a href="{h}" target="_blank">{escape(t)}</a></li>' for h, t in links) + "</ul></div>")


def panjin_list(*, site_name: str, org: str, site_code: str, heading: str,
                items: list[tuple[str, str, str]], page: int, pages: int, page_url, variant: str = "default",
                side: list[tuple[str, str]] = ()) -> str:
    """Channel list with 下一页 / 尾页 anchors [I: no Panjin list page is public]."""
    lis = "".join(f'<li><a href="{h}" title="{escape(t)}" target="_blank">{escape(t)}</a><span>{d}</span></li>'
                  for h, t, d in items)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(heading)}-{escape(site_name)}</title>
{PANJIN_HEAD}
</head><body>
{panjin_header(site_name)}
<div class="ny_mb w1200"><div class="dqwz">当前位置: <a href="/">首页</a> &gt; {escape(heading)}</div>
<div class="list_box"><h2>{escape(heading)}</h2><ul class="list">{lis}</ul>
{p8_pager(page, pages, page_url, variant)}</div>{side_box(list(side))}</div>
{panjin_footer(org, site_code)}
</body></html>"""


# --------------------------------------------------------------------------------------------
# TRS WCM: kjj.cq.gov.cn
# --------------------------------------------------------------------------------------------

CQ_NAV = [
    ("/", "首页"), ("/zwxx_176/", "政务信息"), ("/zwxx_176/tzgg/", "通知公告"), ("/zwgk_176/", "政务公开"),
    ("/zwgk_176/zwxxgkml/", "政府信息公开目录"), ("/zwgk_176/zwxxgkml/zcwj/xzgfxwj/", "行政规范性文件"),
    ("/zwgk_176/zwxxgkml/zcwj/qtwj/", "其他文件"), ("/zwgk_176/zwxxgkml/rddbjyblqkgk/", "人大代表建议办理情况公开"),
    ("/zwgk_176/zwxxgkml/zxwytablqkgk/", "政协委员提案办理情况公开"), ("/zwfw_176/", "政务服务"),
    ("/hdjl_176/", "互动交流"), ("/ztzl_176/", "专题专栏"), ("/kjzx_176/", "科技资讯"),
]
CQ_FOOTER = portal_links("重庆市", "cq.gov.cn") + """<div class="footer"><div class="container">
<p><a href="/zwgk_176/">政务公开</a> | <a href="/sitemap/">网站地图</a> | <a href="/lxwm/">联系我们</a></p>
<p>主办单位:重庆市科学技术局 版权所有:重庆市科学技术局</p>
<p>地址:重庆市渝北区青枫北路 联系电话:023-63862225</p>
<p>网站标识码:5000000019 渝ICP备05003300号 渝公网安备 50011202500713号</p>
</div></div>"""
CQ_HEAD = """<meta name="SiteName" content="重庆市科学技术局">
<link rel="stylesheet" href="/images/2020/css/base.css"><link rel="stylesheet" href="/images/2020/css/zwgk.css">
<script src="/images/2020/js/jquery.min.js"></script><script src="/images/2020/js/common.js"></script>"""


def cq_header() -> str:
    return f"""<div class="header"><div class="container"><a class="logo" href="/"><img src="/images/2020/logo.png" alt="重庆市科学技术局"></a>
<div class="top-link"><a href="javascript:void(0)">无障碍浏览</a> <a href="javascript:void(0)">长者模式</a></div>
<form class="search" action="/igs/front/search.jhtml"><input name="searchWord"><button>搜索</button></form></div>
<div class="nav"><ul class="container">{"".join(f'<li><a href="{h}">{escape(n)}</a>{_subnav(h)}</li>' for h, n in CQ_NAV)}</ul></div></div>"""


CQ_LABELS = [("index_no", "索引号"), ("doc_no", "发文字号"), ("topic", "主题分类"), ("genre", "体裁分类"),
             ("issuer", "发布机构"), ("written_date", "成文日期"), ("published_date", "发布日期"), ("validity_text", "有效性")]


def cq_detail(*, crumbs: list[str], title: str, meta: dict, date: str, paragraphs: list[str],
              attachments: list[dict], column: str, rel: list[tuple[str, str]] = ()) -> str:
    """Detail page: metadata rendered twice (desktop table, mobile list), body in .trs_editor_view [C]."""
    fields = [(lab, meta.get(key) or "") for key, lab in CQ_LABELS if key != "validity_text" or meta.get(key)]
    rows, row = [], []
    for i, (lab, val) in enumerate(fields):
        row.append(f'<td class="t1">[ {lab} ]</td><td class="t2">{escape(val)}</td>')
        if len(row) == 2 or lab == "发布机构" or i == len(fields) - 1:
            rows.append("<tr>" + "".join(row) + "</tr>")
            row = []
    mobile = "".join(f'<li><span class="t1">[ {lab} ]</span><span class="t2">{escape(val)}</span></li>'
                     for lab, val in fields)
    crumb_html = "&gt;&gt;".join([f'<a href="/">{escape(crumbs[0])}</a>'] +
                                 [f'<a href="javascript:void(0)">{escape(c)}</a>' for c in crumbs[1:]])
    atts = "".join(f'<p>附件:<a href="{escape(a["href"])}">{escape(a["name"])}</a></p>' for a in attachments)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{escape(title)}_重庆市科学技术局</title>
<meta name="ArticleTitle" content="{escape(title)}"><meta name="PubDate" content="{date} 09:00">
<meta name="ContentSource" content="重庆市科学技术局"><meta name="ColumnName" content="{escape(column)}">
{CQ_HEAD}
</head><body>
{cq_header()}
<div class="container"><div class="crumbs">您当前的位置:{crumb_html}</div>
<div class="zwxl-main">
<table class="zwxl-table hidden-xs"><tbody>{''.join(rows)}</tbody></table>
<div class="zwxl-table-m visible-xs"><ul>{mobile}</ul></div>
<div class="zwxl-title"><p class="tit">{escape(title)}</p><p class="info"><span>日期:{date}</span>
<span class="fontsize">字号:<a href="javascript:void(0)">大</a> <a href="javascript:void(0)">中</a> <a href="javascript:void(0)">小</a></span></p></div>
<div class="zwxl-content"><div class="zwxl-article pages_content">
<div class="trs_editor_view TRS_UEDITOR trs_paper_default trs_web">
{_paras(paragraphs)}
</div>
{atts}
</div></div>
<div class="zwxl-bar"><div class="share">分享到:<a href="javascript:void(0)">微信</a><a href="javascript:void(0)">微博</a></div>
<div class="ewm"><img src="/images/2020/ewm.png" alt=""><p>扫一扫在手机打开当前页</p></div>
<a href="javascript:window.print()">【打印】</a> <a href="javascript:window.close()">【关闭】</a></div>
{related(list(rel), "相关文件")}
</div></div>
{CQ_FOOTER}
</body></html>"""


def trs_pager(page: int, pages: int, total: int, variant: str) -> str:
    """TRS WCM's pager scripts [C: portals.md; public scrapers read createPageHTML(N, …) and
    countPage (code-id 53107725130)]: createPage(N, cur, …) (default), createPageHTML with the
    count in a variable (trs_createpagehtml), or only m_nRecordCount / m_nPageSize (trs_recordcount)."""
    if variant == "trs_createpagehtml":
        return (f'<script>\nvar countPage = {pages}//共多少页\nvar currentPage = {page - 1};//当前页\n'
                f'createPageHTML(countPage, currentPage, "index", "html");\n</script>')
    if variant == "trs_recordcount":
        return (f'<script>\nvar m_nRecordCount = {total};\nvar m_nPageSize = {-(-total // pages)};\n'
                f'var m_nCurrPage = {page - 1};\n</script><div id="pagenav"></div>')
    return f"""<script>
//wcm分页,总记录:{total}
createPage({pages}, {page - 1}, "index", "html");
</script>"""


def cq_list(*, heading: str, crumbs: list[str], items: list[dict], page: int, pages: int,
            template: str, variant: str = "default", total: int | None = None,
            side: list[tuple[str, str]] = ()) -> str:
    """List page: template A (ul.list) or B (table.zcwjk-list), pagination by createPage [C]."""
    if template == "A":
        lis = "".join(f'<li class="clearfix"><a href="{i["href"]}" target="_blank" title="{escape(i["title"])}">'
                      f'{escape(i["title"])}</a><span>{i["date"]}</span></li>' for i in items)
        block = f'<ul class="list">{lis}</ul>'
    else:
        trs = ['<tr class="zcwjk-list-h"><td class="num">序号</td><td class="title">标题</td></tr>']
        for n, i in enumerate(items, 1):
            trs.append(f'<tr class="zcwjk-list-c clearfix"><td class="num">{n}</td><td class="title">'
                       f'<a href="{i["href"]}" target="_blank"><p class="tit">{escape(i["title"])}</p>'
                       f'<p class="info"><i class="kh">(</i><span>发文字号:{escape(i.get("doc_no") or "")}</span>'
                       f'<span class="time">成文日期 :{i.get("written") or i["date"]}</span><i class="kh">)</i></p></a></td></tr>')
        block = f'<table class="zcwjk-list"><tbody>{"".join(trs)}</tbody></table>'
    total = total if total is not None else len(items)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{escape(heading)}_重庆市科学技术局</title>
{CQ_HEAD}
</head><body>
{cq_header()}
<div class="container"><div class="crumbs">您当前的位置:{'&gt;&gt;'.join(escape(c) for c in crumbs)}</div>
<div class="list-box"><h3>{escape(heading)}</h3>
{block}
<div class="page" id="page"></div>
{trs_pager(page, pages, total, variant)}
</div>{side_box(list(side))}</div>
{CQ_FOOTER}
</body></html>"""


# --------------------------------------------------------------------------------------------
# VSB (博达): kjj.linyi.gov.cn and sister sites
# --------------------------------------------------------------------------------------------

def vsb_header(site_name: str, nav: list[tuple[str, str]]) -> str:
    return f"""<div class="top"><div class="w1200"><span>{escape(site_name)}</span>
<a href="javascript:void(0)" class="wza">无障碍浏览</a> <a href="http://www.linyi.gov.cn">临沂市人民政府</a></div></div>
<div class="nav"><ul>{"".join(f'<li><a href="{h}">{escape(n)}</a>{_subnav(h[:-4] + "/")}</li>' for h, n in nav)}</ul></div>"""


def vsb_footer(site_name: str, site_code: str) -> str:
    return f"""{portal_links("临沂市", "linyi.gov.cn")}<div class="footer"><p>{escape(site_name)}主办 市政府网站群技术支持</p>
<p>网站标识码{site_code} 鲁ICP备05026973号</p>
<p>服务热线:(0539) 7030001 8313320</p>
<p>鲁公网安备 37130202371841号</p></div>"""


VSB_LABELS = [("index_no", "索 引 号"), ("issuer", "发布机构"), ("topic", "主题分类"), ("written_date", "成文日期"),
              ("published_date", "公开日期"), ("doc_no", "文  号"), ("validity_text", "效力状态")]


def vsb_detail(*, site_name: str, site_code: str, nav: list[tuple[str, str]], crumbs: list[str],
               title: str, meta: dict, date: str, author: str, paragraphs: list[str],
               attachments: list[dict], prev: tuple[str, str] | None, next_: tuple[str, str] | None,
               ids: tuple[str, str], show_validity: bool, rel: list[tuple[str, str]] = ()) -> str:
    """Detail page: metadata table, form _newscontent_fromname, #vsb_content .v_news_content [C/G]."""
    cells = [(lab, meta.get(key) or "") for key, lab in VSB_LABELS if key != "validity_text" or show_validity]
    cells.insert(2, ("存放位置", ""))
    cells.insert(5, ("公开方式", "主动公开"))
    rows = []
    for i in range(0, len(cells), 2):
        pair = cells[i:i + 2]
        rows.append("<tr>" + "".join(f'<td class="bt">{lab}</td><td class="nr">{escape(val)}</td>'
                                     for lab, val in pair) + "</tr>")
    rows.append(f'<tr><td class="bt">信息名称</td><td class="nr" colspan="3">{escape(title)}</td></tr>')
    crumb_html = " &gt;&gt; ".join(escape(c) for c in crumbs)
    atts = ""
    if attachments:
        atts = '<ul style="list-style-type:none;">' + "".join(
            f'<li>附件【<a href="{escape(a["href"])}" target="_blank">{escape(a["name"])}</a>】已下载<span id="nattach{n}"></span>次</li>'
            for n, a in enumerate(attachments)) + "</ul>"
    pn = ""
    if prev:
        pn += f'<div class="prev">上一条:<a href="{prev[0]}">{escape(prev[1])}</a></div>'
    if next_:
        pn += f'<div class="next">下一条:<a href="{next_[0]}">{escape(next_[1])}</a></div>'
    col, art = ids
    return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><title>{escape(title)}-{escape(site_name)}</title>
<meta name="PubDate" content="{date} 10:00">
<link rel="stylesheet" href="/style/style.css"><script type="text/javascript" src="/system/resource/js/counter.js"></script>
<script type="text/javascript" src="/system/resource/js/dynclicks.js"></script>
</head><body>
{vsb_header(site_name, nav)}
<div class="main w1200"><div class="dqwz">当前位置是: <a href="../../index.htm">首页</a> &gt;&gt; {crumb_html} &gt;&gt; 正文</div>
<table class="xxgk" width="100%" cellspacing="0" cellpadding="0">{''.join(rows)}</table>
<form name="_newscontent_fromname">
<h1 class="title" align="center">{escape(title)}</h1>
<div class="info" align="center">{date}&nbsp;&nbsp;&nbsp;作者:{escape(author)} 点击数:<script>_showDynClicks("wbnews", 1164291239, {art})</script>&nbsp;&nbsp;</div>
<div id="vsb_content"><div class="v_news_content">
{_paras(paragraphs)}
</div></div>
{atts}
</form>
<div class="pn">{pn}</div>
<div class="close"><a href="javascript:window.close()">关闭窗口</a></div>
{related(list(rel), "相关链接")}
</div>
{vsb_footer(site_name, site_code)}
</body></html>"""


def vsb_pager(page: int, pages: int, total: int, page_href, variant: str) -> str:
    """VSB pagers [G]: span.p_pages in div.pb_sys_common (default), or the older table whose
    <td id="fanye{n}"> holds '共N条 k/M' beside a.Next 下页/尾页 links [C: a public crawler reads
    td#fanye1948 and 'k/M' there (code-id 16209465229)]."""
    links = []
    if page > 1:
        links.append(f'<a href="{page_href(1)}">首页</a><a href="{page_href(page - 1)}" class="Prev">上页</a>')
    if variant == "vsb_fanye":
        if page < pages:
            links.append(f'<a href="{page_href(page + 1)}" class="Next">下页</a>'
                         f'<a href="{page_href(pages)}" class="Next">尾页</a>')
        return (f'<table cellspacing="0" cellpadding="0" border="0"><tr><td id="fanye214374" width="1%" nowrap>'
                f'共{total}条&nbsp;&nbsp;{page}/{pages}&nbsp;</td><td nowrap>{"&nbsp;".join(links)}</td></tr></table>')
    for k in range(1, pages + 1):
        links.append(f"<span>{k}</span>" if k == page else f'<a href="{page_href(k)}">{k}</a>')
    if page < pages:
        links.append(f'<a href="{page_href(page + 1)}" class="Next">下页</a><a href="{page_href(pages)}">尾页</a>')
    return f'<div class="pb_sys_common"><span class="p_pages">共{total}条 {page}/{pages} {"".join(links)}</span></div>'


def vsb_list(*, site_name: str, site_code: str, nav: list[tuple[str, str]], heading: str,
             items: list[tuple[str, str, str]], page: int, pages: int, total: int, page_href,
             variant: str = "default", side: list[tuple[str, str]] = ()) -> str:
    """Column list; page k>1 lives at {column}/{pages-k+1}.htm, counting down [G]."""
    lis = "".join(f'<li><a href="{h}" target="_blank" title="{escape(t)}">{escape(t)}</a><span>{d}</span></li>'
                  for h, t, d in items)
    return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><title>{escape(heading)}-{escape(site_name)}</title>
<link rel="stylesheet" href="/style/style.css"></head><body>
{vsb_header(site_name, nav)}
<div class="main w1200"><div class="dqwz">当前位置是: 首页 &gt;&gt; {escape(heading)}</div>
<div class="list"><ul>{lis}</ul></div>
{vsb_pager(page, pages, total, page_href, variant)}
{side_box(list(side))}</div>
{vsb_footer(site_name, site_code)}
</body></html>"""


def robots(disallow: list[str]) -> str:
    return "User-agent: *\n" + "".join(f"Disallow: {d}\n" for d in disallow) + "\n"


def quote_path(p: str) -> str:
    return quote(p, safe="/%:=&?~#+!$,;'@()*[]")


# --------------------------------------------------------------------------------------------
# Hanweb 大汉 jcms: column lists from a jpage datastore, details /art/{Y}/{M}/{D}/art_{col}_{id}.html
# [C: list markup and dataproxy.jsp XML as public scrapers read them, code-ids 71005724080
#  (datastore/totalrecord/totalpage/recordset/record CDATA), 70234531347 (the first page's records
#  inline in <script type="text/xml">), 24499768462 (dataproxy.jsp?page=…&columnid=…&unitid=…);
#  detail template [G]: ArticleTitle meta, 信息公开 table, body in #zoom]
# --------------------------------------------------------------------------------------------

def hanweb_record(href: str, title: str, day: str) -> str:
    return (f'<record><![CDATA[<li><a href="{href}" title="{escape(title)}" target="_blank">{escape(title)}</a>'
            f'<span class="bt-data-time">{day}</span></li>]]></record>')


def hanweb_list(*, site_name: str, heading: str, records: list[tuple[str, str, str]], total: int, per_page: int,
                col: str, unit: str, webid: str) -> str:
    recs = "".join(hanweb_record(*r) for r in records)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{escape(heading)} {escape(site_name)}</title>
<meta name="SiteName" content="{escape(site_name)}"><meta name="ColumnName" content="{escape(heading)}">
<script type="text/javascript" src="/module/jslib/jquery/jquery.js"></script>
<script type="text/javascript" src="/module/jslib/jpage/jpage.js"></script></head><body>
<div class="header"><div class="logo">{escape(site_name)}</div></div>
<div class="location">当前位置：<a href="/">首页</a> &gt; {escape(heading)}</div>
<div class="bt-list"><h2>{escape(heading)}</h2>
<div id="{unit}"><script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid={webid}&path=/&columnid={col}&unitid={unit}&permissiontype=0"></a>]]></nextgroup><recordset>{recs}</recordset></datastore></script></div>
<script language="javascript">$(document).ready(function(){{ $('#{unit}').jpage({{ dataStore: dataStore, perPage: '{per_page}', totalRecord: '{total}', proxyUrl: '/module/web/jpage/dataproxy.jsp', ajaxParam: {{ col: 1, appid: 1, webid: {webid}, path: '/', columnid: {col}, sourceContentType: 1, unitid: '{unit}', webname: '{escape(site_name)}', permissiontype: 0 }} }}); }});</script>
</div>
<div class="footer"><p>主办单位：{escape(site_name)}</p><p>网站标识码：3205000019</p></div>
</body></html>"""


def hanweb_dataproxy(records: list[tuple[str, str, str]], total: int, pages: int) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><datastore><totalrecord>{total}</totalrecord>'
            f'<totalpage>{pages}</totalpage><recordset>{"".join(hanweb_record(*r) for r in records)}</recordset>'
            f'</datastore>')


HANWEB_LABELS = [("index_no", "索引号"), ("issuer", "发布机构"), ("written_date", "成文日期"),
                 ("doc_no", "文号"), ("published_date", "发布日期"), ("topic", "主题分类"), ("validity_text", "有效性")]


def hanweb_detail(*, site_name: str, label: str, title: str, meta: dict, date: str, paragraphs: list[str],
                  attachments: list[dict]) -> str:
    cells = "".join(f'<tr><th>{lab}：</th><td>{escape(meta.get(key) or "")}</td></tr>' for key, lab in HANWEB_LABELS)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{escape(title)} {escape(site_name)}</title>
<meta name="SiteName" content="{escape(site_name)}"><meta name="ColumnName" content="{escape(label)}">
<meta name="ArticleTitle" content="{escape(title)}"><meta name="PubDate" content="{date} 09:30">
<script type="text/javascript" src="/module/jslib/jquery/jquery.js"></script></head><body>
<div class="header"><div class="logo">{escape(site_name)}</div></div>
<div class="location">当前位置：<a href="/">首页</a> &gt; 政务公开 &gt; {escape(label)}</div>
<table class="xxgk_table">{cells}</table>
<div class="article"><div class="article-title">{escape(title)}</div>
<div class="article-info">发布日期：{date} 浏览次数：<span id="hits">0</span></div>
<div id="zoom">
{_paras(paragraphs)}
</div>
{_attachments(attachments)}
</div>
<div class="footer"><p>主办单位：{escape(site_name)}</p><p>网站标识码：3205000019</p></div>
</body></html>"""


def p8_parts(path: str, k: int, n: int) -> str:
    """The pager under a split P8 article: page numbers, 上一页/下一页 [I: P8's content pager]."""
    stem = path.rsplit("/", 1)[1][: -len(".html")]
    href = lambda j: f"{stem}.html" if j == 1 else f"{stem}-{j}.html"
    nums = "".join(f"<b>{j}</b>" if j == k else f'<a href="{href(j)}">{j}</a>' for j in range(1, n + 1))
    prev = f'<a href="{href(k - 1)}">上一页</a>' if k > 1 else ""
    nxt = f'<a href="{href(k + 1)}">下一页</a>' if k < n else ""
    return f'<div class="content_page">{prev}{nums}{nxt}</div>'
