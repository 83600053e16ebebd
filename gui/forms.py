"""Edit forms for one scene or organisation, and the browse-and-edit page around them.

A form shows one record in a QFormLayout. ``record()`` builds the edited record with
``dataclasses.replace`` on the shown one (fields the form does not know survive), and
``validate()`` returns a message per bad field, shown in red under that field. The
:class:`TablePage` puts a search box, facet combos, a sortable table and a form together;
the scenes and organisations views are thin subclasses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.model import Field, Organization, Ownership, Role, Scene, Status
from core.problems import CatalogueError
from core.taxonomy import taxonomy
from core.uscc import uscc_problem
from gui import i18n
from gui.i18n import FIELD_LABELS, OWNERSHIP_LABELS, ROLE_LABELS, STATUS_LABELS, pick, tr
from gui.models import ID_ROLE, CatalogueModel, CatalogueProxy
from gui.session import Session
from gui.views.base import View

_SPLIT = re.compile(r"[,，、;；\n]+")
_PAIR = re.compile(r"^\s*(.+?)\s*[:：=]\s*(-?\d+)\s*$")
ERROR_STYLE = "color: #c62828;"

Message = tuple[str, str]  # (zh, en)


def split_list(text: str) -> tuple[str, ...]:
    """``"a、b, c"`` → ``("a", "b", "c")`` (empty parts dropped, order kept, no repeats)."""
    seen: dict[str, None] = {}
    for part in _SPLIT.split(text):
        part = part.strip()
        if part:
            seen[part] = None
    return tuple(seen)


def join_list(values: Iterable[str]) -> str:
    return "、".join(values)


def parse_levels(text: str) -> tuple[dict[str, int], Message | None]:
    """``"移动导航:3、抓取放置:4"`` → the mapping, or a message about the first bad part."""
    result: dict[str, int] = {}
    for part in split_list(text):
        m = _PAIR.match(part)
        if not m:
            return result, (f"“{part}” 缺少等级，应写作 技能:等级",
                            f"“{part}” has no level; write skill:level")
        level = int(m.group(2))
        if not 1 <= level <= 5:
            return result, (f"“{m.group(1)}” 的等级应在 1 到 5 之间，实为 {level}",
                            f"level of “{m.group(1)}” must be 1..5, got {level}")
        result[m.group(1)] = level
    return result, None


def format_levels(levels: dict[str, int]) -> str:
    return "、".join(f"{k}:{v}" for k, v in levels.items())


def _combo_set(combo: QComboBox, value: str) -> None:
    """Select ``value`` (item data) in ``combo``; an editable combo takes unknown text."""
    n = combo.findData(value)
    if n < 0 and combo.isEditable():
        n = combo.findText(value)
        if n < 0:
            combo.setEditText(value)
            return
    if n < 0:
        combo.addItem(value, value)
        n = combo.count() - 1
    combo.setCurrentIndex(n)


def _combo_value(combo: QComboBox) -> str:
    """An editable combo's text (mapped back to the value of a matching item), else its data."""
    if combo.isEditable():
        text = combo.currentText().strip()
        n = combo.findText(text)
        if n >= 0 and combo.itemData(n) is not None:
            return str(combo.itemData(n))
        return text
    data = combo.currentData()
    return "" if data is None else str(data)


def _fill(combo: QComboBox, items: Iterable[tuple[str, str]]) -> None:
    """Replace the items (label, value), keeping the current value."""
    current = _combo_value(combo) if combo.count() or combo.isEditable() else ""
    combo.blockSignals(True)
    combo.clear()
    for label, value in items:
        combo.addItem(label, value)
    if current:
        _combo_set(combo, current)
    combo.blockSignals(False)


