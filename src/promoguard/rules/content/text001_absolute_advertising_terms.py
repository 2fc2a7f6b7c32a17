"""TEXT001 absolute-advertising-terms: Absolute or superlative advertising terms (最佳, 国家级, No.1)."""

from __future__ import annotations

from typing import Any

from promoguard.engine.base import CheckDoc
from promoguard.engine.registry import register
from promoguard.rules.content._shared import _EXTRA, ContentCheck, _kinds_param
from promoguard.text.matcher import Hit
from promoguard.text.patterns import grade_absolute, superlative_hits
from promoguard.text.rules import Prepared, lexicon_hits


@register
class AbsoluteTerms(ContentCheck):
    code = "TEXT001"
    name = "absolute-advertising-terms"
    title = "Absolute or superlative advertising terms (最佳, 国家级, No.1)"
    severity = "medium"
    rule = "no absolute terms such as 国家级, 最高级, 最佳 in advertising"
    parameters = (
        _kinds_param(
            ("listing_title", "listing_description", "livestream", "ad", "chat"),
            "text kinds read as advertising (live commerce and product pages are advertising)",
        ),
        _EXTRA,
    )
    doc = CheckDoc(
        what=(
            "Finds merchant texts that use absolute or superlative terms: 最佳, 最好, 国家级, "
            "最高级, 顶级, 第一品牌, 全网最低, NO.1, also when split by separators (最*好, 最 好) "
            "or written full-width. Ordinary words that contain the same characters (最近, 最后, "
            "第一次, 首先, 顶部, 唯品会) are not flagged. Graded by context (SAMR's 2023 guide on "
            "absolute terms): a comparative claim over other goods (全网第一, 行业领先) or an "
            "endorsement by the state or its staff (国家领导人推荐, Art. 9(2)) is high; a 最-term "
            "that only states the product's own attribute (最新款, 最高温度 60℃) is low, with that "
            "reason in the finding; anything else takes the pack's severity."
        ),
        why=(
            "China's Advertising Law Art. 9(3) forbids advertising that uses 国家级, 最高级, 最佳 "
            "and terms like them; elsewhere an objective superlative (No.1, best ever) is "
            "misleading unless substantiated."
        ),
        example="A listing title '【双11】山野羽绒服 全网最低 品质最 好' (TEXT001: 全网最低, 最 好).",
    )

    def decide(
        self, prep: Prepared, kind: str | None, category: str | None, params: dict[str, Any]
    ) -> list[Hit]:
        """Lexicon terms, and every 最 + adjective the lexicon does not already cover (graded by
        what follows it: a measure or a model makes it the product's own attribute)."""
        hits = lexicon_hits(prep, self.code)
        for h in superlative_hits(prep.nt):
            if not any(o.start <= h.start < o.end for o in hits):
                hits.append(h)
        return sorted(hits, key=lambda h: (h.start, h.end))

    def grade(self, hits: list[Hit]) -> tuple[str | None, str | None]:
        return grade_absolute(hits)
