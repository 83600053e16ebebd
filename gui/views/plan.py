"""Plan: one coordinator's scenes and, per scene, whether it is in the plan.

A coordinator box, the plan's rule (≥ N scenes in ≥ K fields, two spin boxes), a live
compliance summary (green, or red with exactly what is missing), counts of included,
required and excluded scenes and their robots, and a table of the coordinator's scenes
whose plan choice (纳入 include / 排除 exclude / 必选 require) is changed with three
buttons for the selected rows or with a combo box in the cell. Every change is one undo
step, however many rows it touches. When a matching result is loaded the table also
says whether each scene got a consortium.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.model import Catalogue, PlanChoice, PlanRule, Scene
from core.plan_rules import PlanStatus, default_rule, plan_status
from gui import i18n
from gui.i18n import FIELD_LABELS, pick, tr
from gui.session import Session
from gui.views.base import View

GREEN, RED, GREY = "#1b7f3b", "#b00020", "#8a8f96"
PLAN_LABELS = {"include": ("纳入", "Include"), "exclude": ("排除", "Exclude"),
               "require": ("必选", "Require")}
CHOICES = (PlanChoice.INCLUDE, PlanChoice.EXCLUDE, PlanChoice.REQUIRE)
AnyIndex = QModelIndex | QPersistentModelIndex

# Columns: key, Chinese, English. "matched" is shown only when a result is loaded.
COLUMNS = (
    ("id", "编号", "ID"),
    ("name", "场景名称", "Scene"),
    ("field", "领域", "Field"),
    ("category", "场景类别", "Category"),
    ("robots", "部署台数", "Robots"),
    ("priority", "优先级", "Priority"),
    ("plan", "计划选择", "Plan choice"),
    ("matched", "上次匹配", "Last match"),
)
PLAN_COLUMN = 6


class PlanModel(QAbstractTableModel):
    """One coordinator's scenes. Editing the plan column calls ``on_choice`` (the view
    saves through the session; the model is then refreshed from the catalogue)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scenes: list[Scene] = []
        self.matched: dict[str, bool] | None = None  # scene -> got a consortium (None: no result)
        self.reasons: dict[str, str] = {}
        self.on_choice: Callable[[list[Scene], PlanChoice], None] | None = None

    # -- content ---------------------------------------------------------------

    def set_scenes(self, scenes: list[Scene], matched: dict[str, bool] | None,
                   reasons: dict[str, str] | None = None) -> None:
        """Show ``scenes``; rows are updated in place (keeping the selection) when the same
        scenes are shown with the same columns, else the model is reset."""
        same = ([s.id for s in scenes] == [s.id for s in self.scenes]
                and (matched is None) == (self.matched is None))
        if same:
            self.scenes = list(scenes)
            self.matched = matched
            self.reasons = dict(reasons or {})
            if self.scenes:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(self.scenes) - 1, self.columnCount() - 1))
            return
        self.beginResetModel()
        self.scenes = list(scenes)
        self.matched = matched
        self.reasons = dict(reasons or {})
        self.endResetModel()

    def retranslate(self) -> None:
        """Headers and labels are read in the current language: tell the views."""
        if self.columnCount():
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.columnCount() - 1)
        if self.scenes:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self.scenes) - 1, self.columnCount() - 1))

    # -- the model interface -----------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.scenes)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008
        if parent.isValid():
            return 0
        return len(COLUMNS) if self.matched is not None else len(COLUMNS) - 1

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            if 0 <= section < self.columnCount():
                _, zh, en = COLUMNS[section]
                return tr(zh, en)
            return None
        return str(section + 1) if 0 <= section < self.rowCount() else None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == PLAN_COLUMN:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.scenes):
            return None
        scene = self.scenes[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(scene, key)
        if role == Qt.ItemDataRole.EditRole:
            return scene.plan.value if key == "plan" else self._display(scene, key)
        if role == Qt.ItemDataRole.UserRole:
            return scene.id
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("robots", "priority"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if scene.plan is PlanChoice.EXCLUDE:
                return QBrush(QColor(GREY))
            if key == "plan" and scene.plan is PlanChoice.REQUIRE:
                return QBrush(QColor(GREEN))
            if key == "matched" and self.matched is not None and scene.id in self.matched:
                return QBrush(QColor(GREEN if self.matched[scene.id] else RED))
        if role == Qt.ItemDataRole.ToolTipRole and key == "matched" and scene.id in self.reasons:
            return self.reasons[scene.id]
        return None

    def _display(self, scene: Scene, key: str) -> str:
        if key == "field":
            return pick(scene.field, FIELD_LABELS)
        if key == "plan":
            return pick(scene.plan, PLAN_LABELS)
        if key == "robots":
            return str(scene.robots)
        if key == "priority":
            return f"{scene.priority:g}"
        if key == "matched":
            if self.matched is None or scene.id not in self.matched:
                return "—"
            return tr("已组建联合体", "Consortium") if self.matched[scene.id] else tr("未匹配", "Unmatched")
        return str(getattr(scene, key))

    def setData(self, index: AnyIndex, value: Any,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (role != Qt.ItemDataRole.EditRole or not index.isValid()
                or index.column() != PLAN_COLUMN or not 0 <= index.row() < len(self.scenes)):
            return False
        try:
            choice = PlanChoice(value)
        except ValueError:
            return False
        scene = self.scenes[index.row()]
        if choice is scene.plan:
            return True
        if self.on_choice is None:
            return False
        self.on_choice([scene], choice)
        return True


class PlanChoiceDelegate(QStyledItemDelegate):
    """A combo box of the three plan choices; picking one applies it at once."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,  # noqa: N802
                     index: AnyIndex) -> QWidget:
        combo = QComboBox(parent)
        combo.setObjectName("plan_choice_editor")
        for choice in CHOICES:
            combo.addItem(pick(choice, PLAN_LABELS), choice.value)
        combo.activated.connect(lambda _=0, c=combo: self._commit(c))
        return combo

    def _commit(self, combo: QComboBox) -> None:
        self.commitData.emit(combo)
        self.closeEditor.emit(combo, QStyledItemDelegate.EndEditHint.NoHint)

    def setEditorData(self, editor: QWidget, index: AnyIndex) -> None:  # noqa: N802
        assert isinstance(editor, QComboBox)
        position = editor.findData(index.data(Qt.ItemDataRole.EditRole))
        editor.setCurrentIndex(max(0, position))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel,  # noqa: N802
                     index: AnyIndex) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


class PlanView(View):
    """A coordinator's plan: rule, compliance, and each scene's plan choice."""

    key = "plan"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self._refreshing = False
        self.coordinator_label = QLabel(self)
        self.coordinator = QComboBox(self)
        self.coordinator.setObjectName("coordinator")
        self.coordinator.setMinimumContentsLength(10)
        self.coordinator.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.rule_label = QLabel(self)
        self.min_scenes = QSpinBox(self)
        self.min_scenes.setObjectName("min_scenes")
        self.min_scenes.setRange(0, 9999)
        self.fields_label = QLabel(self)
        self.min_fields = QSpinBox(self)
        self.min_fields.setObjectName("min_fields")
        self.min_fields.setRange(0, 3)
        self.rule_note = QLabel(self)
        for spin in (self.min_scenes, self.min_fields):
            spin.setKeyboardTracking(False)  # typed numbers count once, on Enter or leaving
            spin.valueChanged.connect(self._rule_edited)
        self.compliance = QLabel(self)
        self.compliance.setObjectName("compliance")
        self.compliance.setWordWrap(True)
        self.counts = QLabel(self)
        self.counts.setObjectName("counts")
        self.counts.setWordWrap(True)
        self.buttons: dict[PlanChoice, QPushButton] = {}
        for choice in CHOICES:
            button = QPushButton(self)
            button.setObjectName(f"plan_{choice.value}")
            button.clicked.connect(lambda _=False, c=choice: self.set_choice(c))
            self.buttons[choice] = button
        self.model = PlanModel(self)
        self.model.on_choice = self._apply
        self.table = QTableView(self)
        self.table.setObjectName("plan_table")
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(PLAN_COLUMN, PlanChoiceDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.SelectedClicked)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(self._open_scene)

        top = QHBoxLayout()
        top.addWidget(self.coordinator_label)
        top.addWidget(self.coordinator, 1)
        top.addStretch(1)
        rule_row = QHBoxLayout()
        rule_row.addWidget(self.rule_label)
        rule_row.addWidget(self.min_scenes)
        rule_row.addWidget(self.fields_label)
        rule_row.addWidget(self.min_fields)
        rule_row.addWidget(self.rule_note)
        rule_row.addStretch(1)
        actions = QHBoxLayout()
        for button in self.buttons.values():
            actions.addWidget(button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(rule_row)
        layout.addWidget(self.compliance)
        layout.addWidget(self.counts)
        layout.addLayout(actions)
        layout.addWidget(self.table, 1)

        self.coordinator.currentIndexChanged.connect(lambda _=0: self.refresh())
        session.changed.connect(self.refresh)
        session.result_changed.connect(self.refresh)
        self.refresh()
        self.retranslate()

    # -- texts -----------------------------------------------------------------

    def title(self) -> str:
        return tr("计划", "Plan")

    def retranslate(self) -> None:
        self.coordinator_label.setText(tr("组织单位", "Coordinator"))
        self.rule_label.setText(tr("规则：不少于", "Rule: at least"))
        self.min_scenes.setSuffix(tr(" 个场景", " scenes"))
        self.fields_label.setText(tr("，覆盖不少于", "in at least"))
        self.min_fields.setSuffix(tr(" 个领域", " fields"))
        labels = {
            PlanChoice.INCLUDE: (tr("纳入", "Include"),
                                 tr("纳入计划：匹配时可以选中", "In the plan: matching may choose it")),
            PlanChoice.EXCLUDE: (tr("排除", "Exclude"),
                                 tr("移出计划：不参与匹配", "Out of the plan: never matched")),
            PlanChoice.REQUIRE: (tr("必选", "Require"),
                                 tr("必须组建联合体", "Must get a consortium")),
        }
        for choice, button in self.buttons.items():
            text, tip = labels[choice]
            button.setText(text)
            button.setToolTip(tip)
        self.model.retranslate()
        self._update_summary()

    # -- refreshing --------------------------------------------------------------

    def current_coordinator(self) -> str | None:
        """The coordinator shown (None when the catalogue has none)."""
        text = self.coordinator.currentText()
        return text or None

    def refresh(self) -> None:
        """Re-read the catalogue and the result."""
        if self._refreshing:
            return
        self._refreshing = True
        try:
            catalogue = self.session.catalogue
            names = catalogue.coordinators()
            current = self.current_coordinator()
            if [self.coordinator.itemText(i) for i in range(self.coordinator.count())] != names:
                self.coordinator.blockSignals(True)
                self.coordinator.clear()
                self.coordinator.addItems(names)
                if current in names:
                    self.coordinator.setCurrentIndex(names.index(current))
                self.coordinator.blockSignals(False)
            coordinator = self.current_coordinator()
            scenes = sorted((s for s in catalogue.scenes if s.coordinator == coordinator),
                            key=lambda s: s.id)
            matched, reasons = self._result_for(scenes)
            self.model.set_scenes(scenes, matched, reasons)
            self._update_rule(catalogue, coordinator)
            self._update_summary()
            self._update_buttons()
        finally:
            self._refreshing = False

    def _result_for(self, scenes: list[Scene]) -> tuple[dict[str, bool] | None, dict[str, str]]:
        result = self.session.result
        if result is None:
            return None, {}
        formed = {c.get("scene") for c in result.get("consortia") or []}
        reasons = {u.get("scene"): str(u.get("reason", "")) for u in result.get("unmatched") or []}
        matched = {s.id: s.id in formed for s in scenes if s.id in formed or s.id in reasons}
        return matched, {k: v for k, v in reasons.items() if isinstance(k, str)}

    def _rule(self, catalogue: Catalogue, coordinator: str) -> PlanRule | None:
        return next((p for p in catalogue.plans if p.coordinator == coordinator), None)

    def _update_rule(self, catalogue: Catalogue, coordinator: str | None) -> None:
        enabled = coordinator is not None
        for spin in (self.min_scenes, self.min_fields):
            spin.setEnabled(enabled)
        if coordinator is None:
            return
        rule = self._rule(catalogue, coordinator) or default_rule(coordinator)
        for spin, value in ((self.min_scenes, rule.min_scenes), (self.min_fields, rule.min_fields)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)

    def status(self) -> PlanStatus | None:
        """The shown coordinator's plan against its rule."""
        coordinator = self.current_coordinator()
        if coordinator is None:
            return None
        return plan_status(self.session.catalogue, coordinator)

    def _update_summary(self) -> None:
        status = self.status()
        if status is None:
            self.compliance.setText(tr("目录中还没有场景", "The catalogue has no scenes yet"))
            self.compliance.setStyleSheet(f"color: {GREY};")
            self.counts.setText("")
            self.rule_note.setText("")
            return
        self.rule_note.setText(tr("（默认规则）", "(default rule)") if status.default_rule else "")
        if status.compliant:
            text = "✓ " + tr("合规", "Compliant")
            colour = GREEN
        else:
            text = "✗ " + tr("不合规：", "Not compliant: ") + tr("；", "; ").join(
                status.shortfalls(i18n.language()))
            colour = RED
        self.compliance.setText(text)
        self.compliance.setStyleSheet(f"color: {colour}; font-weight: bold;")
        fields = tr("、", ", ").join(pick(f, FIELD_LABELS) for f in status.fields) or "—"
        included = status.scenes - status.required
        counts = tr(
            f"计划内 {status.scenes} 个场景（纳入 {included}，必选 {status.required}），"
            f"排除 {status.excluded} 个；领域：{fields}；计划部署 {status.robots} 台",
            f"{status.scenes} scenes in the plan ({included} included, {status.required} "
            f"required), {status.excluded} excluded; fields: {fields}; {status.robots} robots",
        )
        matched = self.model.matched
        if matched is not None:
            in_plan = {s.id for s in self.model.scenes if s.plan is not PlanChoice.EXCLUDE}
            done = sum(1 for sid, ok in matched.items() if ok and sid in in_plan)
            counts += tr(f"；上次匹配：{done}/{status.scenes} 个已组建联合体",
                         f"; last match: {done}/{status.scenes} with a consortium")
        self.counts.setText(counts)

    def _update_buttons(self) -> None:
        selected = bool(self.selected_scenes())
        for button in self.buttons.values():
            button.setEnabled(selected)

    # -- editing -------------------------------------------------------------------

    def selected_scenes(self) -> list[Scene]:
        """The scenes of the selected rows, in table order."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.scenes[r] for r in rows if 0 <= r < len(self.model.scenes)]

    def set_choice(self, choice: PlanChoice) -> None:
        """Give every selected scene ``choice`` (one undo step)."""
        self._apply(self.selected_scenes(), choice)

    def _apply(self, scenes: list[Scene], choice: PlanChoice) -> None:
        old = [s for s in scenes if s.plan is not choice]
        if not old:
            return
        new = [replace(s, plan=choice) for s in old]
        label = pick(choice, PLAN_LABELS)
        if len(new) == 1:
            text = tr(f"计划选择 {new[0].id}：{label}", f"Plan choice of {new[0].id}: {label}")
            self.session.save_scene(new[0], old[0], text)
        else:
            text = tr(f"{len(new)} 个场景设为{label}", f"{len(new)} scenes set to {label}")
            self.session.save(text, Catalogue(scenes=tuple(new)), Catalogue(scenes=tuple(old)))

    def _rule_edited(self) -> None:
        coordinator = self.current_coordinator()
        if coordinator is None or self._refreshing:
            return
        catalogue = self.session.catalogue
        stored = self._rule(catalogue, coordinator)
        base = stored or default_rule(coordinator)
        rule = replace(base, min_scenes=self.min_scenes.value(), min_fields=self.min_fields.value())
        if rule == stored:
            return
        # Undo writes the stored rule back, or deletes the row when the plan had the default.
        self.session.save_plan_rule(
            rule, stored, tr(f"{coordinator} 的规则：≥{rule.min_scenes} 个场景，≥{rule.min_fields} 个领域",
                           f"Rule of {coordinator}: ≥{rule.min_scenes} scenes, ≥{rule.min_fields} fields"))

    def _open_scene(self, index: QModelIndex) -> None:
        if index.isValid() and index.column() != PLAN_COLUMN:
            self.session.scene_selected.emit(self.model.scenes[index.row()].id)
