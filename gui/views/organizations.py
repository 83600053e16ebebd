"""The organisations view: enterprises, institutes and user units, searchable and editable."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtWidgets import QWidget

from core.model import Organization, Role
from core.taxonomy import taxonomy
from gui import i18n
from gui.forms import OrganizationForm, TablePage
from gui.i18n import ROLE_LABELS, pick, tr
from gui.models import CatalogueProxy, OrganizationModel, organization_facets
from gui.session import Session


class OrganizationsView(TablePage):
    """Browse, filter and edit the catalogue's organisations."""

    key = "organizations"
    table_name = "organizations"
    id_prefix = "O"
    facet_keys = (
        ("role", "角色", "Role"),
        ("province", "省份", "Province"),
        ("certification", "资质认证", "Certification"),
    )

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        self.org_form = OrganizationForm(session)
        super().__init__(session, OrganizationModel(), CatalogueProxy(organization_facets()),
                         self.org_form, parent)
        self.model.setParent(self)
        self.proxy.setParent(self)
        session.org_selected.connect(self._show_org)

    def title(self) -> str:
        return tr("单位", "Organisations")

    def kind_text(self) -> str:
        return tr("单位", "Organisation")

    def facet_choices(self, key: str) -> list[tuple[str, str]]:
        orgs = self.session.catalogue.organizations
        if key == "role":
            used = {r for o in orgs for r in o.roles}
            return [(pick(r, ROLE_LABELS), r.value) for r in Role if r in used]
        if key == "certification":
            tax = taxonomy()
            return [(tax.label("certifications", c, i18n.language()), c)
                    for c in sorted({c for o in orgs for c in o.certifications})]
        return [(p, p) for p in sorted({o.province for o in orgs})]

    def write(self, new: Any, old: Any | None, text: str) -> None:
        self.session.save_organization(new, old, text)

    def remove(self, ids: list[str], text: str) -> None:
        self.session.delete(text, organizations=ids)

    def blank(self, record_id: str) -> Organization:
        """A new organisation in the shown one's province (or the first province)."""
        template = self.org_form.original
        province = template.province if template is not None else taxonomy().values("provinces")[0]
        new = Organization(id=record_id, name=tr("新单位", "New organisation"),
                           roles=(Role.MAKER,), province=province)
        return replace(new, city=template.city) if template is not None else new

    def announce(self, record_id: str) -> None:
        self.session.org_selected.emit(record_id)

    def _show_org(self, org_id: str) -> None:
        if not self._syncing:
            self._syncing = True
            try:
                self.select(org_id)
            finally:
                self._syncing = False
            self._load_form(org_id)
