"""REVIEW001 on copies passed through a simplified-to-traditional converter (cases written apart
from the simulator): a farm posts one review from many accounts and converts some copies to
traditional characters so that a duplicate filter no longer matches them. To a buyer they are
one text, and so to the rule; honest reviews of the same goods, in either script, are not."""

import pytest
from tests.support import run_check

from .test_review001_length import _world
from .test_review001_spelling import _by_cluster

FARM = "宝贝收到了，质量超级好，跟描述的一模一样，物流超快，包装也很用心，已经推荐给朋友了{}"
FARM_TRADITIONAL = (
    "寶貝收到了，質量超級好，跟描述的一模一樣，物流超快，包裝也很用心，已經推薦給朋友了{}"
)


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_copies_in_traditional_characters_are_copies_honest_reviews_are_not(tiny_store, engine):
    texts = {
        # the farm's text, once as written and twice converted (one with a character changed)
        "F0": FARM.format("！"),
        "F1": FARM_TRADITIONAL.format("！！"),
        "F2": FARM_TRADITIONAL.format("。").replace("超快", "很快"),
        # honest buyers of the same goods: one writes in traditional characters, one in
        # simplified, and they share a few words with the farm and with each other
        "H0": "第一次在這家買，包裝很用心，可惜顏色跟圖片有點差別，整體還可以，物流三天到",
        "H1": "质量一般般，跟描述的差不多吧，物流有点慢，等了一个星期才收到，客服态度还行",
    }
    con = tiny_store(_world(texts).tables())
    f = run_check(con, "REVIEW001", engine=engine).findings
    f = f[f.check_code == "REVIEW001"]
    buyer_of = {f"RV{k:03d}": b for k, b in enumerate(texts)}
    found = sorted(sorted(c) for c in _by_cluster(f, buyer_of).values())
    assert found == [["F0", "F1", "F2"]]
