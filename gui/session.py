"""The open catalogue as the views share it: the store, an in-memory snapshot, the undo
stack and the latest matching result.

Every edit goes through :meth:`Session.edit`: the change is written to the catalogue in
one transaction first (so a refused change leaves nothing behind and no undo step), then
an undo command that can reverse it is pushed. Views listen to ``changed`` and re-read
``session.catalogue``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from core.model import Catalogue, Exclusion, Organization, Pin, PlanRule, Scene
from core.store import CatalogueStore

StoreAction = Callable[[CatalogueStore], Any]


class _StoreCommand(QUndoCommand):
    def __init__(self, session: Session, text: str, redo: StoreAction, undo: StoreAction) -> None:
        super().__init__(text)
        self.session = session
        self._redo = redo
        self._undo = undo
        self._first = True

    def redo(self) -> None:
        if self._first:  # already done by Session.edit before the push
            self._first = False
            return
        with self.session.store.db.atomic():  # one step, one transaction (crash-safe)
            self._redo(self.session.store)
        self.session.reload()

    def undo(self) -> None:
        with self.session.store.db.atomic():
            self._undo(self.session.store)
        self.session.reload()


class Session(QObject):
    """One open catalogue."""

    changed = Signal()  # the catalogue's content changed (after an edit, undo, import, open)
    opened = Signal()  # another catalogue file was opened
    result_changed = Signal()  # a new matching result (run, re-match, or loaded from a run)
    org_selected = Signal(str)  # a view asks the others to show this organisation
    scene_selected = Signal(str)

    def __init__(self, store: CatalogueStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.store = store
        self.catalogue: Catalogue = store.load()
        self.result: dict[str, Any] | None = None
        self.run_id: int | None = None
        self._load_latest_run()

    # -- the file --------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        return self.store.path

    def open_store(self, store: CatalogueStore) -> None:
        """Switch to another catalogue (the undo history belongs to the old one)."""
        old = self.store
        self.store = store
        self.undo_stack.clear()
        self.catalogue = store.load()
        self.result = None
        self.run_id = None
        self._load_latest_run()
        old.close()
        self.opened.emit()
        self.changed.emit()
        self.result_changed.emit()

    def reload(self) -> None:
        """Re-read the catalogue (after any write) and tell the views."""
        self.catalogue = self.store.load()
        self.changed.emit()

    def _load_latest_run(self) -> None:
        runs = self.store.runs()
        if runs:
            self.result, self.run_id = runs[0].result, runs[0].id

    def show_latest_run(self) -> None:
        """Show the newest stored run (e.g. after a merge brought new runs)."""
        self._load_latest_run()
        self.result_changed.emit()

    # -- results ---------------------------------------------------------------

    def set_result(self, result: dict[str, Any], run_id: int | None) -> None:
        """A new matching result for the views."""
        self.result = result
        self.run_id = run_id
        self.result_changed.emit()

    # -- edits (undoable) ------------------------------------------------------

    def edit(self, text: str, redo: StoreAction, undo: StoreAction) -> None:
        """Do ``redo`` now (it may raise; then nothing changed and nothing is pushed), then
        push an undo step that runs ``undo`` / ``redo``."""
        with self.store.db.atomic():
            redo(self.store)
        self.undo_stack.push(_StoreCommand(self, text, redo, undo))
        self.reload()

    def save(self, text: str, new: Catalogue, old: Catalogue) -> None:
        """Upsert the rows of ``new``; undo writes ``old`` back and deletes what ``new`` added."""
        had_orgs = {o.id for o in old.organizations}
        had_scenes = {s.id for s in old.scenes}

        def undo(store: CatalogueStore) -> None:
            added_orgs = [o.id for o in new.organizations if o.id not in had_orgs]
            added_scenes = [s.id for s in new.scenes if s.id not in had_scenes]
            store.delete(scenes=added_scenes)
            store.delete(organizations=added_orgs,
                         partnerships=[(p.a, p.b) for p in new.partnerships if p not in old.partnerships],
                         exclusions=[(e.a, e.b) for e in new.exclusions if e not in old.exclusions],
                         pins=[(p.scene, p.role.value, p.category) for p in new.pins
                               if p not in old.pins],
                         plans=[r.coordinator for r in new.plans
                                if r.coordinator not in {o.coordinator for o in old.plans}])
            store.write(old)

        self.edit(text, lambda store: store.write(new), undo)

    def save_organization(self, org: Organization, old: Organization | None, text: str) -> None:
        self.save(text, Catalogue(organizations=(org,)),
                  Catalogue(organizations=(old,) if old else ()))

    def save_scene(self, scene: Scene, old: Scene | None, text: str) -> None:
        self.save(text, Catalogue(scenes=(scene,)), Catalogue(scenes=(old,) if old else ()))

    def save_plan_rule(self, rule: PlanRule, old: PlanRule | None, text: str) -> None:
        self.save(text, Catalogue(plans=(rule,)), Catalogue(plans=(old,) if old else ()))

    def delete(self, text: str, **keys: Any) -> None:
        """Delete rows (see ``CatalogueStore.delete``); undo writes them back."""
        removed: list[Catalogue] = []

        def redo(store: CatalogueStore) -> None:
            removed[:] = [store.delete(**keys)]

        self.edit(text, redo, lambda store: store.write(removed[0]))

    def add_pin(self, pin: Pin, text: str) -> None:
        old = [p for p in self.catalogue.pins
               if (p.scene, p.role, p.category) == (pin.scene, pin.role, pin.category)]
        self.save(text, Catalogue(pins=(pin,)), Catalogue(pins=tuple(old)))

    def add_exclusion(self, exclusion: Exclusion, text: str) -> None:
        self.save(text, Catalogue(exclusions=(exclusion,)), Catalogue())

    # -- lookups ---------------------------------------------------------------

    def organization(self, org_id: str) -> Organization | None:
        return next((o for o in self.catalogue.organizations if o.id == org_id), None)

    def scene(self, scene_id: str) -> Scene | None:
        return next((s for s in self.catalogue.scenes if s.id == scene_id), None)

    def renamed(self, name: str) -> None:
        """Set the catalogue's title (undoable)."""
        old = self.store.name
        self.edit("rename", lambda s: s.set_name(name), lambda s: s.set_name(old))
        self.catalogue = replace(self.catalogue, name=name)
