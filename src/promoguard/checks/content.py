"""Content checks: what merchants write (TEXT001-006) and rewards offered for good reviews (REVIEW002).

They are local checks: one engine query pulls the texts (with their listing's platform and
category), sorted by id, and the text engine (``promoguard.text``) reads each text once for every
lexicon. The scan of a store's texts is shared by all the content checks of one scan, so seven
checks cost one pass. Output does not depend on the engine: rows are sorted before matching and
the matching itself is pure Python over the text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, ClassVar

import ibis
import pyarrow as pa

from promoguard.checks.base import Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.checks.registry import register
from promoguard.text.identifiers import KINDS as PII_KINDS
from promoguard.text.lexicon import load_terms
from promoguard.text.mask import Masker
from promoguard.text.matcher import Hit, context
from promoguard.text.normalise import Normalised
from promoguard.text.rules import ContentRules, Params, Prepared

#: at most this many spans per finding go into observed/evidence (a long transcript can repeat)
MAX_SPANS = 20
TEXT_KINDS_ALL = ("listing_title", "listing_description", "livestream", "chat", "ad")

_EXTRA = Parameter(
    "extra_lexicons",
    [],
    "more lexicon CSV files (same columns as the built-in ones): one ./path relative to the pack "
    "file, or a list of absolute paths",
    basis="policy",
)


def _kinds_param(default: Sequence[str], doc: str, basis: str = "policy") -> Parameter:
    return Parameter("text_kinds", list(default), doc, basis=basis)  # type: ignore[arg-type]


def _text_rows(tables: Tables) -> pa.Table:
    """Every merchant text with its platform and listing category, sorted by text_id."""
    t = tables.texts
    listings = tables.listings
    merchants = tables.merchants
    j = t.left_join(listings, t.listing_id == listings.listing_id).left_join(
        merchants, t.merchant_id == merchants.merchant_id
    )
    expr = j.select(
        text_id=t.text_id,
        kind=t.kind,
        merchant_id=t.merchant_id,
        platform_id=ibis.coalesce(listings.platform_id, merchants.platform_id),
        category=listings.category,
        content=t.content,
    ).order_by("text_id")
    return tables.to_arrow(expr)


def _review_rows(tables: Tables) -> pa.Table:
    """Every review with a text, with its listing's merchant and platform, sorted by review_id."""
    r = tables.reviews
    listings = tables.listings
    j = r.left_join(listings, r.listing_id == listings.listing_id)
    expr = (
        j.filter(r.text.notnull())
        .select(
            review_id=r.review_id,
            merchant_id=listings.merchant_id,
            platform_id=listings.platform_id,
            category=listings.category,
            content=r.text,
        )
        .order_by("review_id")
    )
    return tables.to_arrow(expr)


class _Scan:
    """One pass of the text engine over a store's texts (or reviews), shared by the checks.

    Only texts that could raise a finding are kept prepared (``ContentRules.prepare_many``).
    """

    def __init__(self, rules: ContentRules, rows: pa.Table) -> None:
        self.rules = rules
        content = [c or "" for c in rows.column("content").to_pylist()]
        prepared = rules.prepare_many(content)
        del content
        # keep only the selected rows, as dicts (a store may hold millions of texts)
        keep = [i for i, p in enumerate(prepared) if p is not None]
        picked = rows.drop_columns(["content"]).take(keep).to_pylist() if keep else []
        self.rows: list[dict[str, Any]] = picked
        self.prepared: list[Prepared] = [prepared[i] for i in keep]  # type: ignore[misc]


def _lexicon_paths(value: Any) -> tuple[str, ...]:
    """``extra_lexicons`` as paths: one path (the pack loader resolves ``./x.csv`` against the
    pack file only for a plain string) or a list of paths."""
    if not value:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(p) for p in value)


def _shared_scan(tables: Tables, what: str, params: dict[str, Any]) -> _Scan:
    cache: dict[Any, _Scan] = tables.__dict__.setdefault("_promoguard_content_scans", {})
    extra = _lexicon_paths(params.get("extra_lexicons"))
    key = (what, extra)
    if key not in cache:
        rules = ContentRules(load_terms(extra))
        rows = _text_rows(tables) if what == "texts" else _review_rows(tables)
        cache[key] = _Scan(rules, rows)
    return cache[key]


