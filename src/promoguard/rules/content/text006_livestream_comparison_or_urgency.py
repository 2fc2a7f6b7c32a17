"""TEXT006 livestream-comparison-or-urgency: Live-stream price comparison without its base, or urgency claims."""

from __future__ import annotations

from typing import Any

from promoguard.engine.base import CheckDoc
from promoguard.engine.registry import register
from promoguard.rules.content._shared import _EXTRA, ContentCheck, _kinds_param
from promoguard.text.matcher import Hit
from promoguard.text.rules import URGENCY_DENIED, Prepared, unbased_claims

#: the text kinds whose claims are spoken live (a comparison in a listing states its base apart)
LIVESTREAM_KINDS = frozenset({"livestream"})


@register
class LivestreamClaims(ContentCheck):
    code = "TEXT006"
    name = "livestream-comparison-or-urgency"
    title = "Live-stream price comparison without its base, or urgency claims"
    severity = "medium"
    rule = "a price comparison states its base; scarcity claims are true"
    parameters = (
        _kinds_param(("livestream",), "text kinds read (live-stream transcripts)"),
        _EXTRA,
    )
    doc = CheckDoc(
        what=(
            "In live-stream transcripts, finds price comparisons with no base price in their "
            "sentence or the clause before (直降500, 省了一百多, 比原价便宜一半, 骨折价, 五 zhe, "
            "300 off today, save $20, half off) and urgency claims (最后三单, 仅剩2件, 库存告急, "
            "倒计时三分钟, 下播就恢复原价, only 2 left, ends in 10 minutes) for a reviewer to "
            "verify against stock and price records. '原价399元，今天直播间199元' states its base "
            "and is not flagged; an urgency word negated where it is written (没有倒计时) is "
            "reported low."
        ),
        why=(
            "The live-stream marketing rules (网络直播营销管理办法（试行）2021, Art. 18) forbid "
            "false or misleading information; the price-marking rules (明码标价和禁止价格欺诈规定 "
            "2022, Art. 19) make a comparison with an unstated or false base price, and false "
            "scarcity to rush buyers, price fraud."
        ),
        example="A transcript '家人们，直降500！最后三单！' (TEXT006: 直降500, 最后三单).",
    )

    def decide(
        self, prep: Prepared, kind: str | None, category: str | None, params: dict[str, Any]
    ) -> list[Hit]:
        """Urgency, or a price comparison whose base is not stated nearby; in live streams only."""
        if kind is not None and kind not in LIVESTREAM_KINDS:
            return []
        return unbased_claims(prep, self.code)

    def grade(self, hits: list[Hit]) -> tuple[str | None, str | None]:
        """Low, with the reason, when every hit is an urgency word negated where it is written."""
        if hits and all(h.category == URGENCY_DENIED for h in hits):
            return "low", (
                "the urgency word is negated where it is written (没有倒计时, no last chance): "
                "a denial, low severity, still reported"
            )
        return None, None
