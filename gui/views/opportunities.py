"""Opportunities: for one organisation, every scene ranked by fit in each role it can fill,
the consortia the latest result proposes it for, and its would-be partners there.

The ranking is :func:`matching.opportunities.opportunities` (Qt-free, the matcher's own
member points and hard rules). The organisation is picked in an editable combo with a
completer on names, and follows ``session.org_selected``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.model import Catalogue, Scene
from gui.exports import Exporter
from gui.i18n import FIELD_LABELS, ROLE_LABELS, pick, tr
from gui.session import Session
from gui.views.base import View
from gui.worker import TaskPanel
from matching.fit import TERM_LABELS, Weights
from matching.opportunities import Opportunity, Proposal, opportunities, partners, proposals

Index = QModelIndex | QPersistentModelIndex
Column = tuple[tuple[str, str], Callable[[Any], Any]]
DISPLAY = Qt.ItemDataRole.DisplayRole
SORT = Qt.ItemDataRole.UserRole


class RowsModel(QAbstractTableModel):
    """A read-only table over a list of rows, one function per column."""

    def __init__(self, columns: list[Column], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.rows: list[Any] = []

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's name
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's name
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt's name
                   role: int = DISPLAY) -> Any:
        if role != DISPLAY:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            return tr(*self.columns[section][0])
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self.rows):
            return str(section + 1)
        return None

    def value(self, row: int, column: int) -> Any:
        return self.columns[column][1](self.rows[row])

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self.rows)):
            return None
        if role in (DISPLAY, SORT):
            value = self.value(index.row(), index.column())
            if role == SORT:
                return value
            return f"{value:.1f}" if isinstance(value, float) else str(value)
        return self.extra(index.row(), index.column(), role)

    def extra(self, row: int, column: int, role: int) -> Any:
        """Other roles (tooltips, colours); none by default."""
        return None


class OpportunityModel(RowsModel):
    """Opportunities: scene, slot, eligible, points, what blocks it."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__([
            (("场景", "Scene"), lambda o: o.scene),
            (("场景名称", "Scene name"), lambda o: self._scene(o, "name")),
            (("领域", "Field"), lambda o: pick(self._scene(o, "field"), FIELD_LABELS)),
            (("组织单位", "Coordinator"), lambda o: self._scene(o, "coordinator")),
            (("席位", "Slot"), lambda o: o.slot),
            (("可参与", "Eligible"), lambda o: tr("是", "yes") if o.eligible else tr("否", "no")),
            (("适配分", "Fit points"), lambda o: round(o.points, 2)),
            (("受阻原因", "Blocked by"), lambda o: "；".join(_lang(p) for p in o.problems)),
        ], parent)
        self._scenes: dict[str, Scene] = {}

    def _scene(self, o: Opportunity, attr: str) -> Any:
        scene = self._scenes.get(o.scene)
        return getattr(scene, attr, "") if scene else ""

    def set_opportunities(self, catalogue: Catalogue, rows: list[Opportunity]) -> None:
        self._scenes = catalogue.scene_by_id()
        self.set_rows(rows)

    def extra(self, row: int, column: int, role: int) -> Any:
        o: Opportunity = self.rows[row]
        if role == Qt.ItemDataRole.ForegroundRole and not o.eligible:
            return QColor("#a04040") if column == 7 else QColor("#808080")
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 6:
                terms = [f"{tr(*TERM_LABELS[t])}: {p:.1f}" for t, p in o.terms.items()]
                if o.owner_partnership:
                    terms.append(tr(f"与用户单位的既往合作：+{o.owner_partnership:.1f}",
                                    f"Prior partnership with the owner: +{o.owner_partnership:.1f}"))
                return "\n".join(terms)
            if column == 7 and o.problems:
                return "\n".join(o.problems)
        return None


def _lang(text: str) -> str:
    """One half of a bilingual ``"中文 / English"`` message, for the current language."""
    zh, sep, en = text.partition(" / ")
    return text if not sep else tr(zh, en)