def _spans(nt: Normalised, hits: Sequence[Hit]) -> list[dict[str, Any]]:
    out = []
    for h in list(hits)[:MAX_SPANS]:
        out.append(
            {
                "term": h.term,
                "category": h.category,
                "matched": nt.original[h.ostart : h.oend],
                "start": h.ostart,
                "end": h.oend,
                "context": context(nt.original, h.ostart, h.oend),
            }
        )
    return out


def _matched_terms(nt: Normalised, hits: Sequence[Hit], code: str) -> str:
    """Distinct matched strings, as written; personal data is never repeated in a finding."""
    seen: list[str] = []
    for h in hits:
        shown = h.category if code == "TEXT005" else nt.original[h.ostart : h.oend]
        if shown not in seen:
            seen.append(shown)
        if len(seen) >= MAX_SPANS:
            break
    return "; ".join(seen)


_FOUND_SCHEMA = pa.schema(
    [
        ("entity_id", pa.string()),
        ("entity_type", pa.string()),
        ("merchant_id", pa.string()),
        ("platform_id", pa.string()),
        ("text_kind", pa.string()),
        ("listing_category", pa.string()),
        ("matched", pa.string()),
        ("match_count", pa.int64()),
        ("spans", pa.string()),
        ("rule", pa.string()),
        # TEXT005 only: the text with its personal data masked, and the original's SHA-256, so
        # the evidence proves the finding without copying the data once more
        ("masked_content", pa.string()),
        ("content_sha256", pa.string()),
    ]
)
_EVIDENCE_MASKER = Masker(hashed=False)


