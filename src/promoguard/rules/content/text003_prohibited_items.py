"""TEXT003 prohibited-items: Prohibited items offered (guns, controlled knives, drugs, bugging devices)."""

from __future__ import annotations

from promoguard.engine.base import CheckDoc
from promoguard.engine.registry import register
from promoguard.rules.content._shared import _EXTRA, TEXT_KINDS_ALL, ContentCheck, _kinds_param


@register
class ProhibitedItems(ContentCheck):
    code = "TEXT003"
    name = "prohibited-items"
    title = "Prohibited items offered (guns, controlled knives, drugs, bugging devices)"
    severity = "critical"
    rule = "goods whose trade the law prohibits may not be offered"
    parameters = (_kinds_param(TEXT_KINDS_ALL, "text kinds read"), _EXTRA)
    doc = CheckDoc(
        what=(
            "Finds texts offering prohibited items: guns and imitation guns (仿真枪), "
            "ammunition, explosives, controlled knives (管制刀具), knockout drugs (迷药), covert "
            "listening devices (窃听器), stun guns. Generic words are not listed, so a water-gun "
            "toy or a kitchen knife is not flagged."
        ),
        why=(
            "E-Commerce Law Art. 13 bars selling goods whose trade laws or administrative "
            "regulations prohibit (Firearms Control Law, controlled-knife rules, Criminal Law "
            "Art. 283 on eavesdropping devices)."
        ),
        example="A chat message '另有仿真枪出售，需要私聊。' (TEXT003: 仿真枪).",
    )
