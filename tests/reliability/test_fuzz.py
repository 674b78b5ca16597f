"""Any bytes into extract: a Document or a clear ExtractionError, never another exception, quickly."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from crawler.extract import Document, ExtractionError, extract

TAGS = ["<p>", "</p>", "<div class='xwnr_txt'>", "</div>", "<table><tr><td>", "</td></tr></table>", "<script>",
        "</script>", "<style>.a{display:none}</style>", "<sup id='ab12c'></sup>", "<!--", "-->", "<![CDATA[", "]]>",
        "<meta charset='gbk'>", "<title>", "</title>", "<h1>", "</h1>", "索引号:", "发布日期:2021-13-45", "盤(pán)",
        "国产精品一区二区", "尊敬的委员:", "第0942号", "\x00", "\ufffd", "&#0;", "&#xD800;", "&amp", "<a href='javascript:'>"]
htmlish = st.lists(st.one_of(st.sampled_from(TAGS), st.text(max_size=40)), max_size=60).map("".join)


def check(body):
    try:
        d = extract(body, "http://x.gov.cn/a.html")
    except ExtractionError as e:
        assert str(e)
        return
    assert isinstance(d, Document) and isinstance(d.text, str)


@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_any_bytes(body):
    check(body)


@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(htmlish)
def test_any_htmlish_text(text):
    check(text)
    check(text.encode("utf-8", "surrogatepass"))


@pytest.mark.long
@settings(max_examples=3000, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=20000), htmlish.map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_any_input_long(body):
    check(body)
