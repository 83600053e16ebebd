"""The scenes view: every scene unit in a searchable, sortable table with an edit form."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from PySide6.QtWidgets import QWidget

from core.model import Field, Role, Scene, Status
from core.taxonomy import taxonomy
from gui import i18n
from gui.forms import SceneForm, TablePage
from gui.i18n import FIELD_LABELS, STATUS_LABELS, pick, tr
from gui.models import CatalogueProxy, SceneModel, scene_facets
from gui.session import Session


class ScenesView(TablePage):
    """Browse, filter and edit the catalogue's scenes."""

    key = "scenes"
    table_name = "scenes"
    id_prefix = "S"
    facet_keys = (
        ("field", "领域", "Field"),
        ("category", "类别", "Category"),
        ("coordinator", "统筹单位", "Coordinator"),
        ("status", "状态", "Status"),
        ("province", "省份", "Province"),
    )

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        self.scene_form = SceneForm(session)
        super().__init__(session, SceneModel(), CatalogueProxy(scene_facets()),
                         self.scene_form, parent)
        self.model.setParent(self)
        self.proxy.setParent(self)
        session.scene_selected.connect(self._show_scene)

    def title(self) -> str:
        return tr("场景", "Scenes")

    def kind_text(self) -> str:
        return tr("场景", "Scene")

    def facet_choices(self, key: str) -> list[tuple[str, str]]:
        scenes = self.session.catalogue.scenes
        if key == "field":
            used = {s.field for s in scenes}
            return [(pick(f, FIELD_LABELS), f.value) for f in Field if f in used]
        if key == "status":
            used_status = {s.status for s in scenes}
            return [(pick(s, STATUS_LABELS), s.value) for s in Status if s in used_status]
        if key == "category":
            lang = i18n.language()
            tax = taxonomy()
            return [(tax.label("categories", c, lang), c)
                    for c in sorted({s.category for s in scenes})]
        values = Counter(getattr(s, key) for s in scenes)
        return [(v, v) for v in sorted(values)]

    def write(self, new: Any, old: Any | None, text: str) -> None:
        self.session.save_scene(new, old, text)

    def remove(self, ids: list[str], text: str) -> None:
        self.session.delete(text, scenes=ids)

    def blank(self, record_id: str) -> Scene | None:
        """A new scene: copies the shown scene's place, or starts from the first user unit."""
        template = self.scene_form.original
        if template is not None:
            return replace(template, id=record_id, name=tr("新场景", "New scene"),
                           description="", tags=())
        owner = next((o for o in self.session.catalogue.organizations
                      if Role.USER_UNIT in o.roles), None)
        if owner is None:
            self._error(tr("目录中还没有用户单位，请先新增一个用户单位",
                           "the catalogue has no user unit yet; add one first"))
            return None
        categories = taxonomy().terms("categories")
        return Scene(id=record_id, name=tr("新场景", "New scene"), owner=owner.id,
                     coordinator=owner.province, field=Field(categories[0].get("field",
                                                                              "industrial")),
                     category=categories[0].value, province=owner.province,
                     form_factors=(taxonomy().values("form_factors")[0],), robots=1)

    def announce(self, record_id: str) -> None:
        self.session.scene_selected.emit(record_id)

    def _show_scene(self, scene_id: str) -> None:
        if not self._syncing:
            self._syncing = True
            try:
                self.select(scene_id)
            finally:
                self._syncing = False
            self._load_form(scene_id)
