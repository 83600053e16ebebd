"""Dashboard: the catalogue's counts and simple painted bar charts.

Counts (scenes, organisations, robots planned against the national target, robots
deployed), scenes by field and by category, matched vs unmatched (from the latest
result), each coordinator's plan compliance (green / red with what is missing) and the
scenes' lifecycle statuses. Refreshes on ``session.changed`` and ``result_changed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.model import Status
from core.plan_rules import plan_statuses
from core.stats import catalogue_stats
from gui import i18n
from gui.i18n import FIELD_LABELS, STATUS_LABELS, pick, tr
from gui.session import Session
from gui.views.base import View

GREEN, RED, BLUE, GREY = "#3a9d5d", "#d0473f", "#3d7cc9", "#9aa3ad"
FIELD_COLOURS = {"industrial": "#3d7cc9", "service": "#3a9d5d", "special": "#d08a2e"}


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart."""

    label: str
    value: float
    colour: str = BLUE
    note: str = ""  # text after the value (e.g. what is missing)
    target: float | None = None  # a thin mark where the bar should reach


class BarChart(QWidget):
    """Horizontal bars painted with QPainter: label, bar, value (and a note)."""

    ROW = 22

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars: list[Bar] = []
        self.empty_text = ""
        self.setMinimumHeight(self.ROW * 2)

    def set_bars(self, bars: list[Bar], empty_text: str = "") -> None:
        self.bars = list(bars)
        self.empty_text = empty_text
        self.setMinimumHeight(max(2, len(self.bars)) * self.ROW + 8)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(360, max(2, len(self.bars)) * self.ROW + 8)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text_colour = self.palette().windowText().color()
        metrics = painter.fontMetrics()
        if not self.bars:
            painter.setPen(text_colour)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        label_w = min(max(metrics.horizontalAdvance(b.label) for b in self.bars) + 8,
                      self.width() // 3)
        value_w = max(metrics.horizontalAdvance(_number(b.value)) for b in self.bars) + 8
        note_w = min(max(metrics.horizontalAdvance(b.note) for b in self.bars),
                     self.width() // 3) if any(b.note for b in self.bars) else 0
        bar_w = max(10, self.width() - label_w - value_w - note_w - 12)
        top = max([b.value for b in self.bars] + [b.target or 0 for b in self.bars] + [1])
        for i, bar in enumerate(self.bars):
            y = 4 + i * self.ROW
            painter.setPen(text_colour)
            label = metrics.elidedText(bar.label, Qt.TextElideMode.ElideRight, label_w - 8)
            painter.drawText(QRectF(0, y, label_w - 4, self.ROW),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
            width = bar_w * bar.value / top
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(bar.colour))
            painter.drawRoundedRect(QRectF(label_w, y + 4, max(width, 1.0), self.ROW - 8), 2, 2)
            if bar.target:
                x = label_w + bar_w * bar.target / top
                painter.setPen(QColor(text_colour))
                painter.drawLine(int(x), y + 2, int(x), y + self.ROW - 2)
            # Value and note start after the bar or its target mark, whichever is further,
            # so the text never sits on the mark.
            end = label_w + max(width, bar_w * (bar.target or 0) / top)
            painter.setPen(text_colour)
            painter.drawText(QRectF(end + 4, y, value_w, self.ROW),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             _number(bar.value))
            if bar.note:
                painter.setPen(QColor(bar.colour))
                note = metrics.elidedText(bar.note, Qt.TextElideMode.ElideRight,
                                          self.width() - int(end + value_w + 8))
                painter.drawText(QRectF(end + value_w + 4, y, self.width(), self.ROW),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, note)


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else f"{int(value):,}"


class DashboardView(View):
    """Counts and charts over the open catalogue and the latest result."""

    key = "dashboard"
    COUNTS = ("scenes", "organizations", "consortia", "robots_planned", "robots_matched",
              "robots_deployed")

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.count_titles: dict[str, QLabel] = {}
        self.count_labels: dict[str, QLabel] = {}
        counts = QGridLayout()
        for col, name in enumerate(self.COUNTS):
            title = QLabel()
            value = QLabel()
            value.setObjectName(f"count_{name}")
            font = value.font()
            font.setPointSizeF(font.pointSizeF() * 1.8)
            font.setBold(True)
            value.setFont(font)
            counts.addWidget(title, 0, col)
            counts.addWidget(value, 1, col)
            self.count_titles[name] = title
            self.count_labels[name] = value

        self.charts: dict[str, BarChart] = {}
        self.boxes: dict[str, QGroupBox] = {}
        grid = QGridLayout()
        places = {"field": (0, 0), "matched": (0, 1), "category": (1, 0), "status": (1, 1),
                  "compliance": (2, 0), "national": (3, 0)}
        for name, (row, col) in places.items():
            box = QGroupBox()
            chart = BarChart()
            QVBoxLayout(box).addWidget(chart)
            grid.addWidget(box, row, col, 1, 2 if name in ("compliance", "national") else 1)
            self.charts[name] = chart
            self.boxes[name] = box

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addLayout(counts)
        layout.addLayout(grid)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self._runs: list[Any] | None = None  # stored runs, re-read when a result arrives
        session.changed.connect(self.refresh)
        session.result_changed.connect(self._new_result)
        session.opened.connect(self._new_result)
        self.retranslate()

    def _new_result(self) -> None:
        self._runs = None
        self.refresh()

    def title(self) -> str:
        return tr("概览", "Dashboard")

    def retranslate(self) -> None:
        titles = {
            "scenes": tr("场景", "Scenes"), "organizations": tr("组织", "Organisations"),
            "consortia": tr("已组建联合体", "Consortia formed"),
            "robots_planned": tr("计划部署机器人 / 全国目标", "Robots planned / national target"),
            "robots_matched": tr("已组建联合体的机器人", "Robots in formed consortia"),
            "robots_deployed": tr("已部署机器人", "Robots deployed"),
        }
        for name, label in self.count_titles.items():
            label.setText(titles[name])
        boxes = {
            "field": tr("按领域的场景", "Scenes by field"),
            "category": tr("按类别的场景", "Scenes by category"),
            "matched": tr("匹配结果", "Matching result"),
            "status": tr("场景状态", "Scene lifecycle status"),
            "compliance": tr("各组织单位方案合规", "Plan compliance per coordinator"),
            "national": tr("全国概览：各组织单位已组建的联合体（竖线为方案内场景数）",
                           "National overview: consortia formed per coordinator (mark: scenes "
                           "in the plan)"),
        }
        for name, box in self.boxes.items():
            box.setTitle(boxes[name])
        self.refresh()

    def refresh(self) -> None:
        """Re-read the catalogue and the result."""
        catalogue = self.session.catalogue
        if self._runs is None:
            self._runs = self.session.store.runs()
        stats = catalogue_stats(catalogue, self._runs)
        national = stats["national"]
        self.count_labels["scenes"].setText(f"{stats['scenes']:,}")
        self.count_labels["organizations"].setText(f"{stats['organizations']:,}")
        self.count_labels["robots_planned"].setText(
            f"{stats['robots_planned']:,} / {stats['robot_target']:,}")
        self.count_labels["robots_deployed"].setText(f"{stats['robots_deployed']:,}")
        self.count_labels["consortia"].setText(f"{national['consortia']:,}")
        self.count_labels["robots_matched"].setText(
            f"{national['robots_matched']:,} ({national['target_share']:.0%})")

        self.charts["field"].set_bars(
            [Bar(pick(k, FIELD_LABELS), n, FIELD_COLOURS.get(k, BLUE))
             for k, n in stats["by_field"].items()], tr("没有场景", "No scenes"))
        self.charts["category"].set_bars(
            [Bar(k, n) for k, n in stats["by_category"].items()], tr("没有场景", "No scenes"))
        by_status = stats["by_status"]
        self.charts["status"].set_bars(
            [Bar(pick(s, STATUS_LABELS), by_status.get(s.value, 0),
                 GREEN if s is Status.DEPLOYED else BLUE) for s in Status],
            tr("没有场景", "No scenes"))

        result = self.session.result
        if result is None:
            self.charts["matched"].set_bars([], tr("尚未匹配", "Not matched yet"))
        else:
            matched = len(result.get("consortia", []))
            unmatched = len(result.get("unmatched", []))
            self.charts["matched"].set_bars([
                Bar(tr("已匹配", "Matched"), matched, GREEN),
                Bar(tr("未匹配", "Unmatched"), unmatched, RED if unmatched else GREY),
            ])

        lang = i18n.language()
        bars = []
        for p in plan_statuses(catalogue):
            note = ("✓ " + tr("合规", "compliant")) if p.compliant else "✗ " + "；".join(
                p.shortfalls(lang))
            bars.append(Bar(p.rule.coordinator, p.scenes, GREEN if p.compliant else RED, note,
                            target=p.rule.min_scenes))
        self.charts["compliance"].set_bars(bars, tr("没有组织单位", "No coordinators"))
        self.charts["national"].set_bars([
            Bar(row["coordinator"], row["consortia"], GREEN if row["consortia"] else GREY,
                tr(f"{row['consortia']}/{row['scenes_in_plan']} 个场景，{row['robots_matched']} 台",
                   f"{row['consortia']}/{row['scenes_in_plan']} scenes, {row['robots_matched']} robots"),
                target=row["scenes_in_plan"])
            for row in national["coordinators"]], tr("没有组织单位", "No coordinators"))
