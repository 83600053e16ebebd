"""The PDF house style every SceneMatch report shares (reportlab; no Qt).

- **Font**: the TrueType CJK font shipped in resources/fonts is registered once and embedded
  (subset) in every PDF, so the documents read on machines without Chinese fonts.
  ``UnicodeCIDFont('STSong-Light')`` would not be embedded (see STYLE.md).
- **Escaping**: user text is data. :func:`esc` escapes it before it enters Paragraph markup;
  :func:`para` and :func:`cell` always escape.
- **Line breaking**: reportlab's CJK wrapper lets a line start with ，；：！？ and hangs at most
  one closing mark. :func:`cjk_split` (installed in place of ``cjkFragSplit``) hangs up to two
  closing marks in the margin and otherwise pulls the previous character down, so no line
  starts with a character of :data:`NO_LINE_START`, and no line ends with an opening bracket.
- **Pages**: A4, a header with the catalogue name and the date, "第 n 页 / 共 m 页" in the
  footer (:class:`NumberedCanvas` defers drawing until the page count is known), an optional
  table of contents fed by ``H1``/``H2`` headings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as _xml_escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)
from reportlab.platypus import paragraph as rl_paragraph
from reportlab.platypus.tableofcontents import TableOfContents
from reportlab.rl_config import _FUZZ

FONT = "SceneSans"
FONT_FILE = "SceneSans.ttf"

PAGE = A4
MARGIN = 18 * mm
CONTENT_WIDTH = PAGE[0] - 2 * MARGIN

# Chinese typography (GB/T 15834 punctuation, 行首禁则): closing marks never start a line.
NO_LINE_START = frozenset(
    "，。；：！？、）》」』】〕〗〉’”…‥·"
    "!),.:;?]}%‰℃°′″"
    "ー々〻ゝゞヽヾ〜～"
)
# Opening marks never end a line.
NO_LINE_END = frozenset("（《「『【〔〖〈‘“([{£¥$￥＄")
MAX_HANG = 2

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
ACCENT = colors.HexColor("#9b1c1c")  # the red of official documents, used sparingly
RULE = colors.HexColor("#cbd2d9")
HEAD_BG = colors.HexColor("#eef1f4")
GOOD = colors.HexColor("#1e7b34")
BAD = colors.HexColor("#b42318")
SERIES = [colors.HexColor(c) for c in
          ("#1f5f99", "#c8553d", "#2a9d8f", "#e9c46a", "#6d597a", "#8ab17d", "#e76f51", "#577590")]


# -- font ----------------------------------------------------------------------

@cache
def register_fonts() -> str:
    """Register the shipped CJK TrueType font under :data:`FONT` (once); returns its name.

    The font is read through ``importlib.resources`` so a frozen build finds it too. The
    same face serves bold and italic (``<b>`` in markup must not fail); headings get weight
    from size and colour instead.
    """
    data = resources.files("resources.fonts").joinpath(FONT_FILE).read_bytes()
    import io

    from reportlab import rl_config

    rl_config.useA85 = 0  # ASCII85-encoding the streams costs time and makes files larger
    pdfmetrics.registerFont(TTFont(FONT, io.BytesIO(data)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT, italic=FONT, boldItalic=FONT)
    _install_line_breaking()
    return FONT


@cache
def _glyphs() -> frozenset[int]:
    register_fonts()
    face = pdfmetrics.getFont(FONT).face
    return frozenset(face.charToGlyph)


def printable(text: str) -> str:
    """``text`` with characters the font has no glyph for (emoji, rare symbols) replaced by
    "□", so the page never shows an invisible gap where user text was."""
    glyphs = _glyphs()
    # Characters beyond the BMP (emoji) get a malformed ToUnicode entry from reportlab,
    # which breaks text extraction, so they are replaced even when the font has them.
    return "".join(c if (ord(c) in glyphs and ord(c) <= 0xFFFF) or c in "\n\t" else "□"
                   for c in text)


def clip(text: str, width: float, size: float) -> str:
    """``text`` (made printable, on one line) cut with "…" to fit ``width`` points."""
    text = printable(str(text)).replace("\n", " ")
    if pdfmetrics.stringWidth(text, FONT, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", FONT, size) > width:
        text = text[:-1]
    return text + "…"


# -- escaping ------------------------------------------------------------------

def esc(value: object) -> str:
    """User text made safe for Paragraph markup: ``&``, ``<``, ``>`` escaped, missing
    glyphs replaced (:func:`printable`), ``None`` as empty, line breaks kept."""
    if value is None:
        return ""
    text = printable(str(value))
    return _xml_escape(text).replace("\n", "<br/>")


# -- line breaking ---------------------------------------------------------------

def _break(chars: Sequence[str], widths: Sequence[float], hard: Sequence[bool],
           max_widths: Sequence[float]) -> list[tuple[int, int, float, bool]]:
    """Where lines break: ``(start, end, width used, ends in a hard break)`` per line.

    Fill each line greedily; when the next glyph is inside a Latin word, go back to a space or
    a CJK glyph (at most half the line); hang up to :data:`MAX_HANG` closing marks in the
    margin; then pull characters down until the next line does not start with a closing mark
    and this one does not end with an opening mark.
    """
    from unicodedata import category

    out: list[tuple[int, int, float, bool]] = []
    n = len(chars)
    start = 0
    while start < n:
        max_width = max_widths[min(len(out), len(max_widths) - 1)]
        used = 0.0
        i = start
        hard_break = False
        while i < n:
            if hard[i]:
                used += widths[i]
                i += 1
                hard_break = True
                break
            if used + widths[i] > max_width + _FUZZ and i > start:
                break
            used += widths[i]
            i += 1
        if not hard_break and i < n:
            ch = chars[i][:1] or " "
            if ord(ch) < 0x3000 and category(ch)[0] in "LN":
                # inside a Latin word or number: "IP67" or "2026" is not cut in two.
                for j in range(i - 1, (start + i) // 2, -1):
                    cj = chars[j][:1] or " "
                    if category(cj) == "Zs" or ord(cj) >= 0x3000:
                        i = j + 1
                        break
            hang = 0
            while i < n and hang < MAX_HANG and chars[i] in NO_LINE_START:
                i += 1  # hang the closing mark in the right margin
                hang += 1
            while i < n and i - start > 1 and (
                chars[i] in NO_LINE_START or chars[i - 1] in NO_LINE_END
            ):
                i -= 1  # pull the previous character down to the next line
            used = sum(widths[start:i])
        out.append((start, i, used, hard_break))
        start = i
    return out


def cjk_split(frags: Any, maxWidths: Sequence[float], calcBounds: Any,  # noqa: N803
              encoding: str = "utf8") -> Any:
    """reportlab's ``cjkFragSplit`` (paragraphs of several fragments) with Chinese
    line-breaking rules (:func:`_break`); installed by :func:`register_fonts`."""
    cjk_u = rl_paragraph.cjkU
    glyphs: list[Any] = []
    for f in frags:
        text = f.text
        if isinstance(text, bytes):
            text = text.decode(encoding)
        if text:
            glyphs.extend(cjk_u(t, f, encoding) for t in text)
        else:
            glyphs.append(cjk_u(text, f, encoding))
    widths = []
    for g in glyphs:
        w = g.width
        if hasattr(w, "normalizedValue"):
            w._normalizer = maxWidths[0]
            w = w.normalizedValue(maxWidths[0])
        widths.append(float(w))
    hard = [hasattr(g.frag, "lineBreak") for g in glyphs]
    lines = []
    for n, (a, b, used, hard_break) in enumerate(_break(glyphs, widths, hard, maxWidths)):
        max_width = maxWidths[min(n, len(maxWidths) - 1)]
        lines.append(rl_paragraph.makeCJKParaLine(glyphs[a:b], max_width, used, max_width - used,
                                                  hard_break, calcBounds))
    return rl_paragraph.ParaLines(kind=1, lines=lines)


def word_split(word: str, maxWidths: Sequence[float] | float, fontName: str,  # noqa: N803
               fontSize: float, encoding: str = "utf8") -> list[list[Any]]:
    """reportlab's ``wordSplit`` (a paragraph of one fragment) with the same rules."""
    if isinstance(word, bytes):
        word = word.decode(encoding)
    limits = [float(w) for w in maxWidths] if isinstance(maxWidths, list | tuple) \
        else [float(maxWidths)]  # type: ignore[arg-type]
    widths = [pdfmetrics.stringWidth(c, fontName, fontSize) for c in word]
    out = []
    for n, (a, b, used, _hard) in enumerate(_break(word, widths, [False] * len(word), limits)):
        max_width = limits[min(n, len(limits) - 1)]
        out.append([max_width - used, word[a:b]])
    return out