class RecordForm(QWidget):
    """A QFormLayout of editors, each with a red error label under it."""

    edited = Signal()  # the user changed something

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QFormLayout(self)
        self.layout_.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.labels: dict[str, tuple[QLabel, str, str]] = {}
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.original: Any = None
        self._loading = False
        self.dirty = False

    def add_row(self, key: str, zh: str, en: str, editor: QWidget) -> None:
        label = QLabel(self)
        error = QLabel(self)
        error.setObjectName(f"error_{key}")
        error.setStyleSheet(ERROR_STYLE)
        error.setWordWrap(True)
        error.hide()
        box = QWidget(self)
        box_layout = QVBoxLayout(box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.setSpacing(1)
        box_layout.addWidget(editor)
        box_layout.addWidget(error)
        editor.setObjectName(f"edit_{key}")
        label.setBuddy(editor)
        self.layout_.addRow(label, box)
        self.labels[key] = (label, zh, en)
        self.editors[key] = editor
        self.errors[key] = error
        for signal in _change_signals(editor):
            signal.connect(self._changed)

    def _changed(self, *_: object) -> None:
        if not self._loading:
            self.dirty = True
            self.edited.emit()

    def retranslate(self) -> None:
        for label, zh, en in self.labels.values():
            label.setText(tr(zh, en))
        self.show_errors(self._messages)

    _messages: dict[str, Message] = {}

    # -- the record ------------------------------------------------------------

    def set_record(self, record: Any) -> None:
        """Show ``record`` (None: an empty, disabled form); discards edits."""
        self._loading = True
        try:
            self.original = record
            self.setEnabled(record is not None)
            if record is not None:
                self.load(record)
        finally:
            self._loading = False
        self.dirty = False
        self.show_errors({})

    def load(self, record: Any) -> None:
        raise NotImplementedError

    def record(self) -> Any:
        """The edited record (``replace`` on the shown one)."""
        raise NotImplementedError

    def problems(self) -> dict[str, Message]:
        """Messages per bad field (zh, en); empty when the form is valid."""
        raise NotImplementedError

    def validate(self) -> bool:
        """Check the form and show each problem under its field; True when valid."""
        problems = self.problems() if self.original is not None else {}
        self.show_errors(problems)
        return not problems

    def show_errors(self, problems: dict[str, Message]) -> None:
        self._messages = dict(problems)
        for key, label in self.errors.items():
            message = problems.get(key)
            label.setVisible(message is not None)
            label.setText(tr(*message) if message else "")

    def error_text(self, key: str) -> str:
        """The error shown under ``key`` ("" when none)."""
        label = self.errors[key]
        return label.text() if not label.isHidden() else ""


def _change_signals(editor: QWidget) -> list[Any]:
    if isinstance(editor, QLineEdit):
        return [editor.textEdited]
    if isinstance(editor, QPlainTextEdit):
        return [editor.textChanged]
    if isinstance(editor, QComboBox):
        signals = [editor.activated]
        if editor.isEditable():
            signals.append(editor.editTextChanged)
        return signals
    if isinstance(editor, QSpinBox | QDoubleSpinBox):
        return [editor.valueChanged]
    if isinstance(editor, QCheckBox):
        return [editor.toggled]
    if isinstance(editor, RoleBoxes):
        return [editor.changed]
    return []


def _line(parent: QWidget) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setClearButtonEnabled(True)
    return edit


def _editable_combo(parent: QWidget) -> QComboBox:
    combo = QComboBox(parent)
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    return combo


class RoleBoxes(QWidget):
    """One check box per role."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[Role, QCheckBox] = {}
        for n, role in enumerate(Role):
            box = QCheckBox(self)
            box.setObjectName(f"role_{role.value}")
            box.toggled.connect(self.changed)
            grid.addWidget(box, n // 3, n % 3)
            self.boxes[role] = box
        self.retranslate()

    def retranslate(self) -> None:
        for role, box in self.boxes.items():
            box.setText(pick(role, ROLE_LABELS))

    def roles(self) -> tuple[Role, ...]:
        return tuple(r for r, box in self.boxes.items() if box.isChecked())

    def set_roles(self, roles: Iterable[Role]) -> None:
        chosen = set(roles)
        for role, box in self.boxes.items():
            box.setChecked(role in chosen)


class SceneForm(RecordForm):
    """One scene."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.id_label = QLabel(self)
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name = _line(self)
        self.owner = QComboBox(self)
        self.coordinator = _editable_combo(self)
        self.field = QComboBox(self)
        self.category = _editable_combo(self)
        self.province = _editable_combo(self)
        self.city = _line(self)
        self.sector = _line(self)
        self.robots = QSpinBox(self)
        self.robots.setRange(-1_000_000, 1_000_000)
        self.priority = QDoubleSpinBox(self)
        self.priority.setRange(-1000.0, 1000.0)
        self.priority.setDecimals(2)
        self.priority.setSingleStep(0.5)
        self.status = QComboBox(self)
        self.form_factors = _line(self)
        self.skills = _line(self)
        self.certifications = _line(self)
        self.components = _line(self)
        self.needs_institute = QCheckBox(self)
        self.needs_algorithm = QCheckBox(self)
        self.budget = QDoubleSpinBox(self)
        self.budget.setRange(-1.0, 1e9)
        self.budget.setDecimals(1)
        self.description = QPlainTextEdit(self)
        self.description.setMaximumHeight(90)
        for key, zh, en, editor in (
            ("id", "编号", "ID", self.id_label),
            ("name", "名称", "Name", self.name),
            ("owner", "用户单位", "Owner (user unit)", self.owner),
            ("coordinator", "统筹单位", "Coordinator", self.coordinator),
            ("field", "领域", "Field", self.field),
            ("category", "类别", "Category", self.category),
            ("province", "省份", "Province", self.province),
            ("city", "城市", "City", self.city),
            ("sector", "行业", "Sector", self.sector),
            ("robots", "机器人数", "Robots", self.robots),
            ("priority", "优先级", "Priority", self.priority),
            ("status", "状态", "Status", self.status),
            ("form_factors", "机器人形态", "Form factors", self.form_factors),
            ("skills", "技能（技能:等级）", "Skills (skill:level)", self.skills),
            ("certifications", "资质认证", "Certifications", self.certifications),
            ("components", "零部件", "Components", self.components),
            ("needs_institute", "需要科研院所", "Needs an institute", self.needs_institute),
            ("needs_algorithm", "需要算法企业", "Needs an algorithm supplier", self.needs_algorithm),
            ("budget", "预算（万元）", "Budget (10k ¥)", self.budget),
            ("description", "描述", "Description", self.description),
        ):
            self.add_row(key, zh, en, editor)
        self.set_record(None)

    def refresh_choices(self) -> None:
        """Fill the combos from the catalogue and the taxonomy (current values kept)."""
        cat = self.session.catalogue
        lang = i18n.language()
        tax = taxonomy()
        self._loading = True
        try:
            _fill(self.owner, ((f"{o.name}（{o.id}）", o.id) for o in cat.organizations))
            coordinators = sorted(set(cat.coordinators()) | set(tax.values("provinces")))
            _fill(self.coordinator, ((c, c) for c in coordinators))
            _fill(self.field, ((pick(f, FIELD_LABELS), f.value) for f in Field))
            _fill(self.category, ((t.label(lang), t.value) for t in tax.terms("categories")))
            _fill(self.province, ((p, p) for p in tax.values("provinces")))
            _fill(self.status, ((pick(s, STATUS_LABELS), s.value) for s in Status))
        finally:
            self._loading = False

    def retranslate(self) -> None:
        super().retranslate()
        self.refresh_choices()
        self.needs_institute.setText(tr("是", "Yes"))
        self.needs_algorithm.setText(tr("是", "Yes"))
        self.budget.setSpecialValueText(tr("未填写", "not stated"))
        self.description.setPlaceholderText(tr("场景说明", "What the scene is about"))
        self.skills.setPlaceholderText(tr("如 移动导航:3、抓取放置:4", "e.g. navigation:3, picking:4"))
        self.form_factors.setPlaceholderText(tr("多个值用顿号或逗号分隔", "separate values with commas"))

    def load(self, s: Scene) -> None:
        self.id_label.setText(s.id)
        self.name.setText(s.name)
        _combo_set(self.owner, s.owner)
        _combo_set(self.coordinator, s.coordinator)
        _combo_set(self.field, s.field.value)
        _combo_set(self.category, s.category)
        _combo_set(self.province, s.province)
        self.city.setText(s.city)
        self.sector.setText(s.sector)
        self.robots.setValue(s.robots)
        self.priority.setValue(s.priority)
        _combo_set(self.status, s.status.value)
        self.form_factors.setText(join_list(s.form_factors))
        self.skills.setText(format_levels(s.skills))
        self.certifications.setText(join_list(s.certifications))
        self.components.setText(join_list(s.components))
        self.needs_institute.setChecked(s.needs_institute)
        self.needs_algorithm.setChecked(s.needs_algorithm)
        self.budget.setValue(self.budget.minimum() if s.budget_wan is None else s.budget_wan)
        self.description.setPlainText(s.description)

    def record(self) -> Scene:
        old: Scene = self.original
        skills, _ = parse_levels(self.skills.text())
        budget = None if self.budget.value() == self.budget.minimum() else self.budget.value()
        return replace(
            old,
            name=self.name.text().strip(),
            owner=_combo_value(self.owner),
            coordinator=_combo_value(self.coordinator),
            field=Field(_combo_value(self.field)),
            category=_combo_value(self.category),
            province=_combo_value(self.province),
            city=self.city.text().strip(),
            sector=self.sector.text().strip(),
            robots=self.robots.value(),
            priority=round(self.priority.value(), 2),
            status=Status(_combo_value(self.status)),
            form_factors=split_list(self.form_factors.text()),
            skills=skills,
            certifications=split_list(self.certifications.text()),
            components=split_list(self.components.text()),
            needs_institute=self.needs_institute.isChecked(),
            needs_algorithm=self.needs_algorithm.isChecked(),
            budget_wan=budget,
            description=self.description.toPlainText().strip(),
        )

    def problems(self) -> dict[str, Message]:
        out: dict[str, Message] = {}
        if not self.name.text().strip():
            out["name"] = ("名称不能为空", "the name must not be empty")
        owner_id = _combo_value(self.owner)
        owner = self.session.organization(owner_id)
        if owner is None:
            out["owner"] = (f"目录中没有编号为 “{owner_id}” 的单位",
                            f"no organisation with id “{owner_id}” in the catalogue")
        elif Role.USER_UNIT not in owner.roles:
            out["owner"] = (f"“{owner.name}” 不是用户单位；场景的所有者必须是用户单位",
                            f"“{owner.name}” is not a user unit; a scene's owner must be one")
        if not _combo_value(self.coordinator):
            out["coordinator"] = ("统筹单位不能为空", "the coordinator must not be empty")
        if not _combo_value(self.category):
            out["category"] = ("类别不能为空", "the category must not be empty")
        if not _combo_value(self.province):
            out["province"] = ("省份不能为空", "the province must not be empty")
        if self.robots.value() < 1:
            out["robots"] = (f"机器人数至少为 1，实为 {self.robots.value()}",
                             f"at least 1 robot, got {self.robots.value()}")
        if self.priority.value() <= 0:
            out["priority"] = (f"优先级必须大于 0，实为 {self.priority.value():g}",
                               f"the priority must be above 0, got {self.priority.value():g}")
        if not split_list(self.form_factors.text()):
            out["form_factors"] = ("至少填写一种机器人形态", "name at least one form factor")
        _, bad = parse_levels(self.skills.text())
        if bad:
            out["skills"] = bad
        return out


class OrganizationForm(RecordForm):
    """One organisation."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.id_label = QLabel(self)
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name = _line(self)
        self.roles = RoleBoxes(self)
        self.province = _editable_combo(self)
        self.city = _line(self)
        self.uscc = _line(self)
        self.ownership = QComboBox(self)
        self.max_consortia = QSpinBox(self)
        self.max_consortia.setRange(-1000, 100_000)
        self.robot_capacity = QSpinBox(self)
        self.robot_capacity.setRange(-1000, 10_000_000)
        self.form_factors = _line(self)
        self.skills = _line(self)
        self.certifications = _line(self)
        self.components = _line(self)
        self.description = QPlainTextEdit(self)
        self.description.setMaximumHeight(90)
        for key, zh, en, editor in (
            ("id", "编号", "ID", self.id_label),
            ("name", "名称", "Name", self.name),
            ("roles", "角色", "Roles", self.roles),
            ("province", "省份", "Province", self.province),
            ("city", "城市", "City", self.city),
            ("uscc", "统一社会信用代码", "USCC", self.uscc),
            ("ownership", "所有制", "Ownership", self.ownership),
            ("max_consortia", "联合体上限", "Max consortia", self.max_consortia),
            ("robot_capacity", "机器人产能", "Robot capacity", self.robot_capacity),
            ("form_factors", "机器人形态", "Form factors", self.form_factors),
            ("skills", "技能（技能:等级）", "Skills (skill:level)", self.skills),
            ("certifications", "资质认证", "Certifications", self.certifications),
            ("components", "零部件类别", "Component categories", self.components),
            ("description", "简介", "Description", self.description),
        ):
            self.add_row(key, zh, en, editor)
        self.set_record(None)

    def refresh_choices(self) -> None:
        tax = taxonomy()
        self._loading = True
        try:
            _fill(self.province, ((p, p) for p in tax.values("provinces")))
            _fill(self.ownership, [(tr("未填写", "not stated"), "")]
                  + [(pick(o, OWNERSHIP_LABELS), o.value) for o in Ownership])
        finally:
            self._loading = False

    def retranslate(self) -> None:
        super().retranslate()
        self.roles.retranslate()
        self.refresh_choices()
        self.uscc.setPlaceholderText(tr("18 位，可留空", "18 characters, may be empty"))
        self.skills.setPlaceholderText(tr("如 移动导航:3、抓取放置:4", "e.g. navigation:3, picking:4"))
        self.description.setPlaceholderText(tr("单位简介", "About the organisation"))

    def load(self, o: Organization) -> None:
        self.id_label.setText(o.id)
        self.name.setText(o.name)
        self.roles.set_roles(o.roles)
        _combo_set(self.province, o.province)
        self.city.setText(o.city)
        self.uscc.setText(o.uscc or "")
        _combo_set(self.ownership, o.ownership.value if o.ownership else "")
        self.max_consortia.setValue(o.max_consortia)
        self.robot_capacity.setValue(o.robot_capacity)
        self.form_factors.setText(join_list(o.form_factors))
        self.skills.setText(format_levels(o.skills))
        self.certifications.setText(join_list(o.certifications))
        self.components.setText(join_list(o.component_categories))
        self.description.setPlainText(o.description)

    def record(self) -> Organization:
        old: Organization = self.original
        skills, _ = parse_levels(self.skills.text())
        ownership = _combo_value(self.ownership)
        return replace(
            old,
            name=self.name.text().strip(),
            roles=self.roles.roles(),
            province=_combo_value(self.province),
            city=self.city.text().strip(),
            uscc=self.uscc.text().strip().upper() or None,
            ownership=Ownership(ownership) if ownership else None,
            max_consortia=self.max_consortia.value(),
            robot_capacity=self.robot_capacity.value(),
            form_factors=split_list(self.form_factors.text()),
            skills=skills,
            certifications=split_list(self.certifications.text()),
            component_categories=split_list(self.components.text()),
            description=self.description.toPlainText().strip(),
        )

    def problems(self) -> dict[str, Message]:
        out: dict[str, Message] = {}
        if not self.name.text().strip():
            out["name"] = ("名称不能为空", "the name must not be empty")
        if not self.roles.roles():
            out["roles"] = ("至少选择一个角色", "choose at least one role")
        if not _combo_value(self.province):
            out["province"] = ("省份不能为空", "the province must not be empty")
        code = self.uscc.text().strip().upper()
        if code and (problem := uscc_problem(code)):
            zh, _, en = problem.partition(" / ")
            out["uscc"] = (zh, en or zh)
        if self.max_consortia.value() < 0:
            out["max_consortia"] = (f"联合体上限不能为负数，实为 {self.max_consortia.value()}",
                                    f"max consortia must be 0 or more, got {self.max_consortia.value()}")
        if self.robot_capacity.value() < 0:
            out["robot_capacity"] = ("机器人产能不能为负数", "the robot capacity must be 0 or more")
        _, bad = parse_levels(self.skills.text())
        if bad:
            out["skills"] = bad
        return out


def next_id(ids: Iterable[str], prefix: str) -> str:
    """The next free ``prefix###`` id: one past the highest number used with ``prefix``."""
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    taken = set(ids)
    numbers = [(int(m.group(1)), len(m.group(1))) for i in taken if (m := pattern.match(i))]
    width = max((w for _, w in numbers), default=3)
    n = max((v for v, _ in numbers), default=0) + 1
    while f"{prefix}{n:0{width}d}" in taken:
        n += 1
    return f"{prefix}{n:0{width}d}"


FacetChoices = Callable[[], Iterable[tuple[str, str]]]  # (label, value) pairs


class TablePage(View):
    """Search box + facet combos over a sortable table, with an edit form beside it.

    Subclasses provide the model, facets, the form and the record operations.
    """

    table_name = ""  # for store.search: "scenes" / "organizations"
    id_prefix = ""
    facet_keys: tuple[tuple[str, str, str], ...] = ()  # key, zh, en

    def __init__(self, session: Session, model: CatalogueModel, proxy: CatalogueProxy,
                 form: RecordForm, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.model = model
        self.proxy = proxy
        self.form = form
        self.proxy.setSourceModel(model)
        self._syncing = False

        self.search = QLineEdit(self)
        self.search.setObjectName("search")
        self.search.setClearButtonEnabled(True)
        self.search_timer = QTimer(self)
        self.search_timer.setSingleShot(True)
        self.search_timer.setInterval(150)
        self.search_timer.timeout.connect(self.apply_search)
        self.search.textChanged.connect(lambda _t: self.search_timer.start())
        self.search.returnPressed.connect(self.apply_search)

        self.facet_combos: dict[str, QComboBox] = {}
        bar = QHBoxLayout()
        self.search.setMinimumWidth(100)
        facets = QHBoxLayout()
        for key, _zh, _en in self.facet_keys:
            combo = QComboBox(self)
            combo.setObjectName(f"facet_{key}")
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(3)
            combo.setMaxVisibleItems(20)
            combo.currentIndexChanged.connect(lambda _n, k=key: self._facet_changed(k))
            facets.addWidget(combo, 1)
            self.facet_combos[key] = combo
        self.count_label = QLabel(self)
        self.count_label.setObjectName("count")
        bar.addWidget(self.search, 1)
        bar.addWidget(self.count_label)

        self.table = QTableView(self)
        self.table.setObjectName("table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(110)
        header.resizeSection(1, 260)
        header.setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)

        self.btn_add = QPushButton(self)
        self.btn_duplicate = QPushButton(self)
        self.btn_delete = QPushButton(self)
        self.btn_save = QPushButton(self)
        self.btn_revert = QPushButton(self)
        for name, button, slot in (("add", self.btn_add, self.add),
                                   ("duplicate", self.btn_duplicate, self.duplicate),
                                   ("delete", self.btn_delete, self.delete_selected),
                                   ("save", self.btn_save, self.save),
                                   ("revert", self.btn_revert, self.revert)):
            button.setObjectName(name)
            button.clicked.connect(slot)
        self.btn_save.setDefault(True)
        tools = QHBoxLayout()
        for button in (self.btn_add, self.btn_duplicate, self.btn_delete):
            tools.addWidget(button)
        tools.addStretch(1)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(tools)
        left_layout.addWidget(self.table, 1)

        self.form_title = QLabel(self)
        self.form_title.setStyleSheet("font-weight: bold;")
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.btn_revert)
        actions.addWidget(self.btn_save)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.form_title)
        right_layout.addWidget(scroll, 1)
        right_layout.addLayout(actions)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(facets)
        layout.addWidget(splitter, 1)

        self.form.edited.connect(self._update_buttons)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        session.changed.connect(self.refresh)
        self.refresh()
        self.retranslate()

    # -- to be provided ---------------------------------------------------------

    def facet_choices(self, key: str) -> list[tuple[str, str]]:
        """(label, value) pairs of a facet, from the catalogue."""
        raise NotImplementedError

    def write(self, new: Any, old: Any | None, text: str) -> None:
        raise NotImplementedError

    def remove(self, ids: list[str], text: str) -> None:
        raise NotImplementedError

    def blank(self, record_id: str) -> Any:
        """A new record with ``record_id``; None when one cannot be made (message shown)."""
        raise NotImplementedError

    def announce(self, record_id: str) -> None:
        """Tell the other views this record is selected."""

    def kind_text(self) -> str:
        raise NotImplementedError

    # -- texts -----------------------------------------------------------------------

    def retranslate(self) -> None:
        self.search.setPlaceholderText(tr("搜索（名称、描述、标签……）", "Search (name, description, tags…)"))
        for key, zh, en in self.facet_keys:
            self.facet_combos[key].setToolTip(tr(zh, en))
        self._fill_facets()
        self.btn_add.setText(tr("新增", "Add"))
        self.btn_duplicate.setText(tr("复制", "Duplicate"))
        self.btn_delete.setText(tr("删除", "Delete"))
        self.btn_save.setText(tr("保存", "Save"))
        self.btn_revert.setText(tr("还原", "Revert"))
        self.proxy.retranslate()
        self.form.retranslate()
        self._update_count()
        self._update_buttons()

    def focus_search(self) -> bool:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()
        return True

    # -- refresh --------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the catalogue, keeping the current row when it still exists."""
        current = self.current_id()
        selected = self.selected_ids()
        self._syncing = True
        try:
            self.model.set_catalogue(self.session.catalogue)
        finally:
            self._syncing = False
        self._fill_facets()
        if self.search.text().strip():
            self.apply_search()
        self.form.refresh_choices()  # type: ignore[attr-defined]
        self._restore_selection(current, selected)
        if self.form.dirty and current is not None and self.model.row_of(current) >= 0:
            pass  # keep the user's unsaved edits
        else:
            self._load_form(current)
        self._update_count()

    def _restore_selection(self, current: str | None, selected: list[str]) -> None:
        self._syncing = True
        try:
            sel = self.table.selectionModel()
            sel.clearSelection()
            for record_id in selected:
                index = self.proxy_index(record_id)
                if index.isValid():
                    sel.select(index, QItemSelectionModel.SelectionFlag.Select
                               | QItemSelectionModel.SelectionFlag.Rows)
            index = self.proxy_index(current) if current else QModelIndex()
            if index.isValid():
                sel.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
            else:
                sel.setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.NoUpdate)
        finally:
            self._syncing = False

    def _fill_facets(self) -> None:
        for key, zh, en in self.facet_keys:
            combo = self.facet_combos[key]
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(tr(f"{zh}：全部", f"{en}: all"), None)
            for label, value in self.facet_choices(key):
                combo.addItem(label, value)
            n = combo.findData(current) if current is not None else 0
            combo.setCurrentIndex(max(n, 0))
            combo.blockSignals(False)
            self.proxy.set_facet(key, combo.currentData())

    def _facet_changed(self, key: str) -> None:
        self.proxy.set_facet(key, self.facet_combos[key].currentData())
        self._update_count()

    def set_facet(self, key: str, value: str | None) -> None:
        """Choose a facet value (None: all)."""
        combo = self.facet_combos[key]
        combo.setCurrentIndex(0 if value is None else combo.findData(value))

    def apply_search(self) -> None:
        """Filter the table by the search box now (the box calls this after a short pause)."""
        self.search_timer.stop()
        text = self.search.text().strip()
        ids = self.session.store.search(self.table_name, text) if text else None
        self.proxy.set_ids(ids)
        self._update_count()

    def _update_count(self, *_: object) -> None:
        self.count_label.setText(tr(f"显示 {self.proxy.rowCount()} / {self.model.rowCount()}",
                                    f"{self.proxy.rowCount()} of {self.model.rowCount()}"))

    def _update_buttons(self) -> None:
        has = self.form.original is not None
        self.btn_save.setEnabled(has and self.form.dirty)
        self.btn_revert.setEnabled(has and self.form.dirty)
        self.btn_duplicate.setEnabled(has)
        self.btn_delete.setEnabled(bool(self.selected_ids()) or has)
        record = self.form.original
        self.form_title.setText(
            f"{self.kind_text()} {record.id}{' *' if self.form.dirty else ''}" if record else
            tr("未选择", "Nothing selected"))

    # -- selection --------------------------------------------------------------------

    def proxy_index(self, record_id: str) -> QModelIndex:
        row = self.model.row_of(record_id)
        if row < 0:
            return QModelIndex()
        return self.proxy.mapFromSource(self.model.index(row, 0))

    def current_id(self) -> str | None:
        index = self.table.selectionModel().currentIndex()
        return index.data(ID_ROLE) if index.isValid() else None

    def selected_ids(self) -> list[str]:
        return [i.data(ID_ROLE) for i in self.table.selectionModel().selectedRows()]

    def select(self, record_id: str) -> bool:
        """Make ``record_id`` the current, selected row (clearing filters that hide it)."""
        if self.model.row_of(record_id) < 0:
            return False
        index = self.proxy_index(record_id)
        if not index.isValid():
            self.search.blockSignals(True)
            self.search.clear()
            self.search.blockSignals(False)
            self.search_timer.stop()
            self.proxy.set_ids(None)
            for key in self.facet_combos:
                self.set_facet(key, None)
            index = self.proxy_index(record_id)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)
        return True

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._syncing:
            return
        record_id = current.data(ID_ROLE) if current.isValid() else None
        self._load_form(record_id)
        if record_id is not None:
            self._syncing = True
            try:
                self.announce(record_id)
            finally:
                self._syncing = False

    def _load_form(self, record_id: str | None) -> None:
        row = self.model.row_of(record_id) if record_id else -1
        self.form.set_record(self.model.record(row) if row >= 0 else None)
        self._update_buttons()

    # -- edits ----------------------------------------------------------------------------

    def _error(self, message: str) -> None:
        QMessageBox.warning(self, tr("无法完成", "Not done"), message)

    def save(self) -> bool:
        """Write the form's record (undoable); False when invalid or refused."""
        old = self.form.original
        if old is None or not self.form.validate():
            return False
        new = self.form.record()
        if new == old:
            self.form.set_record(old)
            self._update_buttons()
            return True
        try:
            self.write(new, old, tr(f"编辑 {new.id}", f"Edit {new.id}"))
        except (CatalogueError, ValueError) as exc:
            self._error(str(exc))
            return False
        self.form.dirty = False
        self._load_form(new.id)
        return True

    def revert(self) -> None:
        """Discard the form's edits."""
        self._load_form(self.form.original.id if self.form.original else None)

    def _insert(self, record: Any, text: str) -> bool:
        try:
            self.write(record, None, text)
        except (CatalogueError, ValueError) as exc:
            self._error(str(exc))
            return False
        self.form.dirty = False
        self.select(record.id)
        return True

    def add(self) -> bool:
        """A new record with the next free id, written at once (undoable)."""
        record = self.blank(next_id(self.model.ids(), self.id_prefix))
        if record is None:
            return False
        return self._insert(record, tr(f"新增 {record.id}", f"Add {record.id}"))

    def duplicate(self) -> bool:
        """A copy of the current record with a new id and "（副本）" after its name."""
        old = self.form.original
        if old is None:
            return False
        copy = replace(old, id=next_id(self.model.ids(), self.id_prefix),
                       name=f"{old.name}（副本）")
        return self._insert(copy, tr(f"复制 {old.id} 为 {copy.id}", f"Duplicate {old.id} as {copy.id}"))

    def delete_selected(self) -> bool:
        """Delete the selected records (undoable); the store's refusal is shown."""
        ids = self.selected_ids()
        if not ids and self.form.original is not None:
            ids = [self.form.original.id]
        if not ids:
            return False
        text = tr(f"删除 {'、'.join(ids[:3])}{'…' if len(ids) > 3 else ''}",
                  f"Delete {', '.join(ids[:3])}{'…' if len(ids) > 3 else ''}")
        try:
            self.remove(ids, text)
        except CatalogueError as exc:
            self._error(str(exc))
            return False
        return True
