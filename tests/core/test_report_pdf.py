"""The PDF house style: Chinese line breaking, escaping, embedded fonts, page furniture."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pypdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.reports import pdf

TEXT = ("本场景位于总装车间（二号线），要求机器人完成线束插接、紧固与检测；节拍≤60秒！"
        "是否需要防爆？需要：Ex d IIB T4。环境温度-10～45℃，防护等级IP54。“双足人形”或“轮式人形”均可……")


def lines(text: str, width: float) -> list[str]:
    return pdf.line_texts(pdf.para(text), width)


@pytest.mark.parametrize("width", [60, 77, 93, 110, 131, 150, 187, 240, 333])
def test_no_line_starts_with_a_closing_mark(width):
    got = lines(TEXT, width)
    assert len(got) > 1
    # nothing lost or doubled (a space where a line breaks is the break itself)
    assert "".join(got).replace(" ", "") == TEXT.replace(" ", "")
    for line in got[1:]:
        assert line[0] not in pdf.NO_LINE_START, (width, line)
    for line in got[:-1]:
        assert line[-1] not in pdf.NO_LINE_END, (width, line)


def test_reportlab_alone_would_break_these_rules():
    """The rule is ours: reportlab's own CJK wrap lets a line start with ，；：！？."""
    from reportlab.lib.textsplit import ALL_CANNOT_START

    assert not set("，；：！？") <= set(ALL_CANNOT_START)


def test_two_closing_marks_in_a_row_never_start_a_line():
    text = "甲" * 9 + "）。" + "乙" * 20
    for width in range(40, 160, 3):
        for line in lines(text, width)[1:]:
            assert line[0] not in pdf.NO_LINE_START, (width, line)


def test_a_latin_word_is_not_cut():
    text = "防护等级" * 3 + " IP67 " + "机器人" * 10
    for width in range(60, 200, 7):
        got = lines(text, width)
        assert any("IP67" in line for line in got), (width, got)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="中文机器人场景，。；：！？、（）《》“”ABC 12", min_size=1, max_size=80),
       st.integers(min_value=30, max_value=300))
def test_line_breaking_keeps_text_and_rules(text, width):
    got = lines(text.strip() or "中", width)
    assert "".join(got).replace(" ", "") == (text.strip() or "中").replace(" ", "")
    for line in got[1:]:
        if line and len(line) > 1:
            assert line[0] not in pdf.NO_LINE_START or all(c in pdf.NO_LINE_START for c in line)


def test_user_text_is_escaped_and_reads_back(tmp_path: Path):
    nasty = "联合体<b>加粗</b> & </para> 😀 <font name=x>"
    target = tmp_path / "t.pdf"
    story = [pdf.heading(nasty), pdf.para(nasty), pdf.table([["列", "值"], ["名称", nasty]])]
    pdf.build(target, pdf.DocInfo(title=nasty, catalogue=nasty), story)
    text = pypdf.PdfReader(target).pages[0].extract_text()
    for piece in ("联合体<b>加粗</b>", "& </para>", "<font name=x>"):
        assert piece in text
    assert "□" in text  # the emoji is shown as a box, not silently dropped


def test_every_font_is_embedded_and_pages_are_numbered(tmp_path: Path):
    from reportlab.platypus import PageBreak

    target = tmp_path / "t.pdf"
    story = [pdf.para("封面", pdf.styles().title), PageBreak(), pdf.toc(), PageBreak(),
             pdf.heading("一、概况"), pdf.para(TEXT * 20), pdf.heading("二、成员"),
             pdf.key_values([("名称", "星衡机器人"), ("省份", "浙江省")])]
    pdf.build(target, pdf.DocInfo(title="测试文档", catalogue="测试目录"), story, cover=True,
              with_toc=True)
    out = subprocess.run(["pdffonts", str(target)], capture_output=True, text=True, check=True).stdout
    rows = out.splitlines()[2:]
    assert rows and all(" yes yes yes " in r for r in rows), out
    reader = pypdf.PdfReader(target)
    n = len(reader.pages)
    assert n >= 3
    assert "第 1 页" not in reader.pages[0].extract_text()  # the cover has no footer
    for i in range(1, n):
        page = reader.pages[i].extract_text()
        assert f"第 {i + 1} 页 / 共 {n} 页" in page
        assert "测试目录" in page
    toc_page = reader.pages[1].extract_text()
    assert "一、概况" in toc_page and "二、成员" in toc_page
    assert [o.title for o in reader.outline] == ["一、概况", "二、成员"]
    assert reader.get_destination_page_number(reader.outline[0]) == 2
