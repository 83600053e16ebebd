"""Small charts for reports, drawn with reportlab's own graphics (no Qt, no matplotlib).

Every chart is a :class:`~reportlab.graphics.shapes.Drawing`, which is a Flowable: put it
straight into a story. Text is drawn in the embedded CJK font (:data:`core.reports.pdf.FONT`)
and passes through :func:`~core.reports.pdf.printable`, so no unembedded Helvetica enters
the PDF and emoji in user text show as "□" instead of a gap.

- :func:`bar_chart` — horizontal bars, one labelled row per item (long Chinese labels fit
  on the left, the value sits at the end of the bar);
- :func:`share_bar` — one 100 % stacked bar with a legend: the shares of a few parts (the
  fields of a plan), easier to read exactly than a pie.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from core.reports import pdf

ValueFormat = Callable[[float], str]

LABEL_SIZE = 8.0
TITLE_SIZE = 9.5
ROW = 15.0  # height of one bar row (points)
BAR_FILL = 0.62  # share of a row the bar takes
TRACK = colors.HexColor("#f1f3f5")


def plain_number(value: float) -> str:
    """``12`` for 12.0, ``3.5`` for 3.5: the default value label."""
    return f"{value:,.1f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"


def text_width(text: str, size: float = LABEL_SIZE) -> float:
    """Width of ``text`` in the report font at ``size`` points."""
    return float(stringWidth(text, pdf.register_fonts(), size))


def fit_text(text: str, width: float, size: float = LABEL_SIZE) -> str:
    """``text`` (made printable) cut with "…" so it fits in ``width`` points."""
    return pdf.clip(text, width, size)


def _string(x: float, y: float, text: str, size: float = LABEL_SIZE,
            anchor: str = "start", color: colors.Color = pdf.INK) -> String:
    return String(x, y, text, fontName=pdf.register_fonts(), fontSize=size,
                  fillColor=color, textAnchor=anchor)


def _title(drawing: Drawing, title: str | None, width: float, top: float) -> float:
    """Draw ``title`` at the top left; returns the height it took."""
    if not title:
        return 0.0
    drawing.add(_string(0, top - TITLE_SIZE, fit_text(title, width, TITLE_SIZE), TITLE_SIZE))
    return TITLE_SIZE + 6


def _empty(drawing: Drawing, width: float, y: float, text: str) -> None:
    drawing.add(_string(width / 2, y, text, LABEL_SIZE, "middle", pdf.MUTED))


def bar_chart(items: Sequence[tuple[str, float]], width: float, height: float | None = None,
              title: str | None = None, value_format: ValueFormat = plain_number,
              color: colors.Color | None = None, max_label_share: float = 0.42,
              empty_text: str = "（无数据）") -> Drawing:
    """Horizontal bars, one row per ``(label, value)`` in the given order.

    ``height`` None sizes the drawing to the rows (:data:`ROW` points each); a given height
    spreads the rows over it. Labels longer than ``max_label_share`` of the width are cut
    with "…"; values are written after the bar with ``value_format``.
    """
    rows = list(items)
    head = (TITLE_SIZE + 6) if title else 0.0
    if height is None:
        height = head + max(1, len(rows)) * ROW + 4
    drawing = pdf.drawing(width, height, LABEL_SIZE)
    used = _title(drawing, title, width, height)
    if not rows or max((v for _, v in rows), default=0) <= 0:
        _empty(drawing, width, (height - used) / 2, empty_text)
        return drawing

    labels = [pdf.printable(str(label)) for label, _ in rows]
    values = [max(0.0, float(v)) for _, v in rows]
    texts = [value_format(v) for v in values]
    label_w = min(max(text_width(t) for t in labels), width * max_label_share)
    value_w = max(text_width(t) for t in texts) + 6
    x0 = label_w + 6
    span = max(10.0, width - x0 - value_w)
    top = max(values)
    row = (height - used - 4) / len(rows)
    bar_h = min(row * BAR_FILL, 11.0)
    fill = color or pdf.SERIES[0]
    for i, (label, value, text) in enumerate(zip(labels, values, texts, strict=True)):
        mid = height - used - row * (i + 0.5)
        drawing.add(_string(label_w, mid - LABEL_SIZE * 0.35, fit_text(label, label_w),
                            anchor="end"))
        drawing.add(Rect(x0, mid - bar_h / 2, span, bar_h, fillColor=TRACK, strokeColor=None))
        length = span * value / top
        if length > 0:
            drawing.add(Rect(x0, mid - bar_h / 2, length, bar_h, fillColor=fill,
                             strokeColor=None))
        drawing.add(_string(x0 + length + 3, mid - LABEL_SIZE * 0.35, text))
    drawing.add(Line(x0, 2, x0, height - used - 2, strokeColor=pdf.RULE, strokeWidth=0.6))
    return drawing


def share_bar(items: Sequence[tuple[str, float]], width: float, title: str | None = None,
              value_format: ValueFormat = plain_number, bar_height: float = 18.0,
              palette: Sequence[colors.Color] | None = None,
              empty_text: str = "（无数据）") -> Drawing:
    """One 100 % stacked bar of the ``(label, value)`` parts, with a legend underneath
    ("工业 16（53 %）"). Parts with a zero value stay in the legend but take no width."""
    parts = [(pdf.printable(str(label)), max(0.0, float(v))) for label, v in items]
    palette = list(palette or pdf.SERIES)
    total = sum(v for _, v in parts)

    legend = [f"{label}  {value_format(v)}（{v / total:.0%}）" if total else label
              for label, v in parts]
    swatch = 8.0
    gap = 14.0
    # Lay the legend out in rows first, to know the drawing's height.
    legend_rows: list[list[tuple[int, float]]] = [[]]
    x = 0.0
    for i, text in enumerate(legend):
        w = swatch + 4 + min(text_width(text), width - swatch - 4)
        if legend_rows[-1] and x + w > width:
            legend_rows.append([])
            x = 0.0
        legend_rows[-1].append((i, x))
        x += w + gap
    line = LABEL_SIZE + 5
    head = (TITLE_SIZE + 6) if title else 0.0
    height = head + bar_height + 8 + len(legend_rows) * line
    drawing = pdf.drawing(width, height, LABEL_SIZE)
    _title(drawing, title, width, height)
    bar_y = height - head - bar_height
    if total <= 0:
        drawing.add(Rect(0, bar_y, width, bar_height, fillColor=TRACK, strokeColor=None))
        _empty(drawing, width, bar_y + bar_height / 2 - LABEL_SIZE * 0.35, empty_text)
    else:
        x = 0.0
        for i, (_, v) in enumerate(parts):
            w = width * v / total
            if w <= 0:
                continue
            fill = palette[i % len(palette)]
            drawing.add(Rect(x, bar_y, w, bar_height, fillColor=fill,
                             strokeColor=colors.white, strokeWidth=0.8))
            pct = f"{v / total:.0%}"
            if w > text_width(pct) + 6:
                ink = colors.white if _dark(fill) else pdf.INK
                drawing.add(_string(x + w / 2, bar_y + bar_height / 2 - LABEL_SIZE * 0.35, pct,
                                    anchor="middle", color=ink))
            x += w
    for r, entries in enumerate(legend_rows):
        y = bar_y - 8 - line * (r + 1) + 4
        for i, x in entries:
            drawing.add(Rect(x, y, swatch, swatch, fillColor=palette[i % len(palette)],
                             strokeColor=None))
            drawing.add(_string(x + swatch + 4, y + 0.5,
                                fit_text(legend[i], width - x - swatch - 4)))
    return drawing


def _dark(color: colors.Color) -> bool:
    """True when white text reads better than ink on ``color``."""
    r, g, b = color.red, color.green, color.blue
    return 0.299 * r + 0.587 * g + 0.114 * b < 0.6
