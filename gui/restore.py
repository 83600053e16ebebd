"""The restore dialog: a catalogue's backups with time, size and kind; the user keeps the
current file (the default: Enter, Esc and closing the window all keep it) or restores one.

Shown after a crash (the last session left its lock file behind) and when a catalogue
cannot be opened because it is damaged. Restoring itself is :func:`core.backup.restore`,
which first backs up the file it replaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.backup import Backup
from gui.i18n import pick, tr

REASON_LABELS = {
    "open": ("打开时", "on opening"),
    "autosave": ("自动备份", "automatic"),
    "close": ("关闭时", "on closing"),
    "manual": ("手动", "manual"),
    "before-migration": ("结构升级前", "before a schema upgrade"),
    "before-restore": ("恢复前的文件", "the file before a restore"),
}


def human_size(size: int) -> str:
    """``532 KB``, ``4.1 MB``."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


class RestoreDialog(QDialog):
    """Offer ``backups`` of ``catalogue``; :meth:`chosen` is the backup to restore or None."""

    def __init__(self, catalogue: Path, backups: Sequence[Backup], message: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("restore_dialog")
        self.catalogue = catalogue
        self.backups = list(backups)
        self.setWindowTitle(tr("从备份恢复？", "Restore from a backup?"))
        layout = QVBoxLayout(self)
        self.message = QLabel(message, self)
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        where = QLabel(tr(f"目录文件：{catalogue}", f"Catalogue file: {catalogue}"), self)
        where.setWordWrap(True)
        layout.addWidget(where)
        self.list = QTreeWidget(self)
        self.list.setObjectName("backups")
        self.list.setRootIsDecorated(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setHeaderLabels([tr("时间", "Time"), tr("大小", "Size"), tr("类型", "Kind")])
        for n, item in enumerate(self.backups):
            row = QTreeWidgetItem([item.created.strftime("%Y-%m-%d %H:%M:%S"),
                                   human_size(item.size), pick(item.reason, REASON_LABELS)])
            row.setData(0, Qt.ItemDataRole.UserRole, n)
            row.setToolTip(0, str(item.path))
            row.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.list.addTopLevelItem(row)
        for column in range(3):
            self.list.resizeColumnToContents(column)
        layout.addWidget(self.list, 1)
        note = QLabel(tr("恢复前，当前文件会先另存为一个备份，可以再恢复回来。",
                         "Before restoring, the current file is itself kept as a backup, so "
                         "the restore can be undone the same way."), self)
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QDialogButtonBox(self)
        self.keep_button = QPushButton(tr("保留当前文件", "Keep the current file"), self)
        self.keep_button.setObjectName("keep")
        self.restore_button = QPushButton(tr("恢复所选备份", "Restore the selected backup"), self)
        self.restore_button.setObjectName("restore")
        buttons.addButton(self.keep_button, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.AcceptRole)
        # Keeping is the safe answer: it is what Enter does; restoring needs a choice.
        self.restore_button.setAutoDefault(False)
        self.keep_button.setDefault(True)
        self.keep_button.setFocus()
        self.restore_button.setEnabled(False)
        self.list.itemSelectionChanged.connect(
            lambda: self.restore_button.setEnabled(bool(self.list.selectedItems())))
        self.keep_button.clicked.connect(self.reject)
        self.restore_button.clicked.connect(self.accept)
        layout.addWidget(buttons)
        self.resize(560, 380)

    def selected(self) -> Backup | None:
        """The backup selected in the list."""
        items = self.list.selectedItems()
        if not items:
            return None
        return self.backups[int(items[0].data(0, Qt.ItemDataRole.UserRole))]

    def chosen(self) -> Backup | None:
        """The backup to restore: the selection if the user pressed Restore, else None."""
        if self.result() != QDialog.DialogCode.Accepted:
            return None
        return self.selected()


def ask_restore(catalogue: Path, backups: Sequence[Backup], message: str,
                parent: QWidget | None = None) -> Backup | None:
    """Show the dialog (modal) and return the backup to restore, or None to keep the file."""
    dialog = RestoreDialog(catalogue, backups, message, parent)
    try:
        dialog.exec()
        return dialog.chosen()
    finally:
        dialog.deleteLater()
