"""TEXT005 exposed-personal-data: Personal data exposed in a text (ID, bank card, mobile, e-mail,
passport)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from promoguard.engine.base import CheckDoc, Parameter
from promoguard.engine.registry import register
from promoguard.rules.content._shared import _EXTRA, TEXT_KINDS_ALL, ContentCheck, _kinds_param
from promoguard.text.identifiers import KINDS as PII_KINDS
from promoguard.text.identifiers import not_personal
from promoguard.text.matcher import Hit
from promoguard.text.rules import Prepared, identifier_hits


@register
class ExposedPersonalData(ContentCheck):
    code = "TEXT005"
    name = "exposed-personal-data"
    title = "Personal data exposed in a text (ID, bank card, mobile, e-mail, passport)"
    severity = "high"
    rule = "personal information is not disclosed"
    # findings say where the data sits and of what kind, never the data; the report shows no text
    personal_data = True
    parameters = (
        Parameter(
            "pii_kinds",
            list(PII_KINDS),
            "identifiers that count: resident_id, mobile, bank_card, email, passport",
            basis="law",
        ),
        _kinds_param(TEXT_KINDS_ALL, "text kinds read"),
        _EXTRA,
    )
    doc = CheckDoc(
        what=(
            "Finds texts that expose personal data, validated rather than merely shaped right: "
            "resident ID numbers (GB 11643 check character, real region and birth date), bank "
            "card numbers (issuer prefix and Luhn), mobile numbers and e-mail addresses. An ID "
            "with a wrong check character or a card failing Luhn is not flagged. The same "
            "numbers written to slip past a filter count: read out in Chinese numerals (一三九…, "
            "大写 壹叁捌…, 幺 for 1), grouped or split by dots, symbols or emoji, with letters "
            "slipped into a mobile after a phone cue, read out in stated segments (前三位139，"
            "中间…，后四位…), and an e-mail address spelt out (name#qq.com, 艾特 … 点 com) after "
            "a mailbox cue. After their cue (护照, passport; HKID, 身份证): a passport number "
            "(1-2 letters and 7-8 digits, or 9 digits) and a Hong Kong identity card number "
            "with its check character (Y284617(7), counted as resident_id). Not personal "
            "information at all (PIPL Art. 4), so not reported: the "
            "sample number GB 11643-1999 prints (11010519491231002X), and an organisation's "
            "functional mailbox (service@, kefu@, hr@) on its own domain, not a public mail "
            "service's. The finding records where the data sits, not the data."
        ),
        why=(
            "The Personal Information Protection Law Art. 10 forbids disclosing others' personal "
            "information without a legal basis; ID numbers and financial accounts are sensitive "
            "personal information (Art. 28); E-Commerce Law Art. 23 binds merchants to it."
        ),
        example="A chat '退款请打到这张卡 6222021234567890128' (TEXT005: bank_card).",
    )

    def decide(
        self, prep: Prepared, kind: str | None, category: str | None, params: dict[str, Any]
    ) -> list[Hit]:
        """Every validated identifier of the kinds the pack names (by kind, never the data),
        but those that relate to no natural person (``not_personal``)."""
        # not an exemption that lowers a finding: the law's own definition (PIPL Art. 4) leaves
        # these out. A standard's printed sample describes the format, not a citizen; a role
        # mailbox on the organisation's own domain identifies the organisation, which the PIPL
        # does not protect. The masker still masks both (masking costs nothing).
        ids = [i for i in prep.ids if not_personal(i) is None]
        if len(ids) != len(prep.ids):
            prep = replace(prep, ids=ids)
        return identifier_hits(prep, self.code, params.get("pii_kinds") or PII_KINDS)
