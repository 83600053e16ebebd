"""The Matching view: parameters, Run / Re-match in a worker thread with progress and
Cancel, the result (status, counts, objective, bound, gap), the consortia table, the
unmatched scenes with their reasons, alternates for a slot and the diff of a re-match.

The engine (and with it ortools) is imported only when a run starts. A finished or
cancelled run is saved in the catalogue like ``scenematch match`` does, then becomes the
session's result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.model import Exclusion, Pin, Role
from gui.i18n import ROLE_LABELS, pick, tr
from gui.preferences import time_limit_setting
from gui.session import Session
from gui.views.base import View
from gui.worker import Task, TaskPanel
from matching.fit import SCALE, TERM_LABELS, Weights

Index = QModelIndex | QPersistentModelIndex

RESULT_STATUS_LABELS = {
    "optimal": ("最优", "Optimal"), "feasible": ("可行", "Feasible"),
    "infeasible": ("无可行解", "Infeasible"), "timeout": ("超时", "Timed out"),
    "cancelled": ("已取消", "Cancelled"),
}
WEIGHT_LABELS: dict[str, tuple[str, str]] = {
    **TERM_LABELS,
    "concentration_share": ("集中度上限（占比）", "Concentration share"),
    "concentration_penalty": ("集中度惩罚（分/个）", "Concentration penalty"),
    "lead_share": ("牵头单位占比上限", "Lead share"),
    "lead_penalty": ("牵头集中惩罚（分/个）", "Lead penalty"),
    "change_penalty": ("重新匹配变动惩罚（分/个）", "Re-match change penalty"),
}
STAGE_LABELS = {
    "A": ("阶段 A（匹配场景数）", "Stage A (scenes matched)"),
    "B": ("阶段 B（适配度）", "Stage B (fit)"),
    "A+B": ("求解中", "Solving"), "done": ("完成", "Done"),
    "insert": ("补入遗漏场景", "Adding scenes left out"),
    "polish": ("全候选优化", "Polishing over every candidate"),
    "bound": ("计算全局上界", "Bounding the whole problem"),
}
LEAD_ROLE_VALUES = ("maker", "service_provider")


def slot_of(member: dict[str, Any]) -> str:
    """The slot key a result member fills (as in ``consortium["alternates"]``)."""
    role = member["role"]
    if role in LEAD_ROLE_VALUES:
        return "lead"
    if role == "component":
        return f"component:{member.get('category') or ''}"
    return str(role)


def slot_label(key: str) -> str:
    """A slot key for the user: 牵头单位, 算法企业, 零部件企业：灵巧手 …"""
    if key == "lead":
        return tr("牵头单位", "Lead")
    if key.startswith("component:"):
        return f"{pick('component', ROLE_LABELS)}：{key.split(':', 1)[1]}"
    return pick(key, ROLE_LABELS)


class RowsModel(QAbstractTableModel):
    """A read-only table of rows; headers are (zh, en) pairs, re-read in the current
    language. ``Qt.UserRole`` gives each cell's raw value (for sorting and tests); each row
    may carry a payload object (``payload(row)``)."""

    def __init__(self, headers: list[tuple[str, str]], parent: Any = None) -> None:
        super().__init__(parent)
        self.headers = headers
        self.rows: list[list[Any]] = []
        self.tips: list[list[str]] = []
        self.payloads: list[Any] = []

    def set_rows(self, rows: list[list[Any]], payloads: list[Any] | None = None,
                 tips: list[list[str]] | None = None) -> None:
        self.beginResetModel()
        self.rows = [list(r) for r in rows]
        self.payloads = list(payloads) if payloads is not None else [None] * len(self.rows)
        self.tips = [list(t) for t in tips] if tips is not None else [[] for _ in self.rows]
        self.endResetModel()

    def payload(self, row: int) -> Any:
        return self.payloads[row] if 0 <= row < len(self.payloads) else None

    def retranslate(self) -> None:
        if self.headers:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.headers) - 1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's name
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's name
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows) or index.column() >= len(self.headers):
            return None
        row = self.rows[index.row()]
        value = row[index.column()] if index.column() < len(row) else None
        if role == Qt.ItemDataRole.DisplayRole:
            if value is None:
                return ""
            if isinstance(value, float):
                return f"{value:.2f}"
            return str(value)
        if role == Qt.ItemDataRole.UserRole:
            return value
        if role == Qt.ItemDataRole.ToolTipRole:
            tips = self.tips[index.row()]
            return tips[index.column()] if index.column() < len(tips) and tips[index.column()] else None
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, int | float):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt's name
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return tr(*self.headers[section]) if 0 <= section < len(self.headers) else None
        return str(section + 1)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.headers) or not self.rows:
            return
        self.layoutAboutToBeChanged.emit()
        order_key = list(range(len(self.rows)))

        def key(n: int) -> tuple[int, Any]:
            value = self.rows[n][column]
            if isinstance(value, int | float):
                return (0, value)
            return (1, "" if value is None else str(value))

        order_key.sort(key=key, reverse=order == Qt.SortOrder.DescendingOrder)
        old = [self.index(n, c) for n in range(len(self.rows)) for c in range(len(self.headers))]
        self.rows = [self.rows[n] for n in order_key]
        self.tips = [self.tips[n] for n in order_key]
        self.payloads = [self.payloads[n] for n in order_key]
        where = {old_row: new_row for new_row, old_row in enumerate(order_key)}
        new = [self.index(where[i.row()], i.column()) for i in old]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()


# Results table columns: scene, then one column per role group, then fit.
RESULT_HEADERS = [("场景", "Scene"), ("用户单位", "User unit"), ("牵头单位", "Lead"),
                  ("算法企业", "Algorithm"), ("零部件企业", "Components"), ("科研院所", "Institute"),
                  ("适配度", "Fit")]
_COLUMN_ROLES: dict[int, tuple[str, ...]] = {
    1: ("user_unit",), 2: LEAD_ROLE_VALUES, 3: ("algorithm",), 4: ("component",), 5: ("institute",)}


class ResultsModel(RowsModel):
    """One row per consortium; each member column lists the members of that role."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(RESULT_HEADERS, parent)

    def fill(self, consortia: list[dict[str, Any]], org_names: dict[str, str],
             scene_names: dict[str, str]) -> None:
        rows, tips = [], []
        for c in consortia:
            row: list[Any] = [f"{c['scene']} {scene_names.get(c['scene'], '')}".strip()]
            tip = [c["scene"]]
            for col in range(1, 6):
                members = [m for m in c["members"] if m["role"] in _COLUMN_ROLES[col]]
                row.append("；".join(
                    (f"{m['category']}：" if m.get("category") else "") + org_names.get(m["org"], m["org"])
                    for m in members))
                tip.append("\n".join(f"{m['org']} {org_names.get(m['org'], '')}" for m in members))
            row.append(float(c.get("fit", 0.0)))
            tip.append("")
            rows.append(row)
            tips.append(tip)
        self.set_rows(rows, list(consortia), tips)

    def scene_ids(self) -> list[str]:
        return [c["scene"] for c in self.payloads]

    def members_at(self, row: int, column: int) -> list[dict[str, Any]]:
        consortium = self.payload(row)
        if consortium is None or column not in _COLUMN_ROLES:
            return []
        return [m for m in consortium["members"] if m["role"] in _COLUMN_ROLES[column]]


