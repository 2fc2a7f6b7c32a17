"""TEXT004 off-platform-lure: Lure to contact or pay off the platform."""

from __future__ import annotations

from typing import Any

from promoguard.engine.base import CheckDoc, Parameter
from promoguard.engine.registry import register
from promoguard.rules.content._shared import _EXTRA, TEXT_KINDS_ALL, ContentCheck, _kinds_param
from promoguard.text.matcher import Hit
from promoguard.text.rules import Prepared, by_category, handles_after, identifier_hits


@register
class OffPlatformLure(ContentCheck):
    code = "TEXT004"
    name = "off-platform-lure"
    title = "Lure to contact or pay off the platform"
    severity = "high"
    rule = "contact and payment stay on the platform"
    parameters = (
        Parameter(
            "phone_is_lure",
            True,
            "a mobile number in a merchant text invites contact off the platform",
            basis="policy",
        ),
        _kinds_param(TEXT_KINDS_ALL, "text kinds read"),
        _EXTRA,
    )
    doc = CheckDoc(
        what=(
            "Finds texts that move buyers off the platform: a WeChat/QQ/WhatsApp ID after the "
            "app's name (including evasions such as V信, 薇信, vx, ❤信), 加微信, 私下转账, "
            "short links (t.cn, dwz.cn, bit.ly) and mobile numbers."
        ),
        why=(
            "Contact and payment outside the platform escape the platform's transaction rules "
            "and the consumer protections (deposit, dispute handling) that E-Commerce Law "
            "Arts. 32 and 38 build on; off-platform payment is a classic fraud channel."
        ),
        example="A listing description '加vx abcd1234 返现' (TEXT004: vx abcd1234).",
    )

    def decide(
        self, prep: Prepared, kind: str | None, category: str | None, params: dict[str, Any]
    ) -> list[Hit]:
        """A lure or short link; a contact cue followed by an account ID or number; and, when the
        pack says so, a valid mobile number."""
        groups = by_category(prep)
        lures = groups.get((self.code, "lure"), []) + groups.get((self.code, "short_link"), [])
        lures += handles_after(prep, groups.get((self.code, "contact_cue"), []), self.code)
        if params.get("phone_is_lure", True):
            lures += identifier_hits(prep, self.code, ("mobile",), category="phone")
        return sorted(lures, key=lambda h: (h.start, h.end))
