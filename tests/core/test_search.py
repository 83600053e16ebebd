import json

import pytest

from core.json_io import parse_json
from core.store import CatalogueStore
from core.validate import validate
from tests.conftest import small_doc


@pytest.fixture
def store():
    s = CatalogueStore.memory()
    s.write(validate(parse_json(json.dumps(small_doc()), "small.json")).catalogue)
    yield s
    s.close()


@pytest.mark.parametrize(
    ("table", "query", "expected"),
    [
        ("scenes", "线", ["S1"]),  # one character
        ("scenes", "仓库", ["S2"]),  # two characters: below the trigram length
        ("scenes", "线束插接", ["S1"]),  # four characters: trigram index
        ("scenes", "节拍", ["S1"]),  # in the description
        ("scenes", "汽车", ["S1"]),  # a tag
        ("organizations", "机器人", ["M1"]),
        ("organizations", "研究院", ["I1"]),
        ("organizations", "杭州 汽车", ["U1"]),  # every word must match
        ("organizations", "不存在的名字", []),
    ],
)
def test_chinese_search(store, table, query, expected):
    assert store.search(table, query) == expected


def test_search_follows_updates(store):
    from dataclasses import replace

    catalogue = store.load()
    s1 = catalogue.scene_by_id()["S1"]
    store.write(replace(catalogue, scenes=(replace(s1, name="焊装车间点焊工位"),)))
    assert store.search("scenes", "点焊工位") == ["S1"]
    assert store.search("scenes", "线束插接") == []


def test_name_matches_rank_first(store):
    # "科技" is in M1's and A1's names; both found, ordered by id among name matches.
    assert store.search("organizations", "科技") == ["A1", "M1"]
