"""The embedded demo catalogue (resources/demo_catalogue.json)."""

from __future__ import annotations

from importlib import resources

from core.json_io import parse_json
from core.model import Catalogue
from core.store import CatalogueStore, WriteSummary
from core.validate import validate


def demo_catalogue() -> Catalogue:
    """The demo catalogue, read and checked like any imported file."""
    data = resources.files("resources").joinpath("demo_catalogue.json").read_bytes()
    return validate(parse_json(data, "demo_catalogue.json")).catalogue


def install_demo(store: CatalogueStore) -> WriteSummary:
    """Write the demo catalogue into ``store`` (idempotent)."""
    return store.write(demo_catalogue())
