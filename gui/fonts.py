"""Register the shipped CJK font so Chinese renders on machines without one."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

FONT_FILE = "SceneSans.ttf"


def install_cjk_font(app: QApplication) -> str:
    """Load the bundled font and make it the application's fallback; returns its family."""
    data = resources.files("resources.fonts").joinpath(FONT_FILE).read_bytes()
    font_id = QFontDatabase.addApplicationFontFromData(data)
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        return ""
    family = families[0]
    font = QFont(app.font())
    # Keep the platform's Latin font first where it has one; the CJK font fills the gaps.
    font.setFamilies([app.font().family(), family])
    app.setFont(font)
    return family
