"""REVIEW001 on copies that an export or a copier spelled differently (cases written apart from
the simulator): HTML entities left in by an export, and look-alike Cyrillic letters swapped in
to dodge a duplicate filter, are the same text to a buyer and to the rule; a text in Russian is
not an English one, nor are two English reviews that share a few words."""

import pytest
from tests.support import run_check

from .test_review001_length import _world

TEMPLATE = (
    "Bought this kettle for the office, it boils a full litre in under three minutes and "
    "switches itself off, the handle never gets hot and the limescale filter lifts out{}"
)


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_entities_and_look_alikes_are_copies_other_words_are_not(tiny_store, engine):
    texts = {
        # one Chinese review, twice as sent and once with the export's entities
        "Z0": "收到货了，这个保温杯真的很不错，保温效果很好，放了一夜早上还是烫的，推荐购买",
        "Z1": "收到货了&#xFF0C;这个保温杯真的很不错&#xFF0C;保温效果很好&#xFF0C;放了一夜早上还是烫的",
        "Z2": "收到货了&#65292;这个保温杯&quot;真的很不错&quot;，保温效果很好，放了一夜早上还是烫的",
        # one English review, once plain and twice with Cyrillic letters swapped in
        "E0": TEMPLATE.format("."),
        "E1": TEMPLATE.format("!").replace("o", "о").replace("e", "е"),
        "E2": TEMPLATE.format("!!").replace("a", "а").replace("c", "с").replace("p", "р"),
        # honest reviews: a Russian one of the same kettle, and two English ones sharing words
        "R0": "Купил этот чайник для офиса, литр воды закипает меньше чем за три минуты, "
        "сам выключается, ручка не нагревается, фильтр от накипи легко вынимается",
        "H0": "Bought this kettle for my mum, she says it is quiet, boils quickly and the handle "
        "stays cool, the blue light is a nice touch and it looks good on the worktop",
        "H1": "The office kettle we had broke, this one boils fast but the lid is a bit stiff "
        "and the cord is short, for the price it does the job and the filter lifts out",
    }
    con = tiny_store(_world(texts).tables())
    f = run_check(con, "REVIEW001", engine=engine).findings
    f = f[f.check_code == "REVIEW001"]
    buyer_of = {f"RV{k:03d}": b for k, b in enumerate(texts)}
    found = sorted(sorted(c) for c in _by_cluster(f, buyer_of).values())
    assert found == [["E0", "E1", "E2"], ["Z0", "Z1", "Z2"]]


def _by_cluster(f, buyer_of) -> dict[str, set[str]]:
    import json

    out: dict[str, set[str]] = {}
    for entity, observed in zip(f.entity_id, f.observed, strict=True):
        out.setdefault(json.loads(observed)["cluster_id"], set()).add(buyer_of[entity])
    return out
