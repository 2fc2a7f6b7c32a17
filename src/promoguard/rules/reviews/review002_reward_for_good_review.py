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
        Parameter(
            "card_window",
            40,
            "words (a Chinese character or a Latin word each) between a review word and a reward "
            "later on a card: in its sentence when the reward is money (返现, 返5元), across "
            "sentences when a link ties them (截图, 联系客服, and we will send you), before it "
            "when a proof follows (5元红包等你拿！条件：五星好评), and around 改成好评/删除差评",
            basis="policy",
            unit="words",
        ),
        _kinds_param(TEXT_KINDS_ALL, "merchant text kinds read (reviews are always read)"),
        _EXTRA,
    )
    doc = CheckDoc(
        what=(
            "Finds merchant texts and reviews in which a reward is offered for a good review: "
            "好评返现, 晒图返现5元, 五星好评送小礼品, 'leave a 5-star review and get a refund'. "
            "A review word needs a reward in the same clause; later in its sentence when the "
            "reward is money or opens the next clause with a paying verb ('给好评，返红包'); or "
            "further on when a link ties them, as a card's steps do ('五星好评+晒图，截图发客服，"
            "返5元红包'). '好评如潮' alone, a buyer's '好评，还送了赠品', a gift for a purchase "
            "('下单再送') or an after-sales refund ('不满意请联系客服，我们为您退款') is not "
            "flagged. A text that disclaims the practice ('好评返现属于违规行为，本店不参与') is "
            "reported at low severity with the reason, not dropped."
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
        return rewards_for_reviews(
            prep,
            self.code,
            int(params.get("reward_window", 16)),
            int(params.get("card_window", 40)),
        )

    def grade(self, hits: list[Hit]) -> tuple[str | None, str | None]:
        """Low when every hit sits beside a disclaimer (本店不参与好评返现): a shop that says it
        does not pay for reviews is most likely telling buyers so, but the words are reported
        (a disclaimer costs nothing to write beside an offer), for an officer to read."""
        if hits and all(h.category == "disclaimed" for h in hits):
            return "low", (
                "beside the words the text disclaims rewards for good reviews, or says the "
                "reward does not depend on the rating (本店不参与, 违规, 好评差评都算, we do not): "
                "most likely a notice or a reward for any review, not one for a good review"
            )
        return None, None
