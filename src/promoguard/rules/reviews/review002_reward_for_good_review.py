"""REVIEW002 reward-for-good-review: Reward offered for a good review (好评返现)."""

from __future__ import annotations

from typing import Any

from promoguard.engine.base import CheckDoc, Parameter
from promoguard.engine.registry import register
from promoguard.rules.content._shared import _EXTRA, TEXT_KINDS_ALL, ContentCheck, _kinds_param
from promoguard.text.matcher import Hit
from promoguard.text.rules import Prepared, rewards_for_reviews


@register
class ReviewReward(ContentCheck):
    code = "REVIEW002"
    name = "reward-for-good-review"
    title = "Reward offered for a good review (好评返现)"
    family = "reviews"
    # found by the content scan over texts and reviews, and shown with the other content rules
    report_section = "content"
    severity = "high"
    rule = "no reward conditioned on a positive review"
    scans_reviews = True
    reads = ("texts", "reviews", "listings", "merchants")
    requires = ("texts|reviews",)
    parameters = (
        Parameter(
            "reward_window",
            16,
            "characters between a review word (好评, 5-star review) and the reward after it",
            basis="policy",
            unit="characters",
        ),
        _kinds_param(TEXT_KINDS_ALL, "merchant text kinds read (reviews are always read)"),
        _EXTRA,
    )
    doc = CheckDoc(
        what=(
            "Finds merchant texts and reviews in which a reward is offered for a good review: "
            "好评返现, 晒图返现5元, 五星好评送小礼品, 'leave a 5-star review and get a refund'. "
            "A review word needs a reward in the same clause; '好评如潮' alone is not flagged."
        ),
        why=(
            "Paying for favourable reviews fabricates reputation: China's 网络反不正当竞争暂行"
            "规定 (2024) Art. 9 and E-Commerce Law Art. 17 forbid it; the US FTC rule 16 CFR "
            "465.4 bars compensation conditioned on sentiment; the EU UCPD Annex I No. 23c bans "
            "presenting such reviews as genuine."
        ),
        example="A review '商家说五星好评返5元，质量不错。' (REVIEW002, review).",
    )

    def decide(
        self, prep: Prepared, kind: str | None, category: str | None, params: dict[str, Any]
    ) -> list[Hit]:
        """A reward offered for a review, or a review word with a reward soon after it."""
        return rewards_for_reviews(prep, self.code, int(params.get("reward_window", 16)))
