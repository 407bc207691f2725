"""Parsing the regulations: counts, structure, citations, numerals, partial texts."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kesu.law import loader
from kesu.law.citations import CitationError, Ref
from kesu.law.numerals import cn_to_int, int_to_cn

C = loader.packaged()
MANIFEST = json.loads((loader.REGULATIONS_DIR / "manifest.json").read_text(encoding="utf-8"))


def test_article_counts_match_the_manifest_per_file():
    by_file: dict[str, int] = {}
    for reg in C.regulations.values():
        for name in reg.files:
            parsed = loader.parse_file(
                name, (loader.REGULATIONS_DIR / name).read_text(encoding="utf-8"), reg.id
            )
            by_file[name] = len(parsed.articles)
    for entry in MANIFEST["files"]:
        assert by_file[entry["file"]] == entry["article_count"], entry["file"]


def test_every_manifest_file_is_a_regulation_and_completeness_follows_it():
    files = {name for reg in C.regulations.values() for name in reg.files}
    assert files == {e["file"] for e in MANIFEST["files"]}
    for entry in MANIFEST["files"]:
        reg = next(r for r in C.regulations.values() if entry["file"] in r.files)
        if not entry["complete"]:
            assert not reg.complete
            assert "节录" in reg.held


def test_two_excerpts_of_the_civil_code_are_one_regulation():
    code = C.regulation("民法典")
    assert code is not None and len(code.files) == 2
    assert sorted(code.articles) == [200, 201, 202, 203, 204, 496, 497, 498]
    assert code.title == "中华人民共和国民法典"


def test_paragraphs_and_items():
    a34 = C.article("电信条例", 34)
    assert len(a34.paragraphs) == 4
    assert "48小时内" in a34.paragraphs[3].text
    a40 = C.article("电信条例", 40)
    assert len(a40.paragraphs) == 1 and [i.number for i in a40.paragraphs[0].items] == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert a40.chapter.endswith("第三章 电信服务")
    # An item after an introducing paragraph belongs to it; the next line is a new 款.
    a57 = C.article("个人信息保护法", 57)
    assert len(a57.paragraphs) == 2 and len(a57.paragraphs[0].items) == 3


def test_provincial_regulations_carry_their_province():
    assert C.regulation("河南电信条例").province == "河南省"
    assert C.regulation("重庆市电信条例").province == "重庆市"
    assert C.regulation("电信条例").province is None


def test_partial_articles_are_marked_and_gaps_are_not_text():
    assert C.article("申诉办法", 14).partial
    assert C.article("申诉办法", 10).partial is False
    guiding = C.regulation("用户个人信息保护规定")
    assert guiding.articles[14].partial and guiding.articles[20].partial
    # The note of what is missing between articles 5 and 14 is not part of article 5.
    assert "未能取得" not in guiding.articles[5].text
    assert C.regulation("电信服务规范").annex["6.7"].partial


@pytest.mark.parametrize(
    "citation, expected",
    [
        ("《中华人民共和国电信条例》第三十二条", "《中华人民共和国电信条例》第三十二条"),
        ("电信条例 32", "《中华人民共和国电信条例》第三十二条"),
        ("电信条例第32条第1款", "《中华人民共和国电信条例》第三十二条第一款"),
        ("消法第55条", "《中华人民共和国消费者权益保护法》第五十五条"),
        (
            "《电信用户申诉处理办法》第十一条第（一）项",
            "《电信用户申诉处理办法》第十一条第（一）项",
        ),
        ("个保法 13条第1款第(2)项", "《中华人民共和国个人信息保护法》第十三条第一款第（二）项"),
        ("民法典第四百九十六条", "《中华人民共和国民法典》第四百九十六条"),
        ("《电信服务规范（节录）》第三条", "《电信服务规范》第三条"),
        ("电信服务规范附件6.6", "《电信服务规范》附件6.6"),
        ("河南电信条例 38", "《河南省电信条例》第三十八条"),
    ],
)
def test_citations_in_many_forms_resolve_to_one_format(citation, expected):
    assert C.format(C.resolve(citation)) == expected


@pytest.mark.parametrize(
    "citation, code",
    [
        ("电信条例 81", "not_held"),
        ("申诉办法 第八条", "not_held"),  # exists in the law, but we hold only 9–14
        ("电信服务规范 第八条", "not_held"),  # the seed cites it; we do not hold it
        ("电信条例 32条第3款", "not_held"),
        ("电信条例 40条第（六）项", "not_held"),
        ("电信法 第十条", "unknown_regulation"),
        ("电信条例 abc", "bad_citation"),
    ],
)
def test_citations_we_do_not_hold_are_refused(citation, code):
    with pytest.raises(CitationError) as err:
        C.resolve(citation)
    assert err.value.code == code


def test_quote_is_the_text_of_the_paragraph_or_item():
    q = C.quote("电信条例 第三十四条第四款")
    assert q["text"].startswith("电信业务经营者应当在迟延交纳") and q["article"] == "第三十四条"
    q = C.quote("电信条例 第四十条第（五）项")
    assert q["text"] == "（五）以不正当手段刁难电信用户或者对投诉的电信用户打击报复。"
    q = C.quote("电信条例 32")
    assert (
        q["text"].startswith("第三十二条 电信用户申告电信服务障碍")
        and q["id"] == "dianxin-tiaoli/a32"
    )
    assert Ref("dianxin-tiaoli", 40, 1, 5).id == "dianxin-tiaoli/a40/p1/i5"


@pytest.mark.parametrize(
    "n, cn",
    [
        (1, "一"),
        (10, "十"),
        (11, "十一"),
        (20, "二十"),
        (32, "三十二"),
        (100, "一百"),
        (101, "一百零一"),
        (110, "一百一十"),
        (204, "二百零四"),
        (496, "四百九十六"),
        (1260, "一千二百六十"),
    ],
)
def test_numerals(n, cn):
    assert int_to_cn(n) == cn and cn_to_int(cn) == n


@given(st.integers(min_value=0, max_value=9999))
def test_numerals_round_trip(n):
    assert cn_to_int(int_to_cn(n)) == n


def test_a_new_regulation_file_loads_with_derived_names(tmp_path):
    (tmp_path / "shiyan-tiaoli-2030.md").write_text(
        '---\ntitle: "广东省试验电信条例"\ncomplete: true\n---\n\n# 广东省试验电信条例\n\n'
        "## 第一章 总则\n\n第一条 为了试验，制定本条例。\n\n"
        "第二条 用户申告障碍的，应当及时修复。\n\n前款所称障碍，包括：\n\n"
        "（一）断线；\n\n（二）无信号。\n",
        encoding="utf-8",
    )
    c = loader.load([loader.REGULATIONS_DIR, tmp_path])
    reg = c.regulation("广东省试验电信条例")
    assert reg is not None and reg.id == "shiyan-tiaoli" and reg.province == "广东省"
    assert len(reg.articles[2].paragraphs) == 2 and len(reg.articles[2].paragraphs[1].items) == 2
    assert c.format(c.resolve("广东省试验电信条例 2条第2款第（二）项")).endswith(
        "第二条第二款第（二）项"
    )