class ContentCheck(Check):
    """Shared shape of the content checks; subclasses set the code, docs and parameters."""

    family = "content"
    entity_type = "text"
    reads = ("texts", "listings", "merchants")
    observed_columns = ("matched", "match_count")
    expected_columns = ("rule",)
    rule: ClassVar[str] = ""
    scans_reviews: ClassVar[bool] = False

    def rules_params(self, params: dict[str, Any]) -> Params:
        return Params()

    def find_local(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> pa.Table:
        rp = self.rules_params(params)
        kinds = set(params.get("text_kinds") or TEXT_KINDS_ALL)
        out: list[dict[str, Any]] = []
        scan = _shared_scan(tables, "texts", params)
        for row, prep in zip(scan.rows, scan.prepared, strict=True):
            if row["kind"] not in kinds:
                continue
            hits = scan.rules.decide(prep, row["kind"], row["category"], (self.code,), rp)
            self._emit(out, row, prep.nt, hits, row["text_id"], "text")
        if self.scans_reviews:
            rscan = _shared_scan(tables, "reviews", params)
            for row, prep in zip(rscan.rows, rscan.prepared, strict=True):
                hits = rscan.rules.decide(prep, "review", row["category"], (self.code,), rp)
                self._emit(out, row | {"kind": "review"}, prep.nt, hits, row["review_id"], "review")
        return pa.Table.from_pylist(out, schema=_FOUND_SCHEMA)

    def _emit(
        self,
        out: list[dict[str, Any]],
        row: dict[str, Any],
        nt: Normalised,
        by_code: dict[str, list[Hit]],
        entity_id: str,
        entity_type: str,
    ) -> None:
        hits = by_code.get(self.code)
        if not hits:
            return
        pii = self.code == "TEXT005"
        out.append(
            {
                "entity_id": entity_id,
                "entity_type": entity_type,
                "merchant_id": row["merchant_id"],
                "platform_id": row["platform_id"],
                "text_kind": row["kind"],
                "listing_category": row["category"],
                "matched": _matched_terms(nt, hits, self.code),
                "match_count": len(hits),
                "spans": json.dumps(
                    _spans(nt, hits) if self.code != "TEXT005" else _pii_spans(hits),
                    ensure_ascii=False,
                ),
                "rule": self.rule,
                "masked_content": _EVIDENCE_MASKER.mask(nt.original) if pii else None,
                "content_sha256": hashlib.sha256(nt.original.encode()).hexdigest() if pii else None,
            }
        )

    def evidence(self, tables: Tables, found, params: dict[str, Any], ctx: ScanContext):
        t = tables.texts
        texts = found.filter(found.entity_type == "text")
        # personal data stays out of TEXT005's evidence: the masked text and the original's hash
        content = texts.masked_content if self.code == "TEXT005" else t.content
        rows = texts.join(t, texts.entity_id == t.text_id).select(
            texts.entity_id,
            t.text_id,
            t.kind,
            t.merchant_id,
            t.listing_id,
            t.created_at,
            t.lang,
            texts.spans,
            content=content,
            content_sha256=texts.content_sha256,
        )
        out = {"text": rows}
        if self.scans_reviews:
            r = tables.reviews
            revs = found.filter(found.entity_type == "review")
            out["review"] = revs.join(r, revs.entity_id == r.review_id).select(
                revs.entity_id,
                r.review_id,
                r.listing_id,
                r.order_id,
                r.rating,
                r.created_at,
                r.text,
                revs.spans,
            )
        return out


def _pii_spans(hits: Sequence[Hit]) -> list[dict[str, Any]]:
    """Where the personal data sits, without copying it into one more place."""
    return [{"kind": h.category, "start": h.ostart, "end": h.oend} for h in list(hits)[:MAX_SPANS]]


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

    def rules_params(self, params: dict[str, Any]) -> Params:
        return Params(medical_categories=frozenset(params.get("medical_categories") or ()))


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

    def rules_params(self, params: dict[str, Any]) -> Params:
        return Params(phone_is_lure=bool(params.get("phone_is_lure", True)))


@register
class ExposedPersonalData(ContentCheck):
    code = "TEXT005"
    name = "exposed-personal-data"
    title = "Personal data exposed in a text (ID, bank card, mobile, e-mail)"
    severity = "high"
    rule = "personal information is not disclosed"
    parameters = (
        Parameter(
            "pii_kinds",
            list(PII_KINDS),
            "identifiers that count: resident_id, mobile, bank_card, email",
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
            "with a wrong check character or a card failing Luhn is not flagged. The finding "
            "records where the data sits, not the data."
        ),
        why=(
            "The Personal Information Protection Law Art. 10 forbids disclosing others' personal "
            "information without a legal basis; ID numbers and financial accounts are sensitive "
            "personal information (Art. 28); E-Commerce Law Art. 23 binds merchants to it."
        ),
        example="A chat '退款请打到这张卡 6222021234567890128' (TEXT005: bank_card).",
    )

    def rules_params(self, params: dict[str, Any]) -> Params:
        return Params(pii_kinds=tuple(params.get("pii_kinds") or PII_KINDS))


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
            "In live-stream transcripts, finds price comparisons with no base price in the same "
            "or the previous clause (直降500, 比原价便宜一半, 300 off today) and urgency claims "
            "(最后三单, 仅剩2件, 库存告急, only 2 left) for a reviewer to verify against stock "
            "and price records. '原价399元，今天直播间199元' states its base and is not flagged."
        ),
        why=(
            "The live-stream marketing rules (网络直播营销管理办法（试行）2021, Art. 18) forbid "
            "false or misleading information; the price-marking rules (明码标价和禁止价格欺诈规定 "
            "2022, Art. 19) make a comparison with an unstated or false base price, and false "
            "scarcity to rush buyers, price fraud."
        ),
        example="A transcript '家人们，直降500！最后三单！' (TEXT006: 直降500, 最后三单).",
    )


@register
class ReviewReward(ContentCheck):
    code = "REVIEW002"
    name = "reward-for-good-review"
    title = "Reward offered for a good review (好评返现)"
    family = "reviews"
    severity = "high"
    rule = "no reward conditioned on a positive review"
    scans_reviews = True
    reads = ("texts", "reviews", "listings", "merchants")
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

    def rules_params(self, params: dict[str, Any]) -> Params:
        return Params(reward_window=int(params.get("reward_window", 16)))
