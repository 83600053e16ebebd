"""Lazy table models over the session's catalogue tuples, and the sort/filter proxy.

The source models hold the catalogue's tuple of frozen dataclasses as is; ``data()``
formats a cell only when the view asks for it. Sorting and filtering happen in
:class:`CatalogueProxy`: sorting compares precomputed integer ranks (one Python sort per
column, then a cheap ``lessThan``), filtering checks an id set (from the catalogue's
Chinese search) and the facet values of each row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from core.model import Catalogue, Organization, Scene
from core.taxonomy import taxonomy
from gui import i18n
from gui.i18n import (
    FIELD_LABELS,
    OWNERSHIP_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    pick,
    tr,
)

Index = QModelIndex | QPersistentModelIndex

ID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2

_NUMERIC_ALIGN = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


@dataclass(frozen=True)
class Column:
    """One table column: its header, how a cell is shown and how it sorts."""

    key: str
    zh: str
    en: str
    display: Callable[[Any], str]
    sort: Callable[[Any], Any] | None = None  # None: sort by the displayed text
    numeric: bool = False


def _join(values: Iterable[str]) -> str:
    return "、".join(values)


def _num(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _tax(kind: str) -> Callable[[str], str]:
    def label(value: str) -> str:
        return taxonomy().label(kind, value, i18n.language())

    return label


class CatalogueModel(QAbstractTableModel):
    """A read-only table over a tuple of catalogue records (anything with an ``id``)."""

    columns: tuple[Column, ...] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: Sequence[Any] = ()
        self._row_of: dict[str, int] = {}
        self.catalogue = Catalogue()

    # -- content ---------------------------------------------------------------

    def set_catalogue(self, catalogue: Catalogue) -> None:
        """Show the records of ``catalogue`` (a model reset)."""
        self.beginResetModel()
        self.catalogue = catalogue
        self._rows = self.records(catalogue)
        self._row_of = {r.id: n for n, r in enumerate(self._rows)}
        self._prepare(catalogue)
        self.endResetModel()

    def records(self, catalogue: Catalogue) -> Sequence[Any]:
        raise NotImplementedError

    def _prepare(self, catalogue: Catalogue) -> None:
        """Lookups the columns need (called on every reset)."""

    def record(self, row: int) -> Any:
        return self._rows[row]

    def row_of(self, record_id: str) -> int:
        """The source row of ``record_id``; -1 when absent."""
        return self._row_of.get(record_id, -1)

    def ids(self) -> list[str]:
        return [r.id for r in self._rows]

    def retranslate(self) -> None:
        """Headers and labels follow the language."""
        if self.columns:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self._rows) - 1, len(self.columns) - 1),
                                  [Qt.ItemDataRole.DisplayRole])

    # -- QAbstractTableModel ---------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if not (0 <= row < len(self._rows) and 0 <= col < len(self.columns)):
            return None
        column = self.columns[col]
        record = self._rows[row]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.display(record)
        if role == Qt.ItemDataRole.ToolTipRole and col == 1:
            return column.display(record)
        if role == ID_ROLE:
            return record.id
        if role == SORT_ROLE:
            return self.sort_key(record, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return _NUMERIC_ALIGN
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(self.columns):
                return tr(self.columns[section].zh, self.columns[section].en)
            return None
        return section + 1

    def sort_key(self, record: Any, col: int) -> Any:
        column = self.columns[col]
        return column.display(record) if column.sort is None else column.sort(record)

    def sort_ranks(self, col: int) -> list[int]:
        """For each source row, its rank when sorted by column ``col`` (ties by row)."""
        column = self.columns[col]
        get = column.display if column.sort is None else column.sort
        keys = [get(r) for r in self._rows]

        if column.numeric:
            def key(n: int) -> tuple[bool, float]:
                value = keys[n]
                return (value is None, 0.0 if value is None else float(value))
        else:
            def key(n: int) -> tuple[bool, str]:  # type: ignore[misc]
                value = keys[n]
                return (value in (None, ""), "" if value is None else str(value))

        order = sorted(range(len(keys)), key=key)
        ranks = [0] * len(keys)
        for rank, n in enumerate(order):
            ranks[n] = rank
        return ranks


class SceneModel(CatalogueModel):
    """The catalogue's scenes."""

    def __init__(self, parent: Any = None) -> None:
        self._owner_names: dict[str, str] = {}
        names = self._owner_names
        self.columns = (
            Column("id", "编号", "ID", lambda s: s.id),
            Column("name", "名称", "Name", lambda s: s.name),
            Column("field", "领域", "Field", lambda s: pick(s.field, FIELD_LABELS),
                   lambda s: s.field.value),
            Column("category", "类别", "Category", lambda s: _tax("categories")(s.category)),
            Column("province", "省份", "Province", lambda s: s.province),
            Column("coordinator", "统筹单位", "Coordinator", lambda s: s.coordinator),
            Column("owner", "用户单位", "Owner", lambda s: names.get(s.owner, s.owner)),
            Column("robots", "机器人数", "Robots", lambda s: str(s.robots), lambda s: s.robots,
                   numeric=True),
            Column("priority", "优先级", "Priority", lambda s: _num(s.priority),
                   lambda s: s.priority, numeric=True),
            Column("status", "状态", "Status", lambda s: pick(s.status, STATUS_LABELS),
                   lambda s: list(STATUS_LABELS).index(s.status.value)
                   if s.status.value in STATUS_LABELS else 99, numeric=True),
            Column("budget", "预算（万元）", "Budget (10k ¥)", lambda s: _num(s.budget_wan),
                   lambda s: s.budget_wan, numeric=True),
        )
        super().__init__(parent)

    def records(self, catalogue: Catalogue) -> Sequence[Scene]:
        return catalogue.scenes

    def _prepare(self, catalogue: Catalogue) -> None:
        self._owner_names.clear()
        self._owner_names.update({o.id: o.name for o in catalogue.organizations})


