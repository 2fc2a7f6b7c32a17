"""TEXT001 absolute-advertising-terms: Absolute or superlative advertising terms (最佳, 国家级, No.1)."""

from __future__ import annotations

from promoguard.engine.base import CheckDoc
from promoguard.engine.registry import register
from promoguard.rules.content._shared import _EXTRA, ContentCheck, _kinds_param


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
            "第一次, 首先, 顶部, 唯品会) are not flagged."
        ),
        why=(
            "China's Advertising Law Art. 9(3) forbids advertising that uses 国家级, 最高级, 最佳 "
            "and terms like them; elsewhere an objective superlative (No.1, best ever) is "
            "misleading unless substantiated."
        ),
        example="A listing title '【双11】山野羽绒服 全网最低 品质最 好' (TEXT001: 全网最低, 最 好).",
    )
