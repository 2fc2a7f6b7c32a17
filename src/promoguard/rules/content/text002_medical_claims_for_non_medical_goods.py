"""TEXT002 medical-claims-for-non-medical-goods: Medical or efficacy claims the goods may not make."""

from __future__ import annotations

from typing import Any

from promoguard.engine.base import CheckDoc, Parameter
from promoguard.engine.registry import register
from promoguard.rules.content._shared import _EXTRA, TEXT_KINDS_ALL, ContentCheck, _kinds_param
from promoguard.text.matcher import Hit
from promoguard.text.patterns import efficacy_hits
from promoguard.text.rules import Prepared, lexicon_hits


@register
class MedicalClaims(ContentCheck):
    code = "TEXT002"
    name = "medical-claims-for-non-medical-goods"
    title = "Medical or efficacy claims the goods may not make"
    severity = "high"
    rule = "only drugs and medical devices may refer to treating disease; no guaranteed efficacy"
    parameters = (
        Parameter(
            "medical_categories",
            ["drug", "medical_device"],
            "listing categories that may state the disease they treat",
            basis="law",
        ),
        _kinds_param(TEXT_KINDS_ALL, "text kinds read"),
        _EXTRA,
    )
    doc = CheckDoc(
        what=(
            "Finds texts that claim to treat, cure or prevent disease (治愈失眠, 降血压, 抗癌, "
            "cures eczema) for goods whose listing category may not make such claims (food, "
            "health food, cosmetics, apparel), and efficacy guarantees (包治百病, 治愈率) for any "
            "goods. The category comes from the text's listing."
        ),
        why=(
            "Advertising Law Art. 17 allows only medical, drug and medical-device advertising to "
            "refer to treating disease; Art. 18 bars health food from claiming to prevent or "
            "treat disease; Art. 16 bars even drugs and devices from guaranteeing efficacy."
        ),
        example="A honey listing saying '每天一勺，降血压' (TEXT002: 降血压 for food).",
    )

    def decide(
        self, prep: Prepared, kind: str | None, category: str | None, params: dict[str, Any]
    ) -> list[Hit]:
        """A disease claim unless the listing's category may state indications; a guarantee of
        efficacy (or any claim a lexicon row bars outside its allowed categories) whatever it is.
        No listing, no exemption."""
        medical = set(params.get("medical_categories") or ())
        claims = []
        for h in lexicon_hits(prep, self.code):
            allowed = set(h.allowed_categories)
            if h.category == "disease_claim":
                allowed |= medical
            if category is None or category not in allowed:
                claims.append(h)
        # a guarantee written as a number and a result (一盒见效, 三天即愈, 100%有效): never allowed
        claims += [
            h for h in efficacy_hits(prep.nt) if not any(o.start <= h.start < o.end for o in claims)
        ]
        return sorted(claims, key=lambda h: (h.start, h.end))