def _install_line_breaking() -> None:
    rl_paragraph.cjkFragSplit = cjk_split
    rl_paragraph.wordSplit = word_split


def line_texts(paragraph: Paragraph, width: float) -> list[str]:
    """The text of each line ``paragraph`` breaks into at ``width`` (for tests and checks)."""
    paragraph.wrap(width, 10_000)
    blpara = paragraph.blPara
    out = []
    for line in blpara.lines:
        words = getattr(line, "words", None)
        if words is not None:
            out.append("".join(getattr(w, "text", "") for w in words))
        else:
            out.append(" ".join(line[1]))
    return out


# -- styles --------------------------------------------------------------------

@dataclass(frozen=True)
class Styles:
    """The paragraph styles of every report."""

    title: ParagraphStyle
    subtitle: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_head: ParagraphStyle
    note: ParagraphStyle
    toc: list[ParagraphStyle] = field(default_factory=list)


@cache
def styles() -> Styles:
    """The shared styles (Chinese line breaking on every one)."""
    font = register_fonts()

    def style(name: str, size: float, leading: float, **kw: Any) -> ParagraphStyle:
        kw.setdefault("textColor", INK)
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading,
                              wordWrap="CJK", **kw)

    return Styles(
        title=style("Title", 22, 30, alignment=TA_CENTER, spaceAfter=6 * mm),
        subtitle=style("Subtitle", 12, 18, alignment=TA_CENTER, textColor=MUTED),
        h1=style("H1", 15, 21, spaceBefore=5 * mm, spaceAfter=2.5 * mm, textColor=ACCENT,
                 keepWithNext=1),
        h2=style("H2", 11.5, 16, spaceBefore=3 * mm, spaceAfter=1.5 * mm, keepWithNext=1),
        body=style("Body", 10, 15.5, spaceAfter=1.5 * mm),
        small=style("Small", 8.5, 12, textColor=MUTED),
        cell=style("Cell", 8.5, 11.5),
        cell_head=style("CellHead", 8.5, 11.5, textColor=INK),
        note=style("Note", 8.5, 12, textColor=MUTED, spaceBefore=1 * mm),
        toc=[style("TOC1", 10.5, 17, leftIndent=0), style("TOC2", 9.5, 14, leftIndent=6 * mm)],
    )