class OpportunitiesView(View):
    """What the scenes offer one organisation."""

    key = "opportunities"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.org_id: str | None = None
        self.org_label = QLabel()
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setMinimumContentsLength(24)
        completer = QCompleter(self.combo.model(), self.combo)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.combo.setCompleter(completer)
        self.combo.currentIndexChanged.connect(self._picked)
        self.export_button = QPushButton()
        self.export_button.setObjectName("export_sheet")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export_dialog)
        self.task_panel = TaskPanel(self)
        self.exporter = Exporter(session, self.task_panel, self)
        self.roles_label = QLabel()
        self.roles_label.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.org_label)
        top.addWidget(self.combo, 1)
        top.addWidget(self.export_button)

        self.model = OpportunityModel(self)
        self.table = self._table(self.model)
        self.consortia_model = RowsModel([
            (("场景", "Scene"), lambda p: p.scene),
            (("场景名称", "Scene name"), lambda p: self._scene_name(p.scene)),
            (("角色", "Role"), lambda p: pick(p.role, ROLE_LABELS)
             + (f"（{p.category}）" if p.category else "")),
            (("联合体适配度", "Consortium fit"), lambda p: round(p.fit, 2)),
            (("伙伴", "Partners"), lambda p: "、".join(self._org_name(o) for o, _ in p.partners)),
        ], self)
        self.consortia_table = self._table(self.consortia_model)
        self.partners_model = RowsModel([
            (("组织", "Organisation"), lambda r: r[0]),
            (("名称", "Name"), lambda r: self._org_name(r[0])),
            (("角色", "Roles"), lambda r: self._org_roles(r[0])),
            (("共同联合体", "Shared consortia"), lambda r: r[1]),
        ], self)
        self.partners_table = self._table(self.partners_model)

        self.ranking_box = QGroupBox()
        QVBoxLayout(self.ranking_box).addWidget(self.table)
        self.consortia_box = QGroupBox()
        self.no_result = QLabel()
        cv = QVBoxLayout(self.consortia_box)
        cv.addWidget(self.no_result)
        cv.addWidget(self.consortia_table)
        self.partners_box = QGroupBox()
        QVBoxLayout(self.partners_box).addWidget(self.partners_table)
        lower = QSplitter()
        lower.addWidget(self.consortia_box)
        lower.addWidget(self.partners_box)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.ranking_box)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.roles_label)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.task_panel)

        session.changed.connect(self.reload)
        session.result_changed.connect(self.refresh)
        session.org_selected.connect(self.set_org)
        self._fill_combo()
        self.retranslate()

    def _table(self, model: RowsModel) -> QTableView:
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(model)
        proxy.setSortRole(SORT)
        table = QTableView()
        table.setModel(proxy)
        table.setSortingEnabled(True)
        table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # keep the model's ranking order
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    # -- lookups -------------------------------------------------------------------

    def _org_name(self, org_id: str) -> str:
        org = self.session.organization(org_id)
        return org.name if org else org_id

    def _org_roles(self, org_id: str) -> str:
        org = self.session.organization(org_id)
        return "、".join(pick(r, ROLE_LABELS) for r in org.roles) if org else ""

    def _scene_name(self, scene_id: str) -> str:
        scene = self.session.scene(scene_id)
        return scene.name if scene else scene_id

    # -- texts ---------------------------------------------------------------------

    def title(self) -> str:
        return tr("合作机会", "Opportunities")

    def retranslate(self) -> None:
        self.org_label.setText(tr("组织：", "Organisation:"))
        line = self.combo.lineEdit()
        if line is not None:
            line.setPlaceholderText(tr("输入名称查找组织", "Type a name to find an organisation"))
        self.export_button.setText(tr("导出机会清单…", "Export opportunity sheet…"))
        self.export_button.setToolTip(tr("该组织的机会清单：PDF 与 Excel",
                                         "This organisation's opportunity sheet: PDF and Excel"))
        self.task_panel.retranslate()
        self.ranking_box.setTitle(tr("按适配度排序的场景（可参与的在前，受阻的在后并注明原因）",
                                     "Scenes ranked by fit (eligible first, blocked ones after with the reason)"))
        self.consortia_box.setTitle(tr("拟参与的联合体", "Proposed consortia"))
        self.partners_box.setTitle(tr("潜在合作伙伴", "Would-be partners"))
        self.no_result.setText(tr("尚未匹配：运行匹配后显示拟参与的联合体",
                                  "Not matched yet: run the matching to see proposed consortia"))
        for model in (self.model, self.consortia_model, self.partners_model):
            model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, model.columnCount() - 1)
        self.refresh()

    # -- the organisation ------------------------------------------------------------

    def _fill_combo(self) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        for org in sorted(self.session.catalogue.organizations, key=lambda o: o.id):
            self.combo.addItem(f"{org.name}（{org.id}）", org.id)
        index = self.combo.findData(self.org_id) if self.org_id else -1
        if index < 0:
            self.org_id = None
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)

    def _picked(self, index: int) -> None:
        org_id = self.combo.itemData(index) if index >= 0 else None
        if org_id != self.org_id:
            self.org_id = org_id
            self.refresh()

    def set_org(self, org_id: str) -> None:
        """Show ``org_id``'s opportunities (ignored when it is not in the catalogue)."""
        index = self.combo.findData(org_id)
        if index >= 0:
            self.combo.setCurrentIndex(index)  # → _picked → refresh

    def reload(self) -> None:
        """The catalogue changed: re-fill the picker and the tables."""
        self._fill_combo()
        self.refresh()

    def weights(self) -> Weights:
        """The weights of the latest result's run (default weights without one)."""
        params = (self.session.result or {}).get("params") or {}
        return Weights.from_dict(params.get("weights") or {})

    def refresh(self) -> None:
        """Re-rank for the current organisation."""
        catalogue = self.session.catalogue
        result = self.session.result
        org = self.session.organization(self.org_id) if self.org_id else None
        if org is None:
            self.roles_label.setText(tr("请选择一个组织。", "Pick an organisation."))
            self.model.set_opportunities(catalogue, [])
            self.consortia_model.set_rows([])
            self.partners_model.set_rows([])
        else:
            ops = opportunities(catalogue, org.id, self.weights())
            eligible = sum(o.eligible for o in ops)
            roles = "、".join(pick(r, ROLE_LABELS) for r in org.roles)
            self.roles_label.setText(tr(
                f"{org.name}：{roles}；{len(ops)} 个席位，其中 {eligible} 个可参与",
                f"{org.name}: {roles}; {len(ops)} slots, {eligible} eligible"))
            self.model.set_opportunities(catalogue, ops)
            mine: list[Proposal] = proposals(result, org.id)
            self.consortia_model.set_rows(mine)
            self.partners_model.set_rows(partners(result, org.id))
        self.no_result.setVisible(result is None)
        self.export_button.setEnabled(org is not None)

    def export_dialog(self) -> None:
        """Ask for a folder and write the current organisation's opportunity sheet there."""
        if self.org_id is None:
            return
        folder = QFileDialog.getExistingDirectory(self, tr("导出机会清单", "Export opportunity sheet"))
        if folder:
            self.export_sheet(Path(folder))

    def export_sheet(self, folder: Path) -> None:
        """Write the opportunity sheet (PDF + xlsx) of the current organisation into ``folder``."""
        if self.org_id is not None:
            self.exporter.org_sheet(self.org_id, folder)

    def shutdown(self) -> None:
        self.exporter.shutdown()
