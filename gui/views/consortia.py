"""The Consortia view: the consortia of the session's result on the left, the selected
one's detail on the right — members by role, the fit breakdown as a bar chart,
alternates per slot with their score difference, and "Why not X?" for any organisation.

"Why not" needs the engine's index of the catalogue; it is rebuilt from the result's
parameters the first time it is asked for a result (the engine is imported only then).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gui.charts import BarChart
from gui.i18n import FIELD_LABELS, ROLE_LABELS, pick, tr
from gui.session import Session
from gui.views.base import View
from gui.views.matching import RowsModel, _table, slot_label
from matching.fit import TERM_LABELS


def explainer(catalogue: Any, doc: dict[str, Any]) -> Any:
    """A ``MatchResult`` rebuilt from a result document, enough for ``why_not``."""
    from matching.adapter import build_problem
    from matching.engine import MatchParams, MatchResult, members_to_assignment
    from matching.fit import Weights
    from matching.problem import Solution

    params = doc.get("params") or {}
    weights = Weights.from_dict(params.get("weights") or {})
    coordinator = params.get("coordinator")
    _, index = build_problem(catalogue, weights, coordinator)
    assignment = members_to_assignment(
        [c for c in doc.get("consortia", []) if c["scene"] in index.scenes])
    solution = Solution(doc.get("status", "feasible"), assignment, 0, 0, 0, 0.0)
    return MatchResult(solution, index, MatchParams(weights=weights, coordinator=coordinator),
                       list(doc.get("consortia", [])), list(doc.get("unmatched", [])),
                       list(doc.get("plans", [])))


class ConsortiaView(View):
    """One row per consortium; the selected consortium in detail."""

    key = "consortia"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self._explainer: Any = None
        self._explainer_key: tuple[Any, Any] = (None, None)
        self.current: dict[str, Any] | None = None

        self.empty = QLabel(self)
        self.empty.setObjectName("empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)

        self.list_model = RowsModel([("场景", "Scene"), ("名称", "Name"), ("适配度", "Fit")], self)
        self.list = _table(self, self.list_model, "consortia")
        self.list.selectionModel().currentRowChanged.connect(self._row_changed)

        detail = QWidget(self)
        box = QVBoxLayout(detail)
        self.heading = QLabel(detail)
        self.heading.setObjectName("heading")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.members_box = QGroupBox(detail)
        self.members_model = RowsModel([("角色", "Role"), ("编号", "ID"), ("组织", "Organisation"),
                                        ("类别", "Category")], self)
        self.members = _table(detail, self.members_model, "members")
        self.members.clicked.connect(self._member_clicked)
        QVBoxLayout(self.members_box).addWidget(self.members)
        self.chart_box = QGroupBox(detail)
        self.chart = BarChart(self.chart_box)
        self.chart.setObjectName("breakdown")
        QVBoxLayout(self.chart_box).addWidget(self.chart)
        self.alternates_box = QGroupBox(detail)
        self.alternates_model = RowsModel([("席位", "Slot"), ("编号", "ID"), ("备选组织", "Alternative"),
                                           ("分差", "Score difference"), ("可用", "Available")], self)
        self.alternates = _table(detail, self.alternates_model, "alternates")
        self.alternates.clicked.connect(self._alternate_clicked)
        QVBoxLayout(self.alternates_box).addWidget(self.alternates)

        self.why_box = QGroupBox(detail)
        why = QVBoxLayout(self.why_box)
        row = QHBoxLayout()
        self.why_org = QComboBox(self.why_box)
        self.why_org.setObjectName("why_org")
        self.why_org.setEditable(True)
        self.why_org.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = QCompleter(self.why_org.model(), self.why_org)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.why_org.setCompleter(completer)
        self.why_org.lineEdit().returnPressed.connect(self.ask_why_not)
        self.why_button = QPushButton(self.why_box)
        self.why_button.setObjectName("why_not")
        self.why_button.clicked.connect(self.ask_why_not)
        row.addWidget(self.why_org, 1)
        row.addWidget(self.why_button)
        self.why_text = QPlainTextEdit(self.why_box)
        self.why_text.setObjectName("why_text")
        self.why_text.setReadOnly(True)
        self.why_text.setMinimumHeight(80)
        why.addLayout(row)
        why.addWidget(self.why_text)

        box.addWidget(self.heading)
        box.addWidget(self.members_box, 2)
        box.addWidget(self.chart_box)
        box.addWidget(self.alternates_box, 2)
        box.addWidget(self.why_box, 1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(detail)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.list)
        self.splitter.addWidget(scroll)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([360, 740])
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.splitter)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)

        session.result_changed.connect(self.refresh)
        session.changed.connect(self._catalogue_changed)
        self.retranslate()
        self._fill_orgs()

    # -- texts -----------------------------------------------------------------

    def title(self) -> str:
        return tr("联合体", "Consortia")

    def retranslate(self) -> None:
        self.empty.setText(tr("尚无匹配结果。请在“匹配”页运行匹配，这里将列出每个场景的创新应用联合体。",
                              "No matching result yet. Run matching on the Matching page; each "
                              "scene's consortium will be listed here."))
        self.members_box.setTitle(tr("成员", "Members"))
        self.chart_box.setTitle(tr("适配度分项", "Fit breakdown"))
        self.chart.empty_text = tr("无分项", "No breakdown")
        self.alternates_box.setTitle(tr("各席位备选", "Alternates per slot"))
        self.why_box.setTitle(tr("为什么不选 X？", "Why not X?"))
        self.why_button.setText(tr("为什么不选？", "Why not?"))
        self.why_org.lineEdit().setPlaceholderText(tr("输入组织名称或编号", "Organisation name or ID"))
        for model in (self.list_model, self.members_model, self.alternates_model):
            model.retranslate()
        self.refresh()

    # -- content ---------------------------------------------------------------

    def _fill_orgs(self) -> None:
        text = self.why_org.currentText()
        self.why_org.blockSignals(True)
        self.why_org.clear()
        for org in sorted(self.session.catalogue.organizations, key=lambda o: o.id):
            self.why_org.addItem(f"{org.name} ({org.id})", org.id)
        self.why_org.setCurrentIndex(-1)
        self.why_org.setEditText(text)
        self.why_org.blockSignals(False)

    @Slot()
    def _catalogue_changed(self) -> None:
        self._fill_orgs()
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        doc = self.session.result
        consortia = (doc or {}).get("consortia", [])
        if not consortia:
            self.stack.setCurrentWidget(self.empty)
            self.list_model.set_rows([])
            self.current = None
            self._show(None)
            if doc:
                self.empty.setText(tr("当前结果中没有联合体（状态：", "The current result has no consortia "
                                      "(status: ") + str(doc.get("status", "")) + tr("）", ")"))
            return
        scenes = {s.id: s.name for s in self.session.catalogue.scenes}
        keep = self.current["scene"] if self.current else None
        self.list_model.set_rows([[c["scene"], scenes.get(c["scene"], ""), float(c.get("fit", 0.0))]
                                  for c in consortia], list(consortia))
        self.list.resizeColumnsToContents()
        self.stack.setCurrentWidget(self.splitter)
        row = next((n for n in range(self.list_model.rowCount())
                    if self.list_model.payload(n)["scene"] == keep), 0)
        self.select(row)

    def select(self, row: int) -> None:
        """Show the consortium in ``row`` of the list."""
        if 0 <= row < self.list_model.rowCount():
            self.list.selectRow(row)
            self.list.setCurrentIndex(self.list_model.index(row, 0))
            self._show(self.list_model.payload(row))

    @Slot(QModelIndex, QModelIndex)
    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self._show(self.list_model.payload(current.row()))

    def _show(self, consortium: dict[str, Any] | None) -> None:
        self.current = consortium
        self.why_text.setPlainText("")
        if consortium is None:
            self.heading.setText("")
            self.members_model.set_rows([])
            self.alternates_model.set_rows([])
            self.chart.set_bars([])
            return
        cat = self.session.catalogue
        orgs = {o.id: o.name for o in cat.organizations}
        scene = self.session.scene(consortium["scene"])
        where = f"{scene.coordinator} · {scene.category} · {pick(scene.field, FIELD_LABELS)}" if scene else ""
        self.heading.setText(
            f"<b>{consortium['scene']} {scene.name if scene else ''}</b><br>{where}<br>"
            + tr("适配度", "Fit") + f" {float(consortium.get('fit', 0.0)):.1f}")
        members = consortium.get("members", [])
        self.members_model.set_rows(
            [[pick(m["role"], ROLE_LABELS), m["org"], orgs.get(m["org"], ""), m.get("category") or ""]
             for m in members], list(members))
        self.members.resizeColumnsToContents()
        self.chart.set_bars([(tr(*TERM_LABELS[t]) if t in TERM_LABELS else t, float(v))
                             for t, v in consortium.get("breakdown", {}).items()])
        rows, payloads = [], []
        yes, no = tr("是", "yes"), tr("已满负荷", "at capacity")
        for slot, options in (consortium.get("alternates") or {}).items():
            for o in options:
                rows.append([slot_label(slot), o["org"], o.get("name") or orgs.get(o["org"], ""),
                             float(o["delta"]), yes if o.get("available") else no])
                payloads.append(o)
        self.alternates_model.set_rows(rows, payloads)
        self.alternates.resizeColumnsToContents()

    @Slot(QModelIndex)
    def _member_clicked(self, index: QModelIndex) -> None:
        member = self.members_model.payload(index.row())
        if member:
            self.session.org_selected.emit(member["org"])

    @Slot(QModelIndex)
    def _alternate_clicked(self, index: QModelIndex) -> None:
        option = self.alternates_model.payload(index.row())
        if option:
            self.session.org_selected.emit(option["org"])
            self.why_org.setEditText(f"{option.get('name', '')} ({option['org']})")

    # -- why not -----------------------------------------------------------------

    def chosen_org(self) -> str | None:
        """The organisation id the why-not box names (by item, id or name)."""
        text = self.why_org.currentText().strip()
        if not text:
            return None
        found = self.why_org.findText(text)
        if found >= 0:
            return str(self.why_org.itemData(found))
        for org in self.session.catalogue.organizations:
            if text in (org.id, org.name) or text.endswith(f"({org.id})"):
                return org.id
        return None

    def why_not(self, org_id: str) -> str:
        """The engine's answer for ``org_id`` and the selected consortium's scene."""
        doc = self.session.result
        if not doc or self.current is None:
            return tr("请先选择一个联合体", "Select a consortium first")
        key = (doc, self.session.catalogue)
        if self._explainer_key[0] is not doc or self._explainer_key[1] is not key[1]:
            self._explainer = explainer(self.session.catalogue, doc)
            self._explainer_key = key
        return str(self._explainer.why_not(self.current["scene"], org_id))

    @Slot()
    def ask_why_not(self) -> None:
        org_id = self.chosen_org()
        if org_id is None:
            self.why_text.setPlainText(tr(f"找不到组织：{self.why_org.currentText()}",
                                          f"No such organisation: {self.why_org.currentText()}"))
            return
        self.setCursor(Qt.CursorShape.WaitCursor)
        try:
            self.why_text.setPlainText(self.why_not(org_id))
        finally:
            self.unsetCursor()