class OrganizationModel(CatalogueModel):
    """The catalogue's organisations."""

    def __init__(self, parent: Any = None) -> None:
        self._owned: dict[str, int] = {}
        owned = self._owned
        self.columns = (
            Column("id", "编号", "ID", lambda o: o.id),
            Column("name", "名称", "Name", lambda o: o.name),
            Column("roles", "角色", "Roles", lambda o: _join(pick(r, ROLE_LABELS) for r in o.roles)),
            Column("province", "省份", "Province", lambda o: o.province),
            Column("city", "城市", "City", lambda o: o.city),
            Column("ownership", "所有制", "Ownership",
                   lambda o: pick(o.ownership, OWNERSHIP_LABELS) if o.ownership else ""),
            Column("max_consortia", "联合体上限", "Max consortia", lambda o: str(o.max_consortia),
                   lambda o: o.max_consortia, numeric=True),
            Column("robot_capacity", "机器人产能", "Robot capacity",
                   lambda o: str(o.robot_capacity), lambda o: o.robot_capacity, numeric=True),
            Column("scenes", "拥有场景", "Scenes owned", lambda o: str(owned.get(o.id, 0)),
                   lambda o: owned.get(o.id, 0), numeric=True),
            Column("certifications", "资质认证", "Certifications",
                   lambda o: _join(o.certifications)),
            Column("uscc", "统一社会信用代码", "USCC", lambda o: o.uscc or ""),
        )
        super().__init__(parent)

    def records(self, catalogue: Catalogue) -> Sequence[Organization]:
        return catalogue.organizations

    def _prepare(self, catalogue: Catalogue) -> None:
        self._owned.clear()
        for s in catalogue.scenes:
            self._owned[s.owner] = self._owned.get(s.owner, 0) + 1


Facet = Callable[[Any], Iterable[str]]


class CatalogueProxy(QSortFilterProxyModel):
    """Sorts numbers as numbers, filters by a set of ids and by facet values."""

    def __init__(self, facets: dict[str, Facet], parent: Any = None) -> None:
        super().__init__(parent)
        self.facets = facets
        self._ids: frozenset[str] | None = None
        self._chosen: dict[str, str] = {}
        self._ranks: dict[int, list[int]] = {}
        self.setDynamicSortFilter(True)
        self.setSortRole(SORT_ROLE)

    def setSourceModel(self, model: Any) -> None:  # noqa: N802
        old = self.sourceModel()
        if old is not None:
            old.modelAboutToBeReset.disconnect(self._ranks.clear)
        super().setSourceModel(model)
        model.modelAboutToBeReset.connect(self._ranks.clear)
        self._ranks.clear()

    def source(self) -> CatalogueModel:
        model = self.sourceModel()
        assert isinstance(model, CatalogueModel)
        return model

    # -- filters -----------------------------------------------------------------

    def set_ids(self, ids: Iterable[str] | None) -> None:
        """Show only these ids (None: no id filter)."""
        new = None if ids is None else frozenset(ids)
        if new == self._ids:
            return
        self.beginFilterChange()
        self._ids = new
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_facet(self, key: str, value: str | None) -> None:
        """Show only rows whose facet ``key`` has ``value`` (None: any)."""
        if self._chosen.get(key) == value:
            return
        self.beginFilterChange()
        if value is None:
            self._chosen.pop(key, None)
        else:
            self._chosen[key] = value
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def retranslate(self) -> None:
        """Labels changed: forget the sort ranks, then let the source tell the views."""
        self._ranks.clear()
        self.source().retranslate()

    def facet(self, key: str) -> str | None:
        return self._chosen.get(key)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:  # noqa: N802
        model = self.sourceModel()
        if not isinstance(model, CatalogueModel):
            return True
        record = model.record(source_row)
        if self._ids is not None and record.id not in self._ids:
            return False
        for key, value in self._chosen.items():
            if value not in self.facets[key](record):
                return False
        return True

    # -- sorting -----------------------------------------------------------------

    def lessThan(self, left: Index, right: Index) -> bool:  # noqa: N802
        col = left.column()
        ranks = self._ranks.get(col)
        if ranks is None:
            ranks = self._ranks[col] = self.source().sort_ranks(col)
        return ranks[left.row()] < ranks[right.row()]


def scene_facets() -> dict[str, Facet]:
    return {
        "field": lambda s: (s.field.value,),
        "category": lambda s: (s.category,),
        "coordinator": lambda s: (s.coordinator,),
        "status": lambda s: (s.status.value,),
        "province": lambda s: (s.province,),
    }


def organization_facets() -> dict[str, Facet]:
    return {
        "role": lambda o: tuple(r.value for r in o.roles),
        "province": lambda o: (o.province,),
        "certification": lambda o: o.certifications,
    }
