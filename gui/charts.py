"""Small painted charts (QPainter only, no QtCharts): a horizontal bar chart."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

POSITIVE = QColor("#2f6fb3")
NEGATIVE = QColor("#b00020")


class BarChart(QWidget):
    """Labelled horizontal bars, one per (label, value); negative values are drawn red
    to the left of the zero line. ``set_bars([])`` shows ``empty_text``."""

    ROW = 20
    GAP = 4

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars: list[tuple[str, float]] = []
        self.empty_text = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.ROW)

    def set_bars(self, bars: list[tuple[str, float]]) -> None:
        """Replace the bars (label, value) and repaint."""
        self.bars = [(str(label), float(value)) for label, value in bars]
        self.setMinimumHeight(self._height())
        self.updateGeometry()
        self.update()

    def _height(self) -> int:
        return max(self.ROW, len(self.bars) * (self.ROW + self.GAP) + self.GAP)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(320, self._height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            text_colour = self.palette().color(QPalette.ColorRole.WindowText)
            painter.setPen(text_colour)
            if not self.bars:
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
                return
            metrics = painter.fontMetrics()
            label_w = min(max(metrics.horizontalAdvance(label) for label, _ in self.bars) + 8,
                          self.width() // 2)
            value_w = max(metrics.horizontalAdvance(f"{value:.1f}") for _, value in self.bars) + 8
            plot_x = label_w
            plot_w = max(10, self.width() - label_w - value_w)
            high = max(0.0, *(v for _, v in self.bars))
            low = min(0.0, *(v for _, v in self.bars))
            span = (high - low) or 1.0
            zero_x = plot_x + plot_w * (-low / span)
            for n, (label, value) in enumerate(self.bars):
                y = self.GAP + n * (self.ROW + self.GAP)
                painter.setPen(text_colour)
                label_rect = QRectF(0, y, label_w - 6, self.ROW)
                painter.drawText(label_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                 metrics.elidedText(label, Qt.TextElideMode.ElideRight, label_w - 6))
                length = plot_w * abs(value) / span
                x = zero_x if value >= 0 else zero_x - length
                painter.fillRect(QRectF(x, y + 3, max(length, 1.0), self.ROW - 6),
                                 POSITIVE if value >= 0 else NEGATIVE)
                painter.drawText(QRectF(plot_x + plot_w + 4, y, value_w, self.ROW),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 f"{value:.1f}")
            painter.setPen(QColor("#888888"))
            painter.drawLine(int(zero_x), 0, int(zero_x), self.height())
        finally:
            painter.end()