def _table(parent: QWidget, model: QAbstractTableModel, name: str) -> QTableView:
    view = QTableView(parent)
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    view.setSortingEnabled(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    view.verticalHeader().setVisible(False)
    return view


def _fmt(value: Any, pattern: str = "{:.2f}") -> str:
    return "—" if value is None else pattern.format(value)


PENALTY_LINES = 15  # soft goals listed in the summary's tooltip


def _penalty_note(doc: dict[str, Any]) -> str:
    """What the objective adds to the consortia's fit: soft-goal penalties, re-match rewards."""
    parts = doc.get("objective_parts") or {}
    notes = []
    if parts.get("penalties"):
        n = len(doc.get("penalties", []))
        notes.append(tr(f"含软目标扣分 {parts['penalties']:.1f}，共 {n} 项",
                        f"incl. {n} soft-goal penalties, {parts['penalties']:.1f}"))
    if parts.get("rematch_rewards"):
        notes.append(tr(f"含保留奖励 +{parts['rematch_rewards']:.1f}",
                        f"incl. re-match rewards +{parts['rematch_rewards']:.1f}"))
    return (tr("（", " (") + tr("，", ", ").join(notes) + tr("）", ")")) if notes else ""


class MatchingView(View):
    """Parameters, Run / Re-match, progress and Cancel, the result tables."""

    key = "matching"
    run_finished = Signal()  # after a run's result was shown (or its failure reported)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.task: Task | None = None
        self._rematch = False
        self._params: Any = None
        self._closing = False
        self.last_error = ""
        self.alternates_for: tuple[str, str] | None = None

        # Parameters
        self.params_box = QGroupBox(self)
        form = QFormLayout(self.params_box)
        self.time_limit = QDoubleSpinBox(self.params_box)
        self.time_limit.setObjectName("time_limit")
        self.time_limit.setRange(1, 3600)
        self.time_limit.setDecimals(0)
        self.time_limit.setSuffix(" s")
        self.time_limit.setValue(time_limit_setting())
        self.coordinator = QComboBox(self.params_box)
        self.coordinator.setObjectName("coordinator")
        self.time_label = QLabel(self.params_box)
        self.coordinator_label = QLabel(self.params_box)
        form.addRow(self.time_label, self.time_limit)
        form.addRow(self.coordinator_label, self.coordinator)
        self.weight_spins: dict[str, QDoubleSpinBox] = {}
        self.weight_labels: dict[str, QLabel] = {}
        defaults = Weights()
        for f in fields(Weights):
            spin = QDoubleSpinBox(self.params_box)
            spin.setObjectName(f"weight_{f.name}")
            if f.name.endswith("_share"):
                spin.setRange(0.0, 1.0)
                spin.setSingleStep(0.05)
            else:
                spin.setRange(0.0, 1000.0)
                spin.setSingleStep(5.0)
            spin.setValue(float(getattr(defaults, f.name)))
            label = QLabel(self.params_box)
            self.weight_spins[f.name] = spin
            self.weight_labels[f.name] = label
            form.addRow(label, spin)
        self.reset_button = QPushButton(self.params_box)
        self.reset_button.setObjectName("reset_weights")
        self.reset_button.clicked.connect(self.reset_weights)
        form.addRow(self.reset_button)
        params_scroll = QScrollArea(self)
        params_scroll.setWidgetResizable(True)
        params_scroll.setWidget(self.params_box)
        params_scroll.setMinimumWidth(260)

        # Buttons, progress, summary
        self.run_button = QPushButton(self)
        self.run_button.setObjectName("run")
        self.run_button.clicked.connect(lambda: self.run())
        self.rematch_button = QPushButton(self)
        self.rematch_button.setObjectName("rematch")
        self.rematch_button.clicked.connect(lambda: self.run(rematch=True))
        self.task_panel = TaskPanel(self)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("status")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # Result tables
        self.results_model = ResultsModel(self)
        self.results = _table(self, self.results_model, "results")
        self.results.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.results.customContextMenuRequested.connect(self._context_menu)
        self.results.clicked.connect(self._clicked)
        self.unmatched_model = RowsModel([("场景", "Scene"), ("名称", "Name"), ("原因", "Reason")], self)
        self.unmatched = _table(self, self.unmatched_model, "unmatched")
        self.unmatched.setWordWrap(True)
        self.alternates_model = RowsModel([("席位", "Slot"), ("编号", "ID"), ("备选组织", "Alternative"),
                                           ("分差", "Score difference"), ("可用", "Available")], self)
        self.alternates_label = QLabel(self)
        self.alternates_label.setWordWrap(True)
        self.alternates = _table(self, self.alternates_model, "alternates")
        self.alternates.clicked.connect(self._alternate_clicked)
        self.diff_model = RowsModel([("场景", "Scene"), ("席位", "Slot"), ("之前", "Before"),
                                     ("之后", "After")], self)
        self.diff_label = QLabel(self)
        self.diff_label.setObjectName("diff_summary")
        self.diff_label.setWordWrap(True)
        self.diff = _table(self, self.diff_model, "diff")
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.results, "")
        self.tabs.addTab(self.unmatched, "")
        self.tabs.addTab(self._page(self.alternates_label, self.alternates), "")
        self.tabs.addTab(self._page(self.diff_label, self.diff), "")

        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.rematch_button)
        buttons.addStretch(1)
        right_layout.addLayout(buttons)
        right_layout.addWidget(self.task_panel)
        right_layout.addWidget(self.status_label)
        right_layout.addWidget(self.tabs, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(params_scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        session.changed.connect(self._catalogue_changed)
        session.result_changed.connect(self.refresh)
        self._fill_coordinators()
        self.retranslate()
        self.refresh()

    def _page(self, label: QLabel, table: QTableView) -> QWidget:
        page = QWidget(self)
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(label)
        box.addWidget(table, 1)
        return page

    # -- texts -----------------------------------------------------------------

    def title(self) -> str:
        return tr("匹配", "Matching")

    def retranslate(self) -> None:
        self.params_box.setTitle(tr("参数", "Parameters"))
        self.time_label.setText(tr("时间上限", "Time limit"))
        self.coordinator_label.setText(tr("组织单位", "Coordinator"))
        self.coordinator.setItemText(0, tr("全部", "All"))
        for name, label in self.weight_labels.items():
            pair = WEIGHT_LABELS.get(name)
            label.setText(tr(*pair) if pair else name)
        self.reset_button.setText(tr("恢复默认权重", "Reset weights"))
        self.run_button.setText(tr("运行匹配", "Run matching"))
        self.rematch_button.setText(tr("重新匹配（最小变动）", "Re-match with minimal disruption"))
        self.rematch_button.setToolTip(tr("以当前结果为基准，尽量保留已有成员",
                                          "Stay as close as possible to the current result"))
        for n, (zh, en) in enumerate((("联合体", "Consortia"), ("未匹配场景", "Unmatched scenes"),
                                      ("备选", "Alternatives"), ("变动", "Changes"))):
            self.tabs.setTabText(n, tr(zh, en))
        for model in (self.results_model, self.unmatched_model, self.alternates_model, self.diff_model):
            model.retranslate()
        self.task_panel.retranslate()
        self.refresh()

    # -- parameters ------------------------------------------------------------

    def _fill_coordinators(self) -> None:
        current = self.coordinator.currentData() if self.coordinator.count() else None
        self.coordinator.blockSignals(True)
        self.coordinator.clear()
        self.coordinator.addItem(tr("全部", "All"), None)
        for name in self.session.catalogue.coordinators():
            self.coordinator.addItem(name, name)
        found = self.coordinator.findData(current) if current is not None else 0
        self.coordinator.setCurrentIndex(max(0, found))
        self.coordinator.blockSignals(False)

    @Slot()
    def _catalogue_changed(self) -> None:
        self._fill_coordinators()
        self.refresh()

    @Slot()
    def reset_weights(self) -> None:
        defaults = Weights()
        for name, spin in self.weight_spins.items():
            spin.setValue(float(getattr(defaults, name)))

    def weights(self) -> Weights:
        return Weights.from_dict({name: spin.value() for name, spin in self.weight_spins.items()})

    # -- running ---------------------------------------------------------------

    def running(self) -> bool:
        return self.task is not None and self.task.running

    def run(self, rematch: bool = False) -> Task | None:
        """Start a run (``rematch``: stay close to the session's result). Returns the task."""
        if self.running():
            return None
        previous = self.session.result if rematch else None
        if rematch and not previous:
            return None
        previous_run = self.session.run_id if rematch else None
        catalogue = self.session.catalogue
        time_limit = float(self.time_limit.value())
        coordinator = self.coordinator.currentData()
        weights = self.weights()

        def work(on_progress: Callable[[float, str], None], cancel: Any) -> Any:
            from matching.engine import MatchParams, match

            def progress(p: Any) -> None:
                # Solver units are × SCALE: fit points, or (stages A and insert) the matched
                # priority.
                bound, objective = float(p.bound) / SCALE, float(p.objective) / SCALE
                stage = pick(p.stage, STAGE_LABELS)
                best = f"{objective:,.1f}"
                if p.shortfall:  # stage A: some plan rule is not met yet
                    best += tr(f"（计划规则尚缺 {p.shortfall} 个场景或领域）",
                               f" (plan rules miss {p.shortfall} scenes or fields)")
                what = (("匹配优先级", "matched priority") if p.stage in ("A", "insert")
                        else ("最优目标", "best"))
                if bound != bound:  # NaN: no bound known at this point
                    on_progress(p.fraction, tr(f"{stage}：{what[0]} {best}，{p.seconds:.1f} 秒",
                                               f"{stage}: {what[1]} {best}, {p.seconds:.1f} s"))
                    return
                gap = (bound - objective) / abs(bound) if bound else 0.0
                top = f"{bound:,.1f}"
                # A pruned run's search bounds only the candidates it kept; the whole
                # problem's bound comes at the end (and may be well above this one).
                zh, en = (("保留候选的上界", "bound over the kept candidates") if p.kept_only
                          else ("上界", "bound"))
                on_progress(p.fraction, tr(
                    f"{stage}：{what[0]} {best}，{zh} {top}，差距 {max(gap, 0):.2%}，"
                    f"{p.seconds:.1f} 秒",
                    f"{stage}: {what[1]} {best}, {en} {top}, gap {max(gap, 0):.2%}, "
                    f"{p.seconds:.1f} s"))

            params = MatchParams(time_limit=time_limit, coordinator=coordinator, weights=weights,
                                 previous=previous, previous_run=previous_run,
                                 on_progress=progress, cancel=cancel)
            on_progress(0.0, tr("正在建立模型…", "Building the model…"))
            return match(catalogue, params)

        self._rematch = rematch
        task = Task(work, self)
        task.succeeded.connect(self._done)
        task.cancelled.connect(self._done)
        task.failed.connect(self._failed)
        task.finished.connect(self._finished)
        self.task = task
        self.last_error = ""
        self.status_label.setText(tr("正在匹配…", "Matching…"))
        self.task_panel.run(task)
        self._update_buttons()
        return task

    def cancel(self) -> None:
        """Ask the running solve to stop (it returns the best solution found)."""
        if self.running():
            self.task_panel.cancel_button.click()

    @Slot(object)
    def _done(self, result: Any) -> None:
        if self._closing:
            return
        if result is None or not hasattr(result, "to_dict"):
            return  # cancelled before anything could be shown
        doc = result.to_dict()
        params = result.params
        run_id = self.session.store.save_run(
            coordinator=params.coordinator, status=doc["status"], objective=doc["objective"],
            bound=doc["bound"], gap=doc["gap"], seconds=doc["seconds"], params=params.as_dict(),
            result=doc)
        self.session.set_result(doc, run_id)
        if self._rematch and "diff" in doc:
            self.tabs.setCurrentIndex(3)
        else:
            self.tabs.setCurrentIndex(0)

    @Slot(str, str)
    def _failed(self, message: str, trace: str) -> None:
        if self._closing:
            return
        self.last_error = message
        self.status_label.setText(tr(f"匹配失败：{message}", f"Matching failed: {message}"))
        self.status_label.setToolTip(trace)

    @Slot()
    def _finished(self) -> None:
        if self._closing:
            return
        if self.last_error:
            self._update_buttons()
        elif self.session.result is None:
            self._update_buttons()
            self.status_label.setText(tr("已取消，没有可显示的结果", "Cancelled; no result to show"))
        else:
            self.refresh()  # the summary, now that the task is over
        self.run_finished.emit()

    def _update_buttons(self) -> None:
        busy = self.running()
        self.run_button.setEnabled(not busy)
        self.rematch_button.setEnabled(not busy and bool(self.session.result))
        self.params_box.setEnabled(not busy)

    def shutdown(self) -> None:
        self._closing = True
        task = self.task
        if task is not None and task.running:
            task.cancel()
            task.wait(30_000)

    # -- showing the result ----------------------------------------------------

    def _names(self) -> tuple[dict[str, str], dict[str, str]]:
        cat = self.session.catalogue
        return ({o.id: o.name for o in cat.organizations}, {s.id: s.name for s in cat.scenes})

    @Slot()
    def refresh(self) -> None:
        doc = self.session.result
        orgs, scenes = self._names()
        self._update_buttons()
        if not doc:
            self.results_model.fill([], orgs, scenes)
            self.unmatched_model.set_rows([])
            self.diff_model.set_rows([])
            self.diff_label.setText("")
            if not self.running() and not self.last_error:
                self.status_label.setText(tr("尚无匹配结果。设置参数后点击“运行匹配”。",
                                             "No result yet. Set the parameters and click Run matching."))
            return
        consortia = doc.get("consortia", [])
        unmatched = doc.get("unmatched", [])
        self.results_model.fill(consortia, orgs, scenes)
        self.results.resizeColumnsToContents()
        self.unmatched_model.set_rows(
            [[u["scene"], scenes.get(u["scene"], ""), u.get("reason", "")] for u in unmatched],
            list(unmatched), [["", "", u.get("reason", "")] for u in unmatched])
        if not self.running():
            self.status_label.setText(self.summary(doc))
            self.status_label.setToolTip(self.penalty_lines(doc, orgs))
        self._show_diff(doc.get("diff"), orgs)
        if self.alternates_for is not None:
            self.show_alternates(*self.alternates_for, switch=False)

    @staticmethod
    def penalty_lines(doc: dict[str, Any], orgs: dict[str, str]) -> str:
        """Each soft goal the answer breaks, one per line (the summary's tooltip)."""
        lines = []
        penalties = doc.get("penalties", [])
        for p in penalties[:PENALTY_LINES]:
            zh, en = TERM_LABELS.get(p["goal"], (p["goal"], p["goal"]))
            name = orgs.get(p["org"], p["org"])
            lines.append(tr(
                f"{zh}：{name} 占 {p['coordinator']} {p['consortia']}/{p['of']} 个联合体"
                f"（上限 {p['share']:.0%} 加 1 个），扣 {p['points']:.1f} 分",
                f"{en}: {name} in {p['consortia']} of {p['coordinator']}'s {p['of']} "
                f"consortia (share {p['share']:.0%} plus one), −{p['points']:.1f}"))
        if len(penalties) > PENALTY_LINES:  # a tooltip, not a report: the CLI and JSON list all
            lines.append(tr(f"…… 共 {len(penalties)} 项", f"… {len(penalties)} in all"))
        return "\n".join(lines)

    def summary(self, doc: dict[str, Any]) -> str:
        status = doc.get("status", "")
        total = len(doc.get("consortia", [])) + len(doc.get("unmatched", []))
        parts = [
            tr("状态：", "Status: ") + pick(status, RESULT_STATUS_LABELS),
            tr(f"匹配 {len(doc.get('consortia', []))}/{total} 个场景",
               f"matched {len(doc.get('consortia', []))}/{total} scenes"),
            tr("优先级", "priority") + f" {_fmt(doc.get('matched_priority'), '{:.1f}')}"
            f"/{_fmt(doc.get('matched_priority_bound'), '{:.1f}')}",
            tr("目标", "objective") + f" {_fmt(doc.get('objective'))}" + _penalty_note(doc),
            tr("上界", "bound") + f" {_fmt(doc.get('bound'))}",
            tr("差距", "gap") + f" {_fmt(doc.get('gap'), '{:.2%}')}",
            tr(f"{doc.get('seconds', 0):.1f} 秒", f"{doc.get('seconds', 0):.1f} s"),
        ]
        if self.session.run_id is not None:
            parts.append(tr(f"运行 #{self.session.run_id}", f"run #{self.session.run_id}"))
        text = "，".join(parts) if self._zh() else ", ".join(parts)
        if status == "cancelled":
            text += (tr("（运行已取消，显示取消前找到的最佳方案）",
                        " (cancelled: the best solution found before stopping)")
                     if doc.get("consortia") else
                     tr("（运行已取消，取消前尚未找到方案）",
                        " (cancelled before any solution was found)"))
        return text

    @staticmethod
    def _zh() -> bool:
        return tr("zh", "en") == "zh"

    def _show_diff(self, diff: dict[str, Any] | None, orgs: dict[str, str]) -> None:
        if not diff:
            self.diff_model.set_rows([])
            self.diff_label.setText(tr("当前结果不是重新匹配，没有变动记录。",
                                       "The current result is not a re-match; no changes to show."))
            return
        added = "、".join(diff.get("scenes_added", [])) or "—"
        removed = "、".join(diff.get("scenes_removed", [])) or "—"
        self.diff_label.setText(tr(
            f"保留成员 {diff.get('kept', 0)} 个，变更 {diff.get('changed', 0)} 个；"
            f"新增场景：{added}；移除场景：{removed}",
            f"{diff.get('kept', 0)} memberships kept, {diff.get('changed', 0)} changed; "
            f"scenes added: {added}; scenes removed: {removed}"))

        def who(org: str | None) -> str:
            return "—" if not org else f"{org} {orgs.get(org, '')}".strip()

        changes = diff.get("changes", [])
        self.diff_model.set_rows(
            [[c["scene"], slot_label(c["slot"]), who(c.get("before")), who(c.get("after"))]
             for c in changes], list(changes))

    # -- members: click, context menu ----------------------------------------------

    @Slot(QModelIndex)
    def _clicked(self, index: QModelIndex) -> None:
        members = self.results_model.members_at(index.row(), index.column())
        if members:
            self.session.org_selected.emit(members[0]["org"])
        else:
            consortium = self.results_model.payload(index.row())
            if consortium is not None:
                self.session.scene_selected.emit(consortium["scene"])

    @Slot(QModelIndex)
    def _alternate_clicked(self, index: QModelIndex) -> None:
        option = self.alternates_model.payload(index.row())
        if option:
            self.session.org_selected.emit(option["org"])

    @Slot(QPoint)
    def _context_menu(self, pos: QPoint) -> None:
        index = self.results.indexAt(pos)
        if not index.isValid():
            return
        menu = self.context_menu(index.row(), index.column())
        if menu is not None:
            menu.exec(self.results.viewport().mapToGlobal(pos))
            menu.deleteLater()

    def context_menu(self, row: int, column: int) -> QMenu | None:
        """The menu for a results cell: per member, Pin / Exclude / Find alternatives."""
        consortium = self.results_model.payload(row)
        members = self.results_model.members_at(row, column)
        if consortium is None or not members:
            return None
        menu = QMenu(self)
        orgs, _ = self._names()
        if len(members) == 1:
            self.member_menu(consortium["scene"], members[0], menu)
        else:
            for m in members:
                label = (f"{m['category']}：" if m.get("category") else "") + orgs.get(m["org"], m["org"])
                self.member_menu(consortium["scene"], m, menu.addMenu(label))
        menu.addSeparator()
        rematch = menu.addAction(tr("重新匹配（最小变动）", "Re-match with minimal disruption"))
        rematch.setObjectName("rematch")
        rematch.setEnabled(not self.running())
        rematch.triggered.connect(lambda: self.run(rematch=True))
        return menu

    def member_menu(self, scene_id: str, member: dict[str, Any], menu: QMenu | None = None) -> QMenu:
        """Actions on one member of ``scene_id``'s consortium (object names ``show_org``,
        ``pin``, ``exclude``, ``alternates``)."""
        menu = menu if menu is not None else QMenu(self)
        org = member["org"]
        owner = member["role"] == "user_unit"

        def add(name: str, text: str, slot: Callable[[], None], enabled: bool = True) -> QAction:
            action = menu.addAction(text)
            action.setObjectName(name)
            action.setEnabled(enabled)
            action.triggered.connect(slot)
            return action

        add("show_org", tr("查看组织", "Show organisation"), lambda: self.session.org_selected.emit(org))
        add("pin", tr("固定", "Pin"), lambda: self.pin_member(scene_id, member), not owner)
        add("exclude", tr("排除（不进入该场景）", "Exclude from this scene"),
            lambda: self.exclude_member(scene_id, org), not owner)
        add("alternates", tr("查找替代", "Find alternatives"),
            lambda: self.show_alternates(scene_id, slot_of(member)), not owner)
        return menu

    def pin_member(self, scene_id: str, member: dict[str, Any]) -> bool:
        """Pin ``member`` in ``scene_id`` (undoable); False with a message when refused."""
        pin = Pin(scene_id, member["org"], Role(member["role"]), member.get("category"))
        return self._edit(lambda: self.session.add_pin(
            pin, tr(f"固定 {member['org']} 于 {scene_id}", f"pin {member['org']} in {scene_id}")))

    def exclude_member(self, scene_id: str, org_id: str, reason: str | None = None) -> bool:
        """Exclude ``org_id`` from the scene's owner (asks for a reason when none is given)."""
        scene = self.session.scene(scene_id)
        if scene is None:
            return False
        if reason is None:
            reason, ok = QInputDialog.getText(
                self, tr("排除", "Exclude"),
                tr(f"排除 {org_id} 与 {scene.owner}（{scene.name} 的用户单位）的原因：",
                   f"Reason to exclude {org_id} with {scene.owner} (owner of {scene.name}):"))
            if not ok:
                return False
        exclusion = Exclusion(scene.owner, org_id, reason.strip())
        return self._edit(lambda: self.session.add_exclusion(
            exclusion, tr(f"排除 {org_id} 与 {scene.owner}", f"exclude {org_id} with {scene.owner}")))

    def _edit(self, do: Callable[[], None]) -> bool:
        try:
            do()
        except Exception as exc:  # noqa: BLE001 - a refused edit is reported, nothing changed
            self.status_label.setText(tr(f"未能保存：{exc}", f"Not saved: {exc}"))
            return False
        self.status_label.setText(self.summary(self.session.result) if self.session.result else "")
        self.status_label.setText(self.status_label.text() + tr(
            "。目录已修改，点击“重新匹配（最小变动）”应用。",
            ". The catalogue changed; click Re-match to apply it."))
        return True

    def show_alternates(self, scene_id: str, slot: str, switch: bool = True) -> None:
        """Show the result's alternates for one slot of ``scene_id``'s consortium."""
        self.alternates_for = (scene_id, slot)
        doc = self.session.result or {}
        consortium = next((c for c in doc.get("consortia", []) if c["scene"] == scene_id), None)
        options = (consortium or {}).get("alternates", {}).get(slot, [])
        orgs, scenes = self._names()
        self.alternates_label.setText(tr(
            f"{scene_id} {scenes.get(scene_id, '')} · {slot_label(slot)} 的备选（分差相对当前成员）",
            f"Alternatives for {slot_label(slot)} in {scene_id} {scenes.get(scene_id, '')} "
            "(score difference to the current member)")
            + ("" if options else tr("：无", ": none")))
        yes, no = tr("是", "yes"), tr("已满负荷", "at capacity")
        self.alternates_model.set_rows(
            [[slot_label(slot), o["org"], o.get("name") or orgs.get(o["org"], ""), float(o["delta"]),
              yes if o.get("available") else no] for o in options], list(options))
        if switch:
            self.tabs.setCurrentIndex(2)
