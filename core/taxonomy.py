"""The taxonomy (resources/taxonomy.json): suggested values and their labels."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Term:
    """One taxonomy value with its Chinese and English labels."""

    value: str
    zh: str
    en: str
    extra: tuple[tuple[str, Any], ...] = ()

    def label(self, lang: str = "zh") -> str:
        """The label in ``lang`` ("zh" or "en")."""
        return self.en if lang == "en" else self.zh

    def get(self, key: str, default: Any = None) -> Any:
        """An extra attribute of the term (e.g. a category's field)."""
        return dict(self.extra).get(key, default)


class Taxonomy:
    """Lists of terms by kind: fields, roles, categories, skills …"""

    def __init__(self, data: dict[str, Any]) -> None:
        self._terms: dict[str, tuple[Term, ...]] = {}
        for kind, items in data.items():
            if kind.startswith("_"):
                continue
            terms = []
            for item in items:
                if isinstance(item, str):
                    terms.append(Term(item, item, item))
                    continue
                value = item["value"]
                extra = tuple(
                    (k, v) for k, v in item.items() if k not in ("value", "zh", "en")
                )
                terms.append(Term(value, item.get("zh", value), item.get("en", value), extra))
            self._terms[kind] = tuple(terms)

    def kinds(self) -> list[str]:
        """Every kind of term held."""
        return list(self._terms)

    def terms(self, kind: str) -> tuple[Term, ...]:
        """The terms of one kind, in their defined order."""
        return self._terms.get(kind, ())

    def values(self, kind: str) -> list[str]:
        """The stored values of one kind."""
        return [t.value for t in self.terms(kind)]

    def label(self, kind: str, value: str, lang: str = "zh") -> str:
        """The display label of ``value``; the value itself when it is not in the taxonomy."""
        for t in self.terms(kind):
            if t.value == value:
                return t.label(lang)
        return value


@cache
def taxonomy() -> Taxonomy:
    """The taxonomy shipped in resources/ (read once)."""
    text = resources.files("resources").joinpath("taxonomy.json").read_text(encoding="utf-8")
    return Taxonomy(json.loads(text))