def para(text: object, style: ParagraphStyle | None = None) -> Paragraph:
    """A paragraph of user text (escaped)."""
    return Paragraph(esc(text), style or styles().body)


def markup(trusted: str, style: ParagraphStyle | None = None) -> Paragraph:
    """A paragraph of markup the code wrote itself; every user value in it must already
    have gone through :func:`esc`."""
    return Paragraph(trusted, style or styles().body)


def cell(value: object, head: bool = False) -> Paragraph:
    """A table cell holding user text (escaped, wrapped)."""
    s = styles()
    return Paragraph(esc(value), s.cell_head if head else s.cell)


def heading(text: str, level: int = 1) -> Paragraph:
    """A section heading; :class:`ReportDoc` puts it in the table of contents."""
    s = styles()
    p = Paragraph(esc(text), s.h1 if level == 1 else s.h2)
    p._toc_level = level
    p._toc_text = text
    return p


def table(rows: Sequence[Sequence[object]], widths: Sequence[float] | None = None, *,
          header: bool = True, zebra: bool = True,
          extra: Iterable[tuple[Any, ...]] = ()) -> Table:
    """A grid of cells: every value that is not already a Flowable is escaped into a
    wrapping cell; the first row is a repeated header when ``header``."""
    data = [[v if isinstance(v, Flowable) else cell(v, head=header and r == 0)
             for v in row] for r, row in enumerate(rows)]
    t = Table(data, colWidths=list(widths) if widths else None, repeatRows=1 if header else 0)
    cmds: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),  # else the cell default pulls in Helvetica
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        cmds.append(("BACKGROUND", (0, 0), (-1, 0), HEAD_BG))
    if zebra:
        for r in range(2 if header else 1, len(data), 2):
            cmds.append(("BACKGROUND", (0, r), (-1, r), colors.HexColor("#f8f9fa")))
    cmds.extend(extra)
    t.setStyle(TableStyle(cmds))
    return t


def key_values(pairs: Sequence[tuple[str, object]], label_width: float = 32 * mm) -> Table:
    """A two-column label/value table (labels are the code's own words, values user text)."""
    return table([(label, value) for label, value in pairs],
                 [label_width, CONTENT_WIDTH - label_width], header=False, zebra=False,
                 extra=[("BACKGROUND", (0, 0), (0, -1), HEAD_BG)])


# -- document ------------------------------------------------------------------

