"""What every view of the main window provides."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from gui.session import Session


class View(QWidget):
    """A page of the main window. Subclasses set ``key``, build their widgets in
    ``__init__`` (calling ``retranslate()`` at the end), refresh from
    ``session.catalogue`` / ``session.result`` on the session's signals, and put every
    user-visible text in ``retranslate()`` (called again when the language changes)."""

    key = ""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session

    def title(self) -> str:
        """The sidebar label, in the current language."""
        raise NotImplementedError

    def retranslate(self) -> None:
        """Re-set every text for the current language."""

    def focus_search(self) -> bool:
        """Edit → Find: focus this view's search box; False when it has none."""
        return False

    def shutdown(self) -> None:
        """The window is closing: stop any running work (wait for it)."""
