"""Edit → Preferences: language and matching defaults (kept in QSettings)."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QWidget,
)

from gui import i18n
from gui.i18n import tr

DEFAULT_TIME_LIMIT = 30.0


def time_limit_setting() -> float:
    """The default time limit of a matching run, in seconds."""
    try:
        return float(str(QSettings().value("matching/time_limit", DEFAULT_TIME_LIMIT)))
    except (TypeError, ValueError):
        return DEFAULT_TIME_LIMIT


class PreferencesDialog(QDialog):
    """Language and the default matching time limit; where the data lives."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("preferences")
        self.setWindowTitle(tr("首选项", "Preferences"))
        form = QFormLayout(self)
        self.language = QComboBox(self)
        self.language.addItem("中文", "zh")
        self.language.addItem("English", "en")
        self.language.setCurrentIndex(0 if i18n.language() == "zh" else 1)
        self.time_limit = QDoubleSpinBox(self)
        self.time_limit.setRange(1, 3600)
        self.time_limit.setSuffix(" s")
        self.time_limit.setValue(time_limit_setting())
        path = getattr(getattr(window, "session", None), "path", None)
        form.addRow(tr("界面语言", "Language"), self.language)
        form.addRow(tr("匹配时间上限", "Matching time limit"), self.time_limit)
        form.addRow(tr("目录文件", "Catalogue file"), QLabel(str(path or "—"), self))
        form.addRow(tr("设置保存于", "Settings file"), QLabel(QSettings().fileName(), self))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, parent=self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.window_ = window

    def accept(self) -> None:
        QSettings().setValue("matching/time_limit", self.time_limit.value())
        code = self.language.currentData()
        if code != i18n.language() and hasattr(self.window_, "set_language"):
            self.window_.set_language(code)
        super().accept()