class NumberedCanvas(rl_canvas.Canvas):
    """A canvas that holds every page until the end, so the footer can say 共 m 页."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self._marks: list[tuple[int, str, dict[str, Any]]] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def bookmarkPage(self, key: str, **kw: Any) -> None:  # noqa: N802 (reportlab's name)
        # Pages are only emitted in save(): a bookmark made now would point at page 1.
        self._marks.append((len(self._pages), key, kw))

    def save(self) -> None:
        total = len(self._pages)
        marks = self._marks
        for i, state in enumerate(self._pages):
            self.__dict__.update(state)
            for page, key, kw in marks:
                if page == i:
                    rl_canvas.Canvas.bookmarkPage(self, key, **kw)
            self._draw_footer(total)
            super().showPage()
        super().save()

    def _draw_footer(self, total: int) -> None:
        if getattr(self, "_skip_footer", False):
            return
        self.setFont(FONT, 8.5)
        self.setFillColor(MUTED)
        self.drawCentredString(PAGE[0] / 2, MARGIN * 0.55,
                               f"第 {self._pageNumber} 页 / 共 {total} 页")


@dataclass
class DocInfo:
    """What the header and the PDF metadata say."""

    title: str  # the document's own title (PDF metadata, running header on the right)
    catalogue: str  # the catalogue name (running header on the left)
    date: dt.date = field(default_factory=dt.date.today)
    subject: str = ""
    author: str = "SceneMatch"


class ReportDoc(BaseDocTemplate):
    """A4 document with the running header, page numbers and an optional TOC."""

    def __init__(self, target: str | Path | Any, info: DocInfo) -> None:
        register_fonts()
        super().__init__(
            str(target) if isinstance(target, Path) else target,
            pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN,
            topMargin=MARGIN + 6 * mm, bottomMargin=MARGIN + 2 * mm,
            title=info.title, author=info.author, subject=info.subject or info.title,
            creator="SceneMatch", lang="zh-CN",
            # Without this reportlab puts an unembedded Helvetica on every page.
            initialFontName=FONT, initialFontSize=10, initialLeading=12,
        )
        self.info = info
        # No frame padding: CONTENT_WIDTH is then exactly the width a flowable gets.
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([
            PageTemplate(id="cover", frames=[frame], onPage=self._cover_page,
                         autoNextPageTemplate="page"),
            PageTemplate(id="page", frames=[frame], onPage=self._page),
        ])

    def _cover_page(self, canv: rl_canvas.Canvas, doc: BaseDocTemplate) -> None:
        canv._skip_footer = True

    def _page(self, canv: rl_canvas.Canvas, doc: BaseDocTemplate) -> None:
        canv._skip_footer = False
        canv.saveState()
        canv.setFont(FONT, 8.5)
        canv.setFillColor(MUTED)
        top = PAGE[1] - MARGIN + 1 * mm
        # Both ends of the header share the line: each gets its part, cut with "…".
        date = f"  {self.info.date.isoformat()}"
        room = CONTENT_WIDTH * 0.45 - pdfmetrics.stringWidth(date, FONT, 8.5)
        right = clip(self.info.title, room, 8.5) + date
        left_room = CONTENT_WIDTH - pdfmetrics.stringWidth(right, FONT, 8.5) - 6 * mm
        canv.drawString(MARGIN, top, clip(self.info.catalogue, left_room, 8.5))
        canv.drawRightString(PAGE[0] - MARGIN, top, right)
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.5)
        canv.line(MARGIN, top - 2 * mm, PAGE[0] - MARGIN, top - 2 * mm)
        canv.restoreState()

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 (reportlab's name)
        level = getattr(flowable, "_toc_level", None)
        if level is not None:
            key = f"h{id(flowable)}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(flowable._toc_text, key, level=level - 1)
            self.notify("TOCEntry", (level - 1, esc(flowable._toc_text), self.page, key))


def toc() -> TableOfContents:
    """A table of contents filled from the document's headings (needs :func:`build` with
    ``with_toc=True``)."""
    t = TableOfContents()
    t.levelStyles = styles().toc
    t.dotsMinLevel = 0
    t.tableStyle = TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), register_fonts()),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
    ])
    return t


def build(target: str | Path | Any, info: DocInfo, story: list[Flowable], *,
          cover: bool = False, with_toc: bool = False) -> None:
    """Lay out ``story`` into ``target`` (a path or a binary file object).

    ``cover``: the first page uses the cover template (no header, no page number); every
    later page has them. ``with_toc``: several passes, so the
    table of contents gets its page numbers.
    """
    doc = ReportDoc(target, info)
    if not cover:
        doc.pageTemplates = [doc.pageTemplates[1], doc.pageTemplates[0]]
    if with_toc:
        doc.multiBuild(story, canvasmaker=NumberedCanvas)
    else:
        doc.build(story, canvasmaker=NumberedCanvas)


Drawer = Callable[[], Flowable]


def drawing(width: float, height: float, font_size: float = 8) -> Any:
    """A reportlab.graphics Drawing that uses the embedded font (a bare Drawing puts an
    unembedded Helvetica into the PDF, even with no text in it)."""
    from reportlab.graphics.shapes import Drawing

    d = Drawing(width, height)
    d.initialFontName = register_fonts()
    d.initialFontSize = font_size
    return d
