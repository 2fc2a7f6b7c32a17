"""Content checks: what merchants write (TEXT001-006) and rewards offered for good reviews (REVIEW002).

They are local checks: one engine query pulls the texts (with their listing's platform and
category), sorted by id, and the text engine (``promoguard.text``) reads each text once for every
lexicon. The scan of a store's texts is shared by all the content checks of one scan, so seven
checks cost one pass. Output does not depend on the engine: rows are sorted before matching and
the matching itself is pure Python over the text.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from promoguard.engine import backends
from promoguard.engine.base import Check, Parameter, ScanContext, Tables
from promoguard.text.lexicon import Term, builtin_files, load_terms
from promoguard.text.mask import QUOTES
from promoguard.text.matcher import CONTEXT_CHARS, Hit
from promoguard.text.normalise import Normalised
from promoguard.text.rules import ContentRules, Prepared, lexicon_hits

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
    return tables.to_arrow(_text_expr(tables).order_by("text_id"))


def _text_expr(tables: Tables) -> ir.Table:
    """Every merchant text with its platform and listing category."""
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
    )
    return expr


def _review_rows(tables: Tables) -> pa.Table:
    """Every review with a text, with its listing's merchant and platform, sorted by review_id."""
    return tables.to_arrow(_review_expr(tables).order_by("review_id"))


def _review_expr(tables: Tables) -> ir.Table:
    """Every review with a text, with its listing's merchant and platform."""
    r = tables.reviews
    listings = tables.listings
    j = r.left_join(listings, r.listing_id == listings.listing_id)
    return j.filter(r.text.notnull()).select(
        review_id=r.review_id,
        merchant_id=listings.merchant_id,
        platform_id=listings.platform_id,
        category=listings.category,
        content=r.text,
    )


#: texts turned into Python strings at a time by a shared scan
_PREPARE_SLICE = 65_536


class _Scan:
    """One pass of the text engine over a store's texts (or reviews), shared by the checks.

    Only texts that could raise a finding are kept prepared (``ContentRules.prepare_many``).
    """

    def __init__(self, rules: ContentRules, rows: pa.Table) -> None:
        self.rules = rules
        # only the texts the first pass could select go on (compiled, over the Arrow buffer:
        # the rest never become Python strings); the same texts are then prepared
        maybe = rules.maybe(rows.column("content"))
        if maybe is not None:
            rows = rows.take(pa.array(np.flatnonzero(maybe), pa.int64()))
        # each distinct text once: a text's preparation depends on nothing but the text, and
        # stores repeat texts (templates, copied reviews: at city scale 120k candidate merchant
        # texts are 89k distinct, 11k candidate reviews 3.7k); the rows share its Prepared
        column = rows.column("content").fill_null("")
        encoded = pc.dictionary_encode(column).combine_chunks()
        distinct = encoded.dictionary
        which = encoded.indices.to_numpy(zero_copy_only=False)
        # the texts as Python strings a slice at a time, not all at once (a million texts are a
        # few hundred MB as str objects); the first pass reads them in batches anyway
        prepared: list[Prepared | None] = []
        for start in range(0, len(distinct), _PREPARE_SLICE):
            prepared.extend(rules.prepare_many(distinct.slice(start, _PREPARE_SLICE).to_pylist()))
        # keep only the selected rows, as dicts (a store may hold millions of texts)
        selected = np.array([p is not None for p in prepared], dtype=bool)
        keep = np.flatnonzero(selected[which]) if len(which) else np.zeros(0, np.int64)
        picked = rows.drop_columns(["content"]).take(keep).to_pylist() if len(keep) else []
        self.rows: list[dict[str, Any]] = picked
        self.prepared: list[Prepared] = [prepared[i] for i in which[keep].tolist()]  # type: ignore[misc]


def _lexicon_paths(value: Any) -> tuple[str, ...]:
    """``extra_lexicons`` as paths: one path (the pack loader resolves ``./x.csv`` against the
    pack file only for a plain string) or a list of paths."""
    if not value:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(p) for p in value)


class _Kept:
    """One shared scan, built once: the first thread to ask builds it, the others wait."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.scan: _Scan | None = None


_KEPT_LOCK = threading.Lock()


def _shared_scan(tables: Tables, what: str, params: dict[str, Any]) -> _Scan:
    """The one pass over the store's texts (or reviews) for every content check of a scan.

    A scan may run its checks on several threads, each with its own view of the tables (its own
    cursor) but one scan cache (``tables.scan``): the pass is kept there, so it is made once per
    scan, not once per thread. Outside a scan it is kept on ``tables``."""
    holder: Any = tables.scan if tables.scan is not None else tables
    extra = _lexicon_paths(params.get("extra_lexicons"))
    key = (what, extra)
    with _KEPT_LOCK:
        kept = holder.__dict__.setdefault("_promoguard_content_scans", {}).setdefault(key, _Kept())
    with kept.lock:
        if kept.scan is None:
            rules = ContentRules(load_terms(extra))
            rows = _text_rows(tables) if what == "texts" else _review_rows(tables)
            kept.scan = _Scan(rules, rows)
        return kept.scan


#: an identifier in a text as the evidence quotes it: (start, end) in the original, and its token
_Quoted = tuple[int, int, str]


def _identifiers(prep: Prepared) -> list[_Quoted]:
    """Where the text's validated identifiers (resident ID, bank card, mobile, e-mail) sit in
    the original, with the token that stands in for each wherever a finding quotes the text.

    A check that is not about personal data still quotes the text it found (TEXT004's lure is
    often a mobile number; a TEXT001 claim may share a chat with a card number): without this
    the number TEXT005 masks in its own evidence would be copied in full into another's."""
    found = []
    for i in prep.ids:
        start, end = prep.nt.span(i.start, i.end)
        found.append((start, end, QUOTES.token(i.kind, i.value)))
    # one token per stretch: ``13812345678@qq.com`` is a mobile inside an e-mail; the longer,
    # which starts first, stands for both (two tokens would garble the quote)
    out: list[_Quoted] = []
    for q in sorted(found, key=lambda q: (q[0], -q[1])):
        if not out or q[0] >= out[-1][1]:
            out.append(q)
    return out


def _quote(original: str, ids: Sequence[_Quoted], start: int, end: int) -> str:
    """``original[start:end]`` with every identifier it touches replaced whole by its token (a
    window that cuts a number in two shows the token, never the digits on its side)."""
    pieces: list[str] = []
    at = start
    for s, e, token in ids:
        if e <= at or s >= end:  # outside the window, or already covered by a token
            continue
        if s > at:
            pieces.append(original[at:s])
        pieces.append(token)
        at = e
    if at < end:
        pieces.append(original[at:end])
    return "".join(pieces)


def _touches(ids: Sequence[_Quoted], start: int, end: int) -> list[_Quoted]:
    return [q for q in ids if q[1] > start and q[0] < end]


#: categories that name one fact: REVIEW002's 好评返现 is an offer in the lexicon and a review
#: word paid with 返 found by the rule, one place either way
_SAME_FACT = {"review_for_reward": "reward_offer"}
#: categories whose span never stands for a hit of another category inside it: a disclaimed
#: sentence holding an offer the grade is high for (本店不参与，五星好评，但晒图后…领取小礼品)
_STANDS_FOR_ITS_OWN = frozenset({"disclaimed"})


def occurrences(hits: Sequence[Hit]) -> list[Hit]:
    """The places a rule's ``hits`` name, in text order, each once: what a finding counts
    (``match_count``) and shows (``matched``, ``spans``).

    A lexicon holds a phrase and its parts (全网最低价, 全网最低, 最低价; 保证治愈, 治愈) and a rule
    may find one place twice (REVIEW002's 好评返现 is an offer in the lexicon and a review word
    paid with 返), so the raw hits of one phrase are several. A hit inside a longer one is the
    longer one, whatever its category (a mobile inside an e-mail address, 气枪 inside 气枪铅弹),
    except inside a ``disclaimed`` span, which stands only for its own (the offer in it is what
    the grade is high for). Hits of one fact (one category, or categories :data:`_SAME_FACT`
    joins) that overlap become one over both spans, with the first one's term and category, even
    with another fact's hit between them (好评后追评返现，删差评). Hits of two facts that overlap
    without one holding the other stay two (加QQ, a lure, and QQ 928967229, an identifier). The
    severity is graded on every raw hit, before this.
    """
    out: list[Hit] = []
    last: dict[str, int] = {}  # the index in ``out`` of each fact's last place
    reach = -1  # the furthest end of the kept hits that stand for what is inside them
    for h in sorted(hits, key=lambda h: (h.start, -h.end)):
        if h.end <= reach:  # inside a kept hit (every kept one starts at or before it)
            continue
        fact = _SAME_FACT.get(h.category, h.category)
        i = last.get(fact)
        if i is not None and h.start < out[i].end:
            if h.end > out[i].end:
                out[i] = dataclasses.replace(out[i], end=h.end, oend=max(out[i].oend, h.oend))
        else:
            last[fact] = i = len(out)
            out.append(h)
        if out[i].category not in _STANDS_FOR_ITS_OWN:
            reach = max(reach, out[i].end)
    return sorted(out, key=lambda h: (h.start, -h.end))


def _spans(
    nt: Normalised, hits: Sequence[Hit], ids: Sequence[_Quoted] = ()
) -> list[dict[str, Any]]:
    out = []
    original = nt.original
    for h in list(hits)[:MAX_SPANS]:
        left = max(0, h.ostart - CONTEXT_CHARS)
        right = min(len(original), h.oend + CONTEXT_CHARS)
        # a window edge inside an identifier moves to the identifier's edge: its token is shown
        # whole, and no "…" stands for text the token already covers
        for s, e, _ in _touches(ids, left, right):
            left, right = min(left, s), max(right, e)
        matched = _quote(original, ids, h.ostart, h.oend)
        out.append(
            {
                # a term built from the text itself (a handle after a contact cue, a regex
                # match) may hold the identifier: then it is the masked match
                "term": matched if _touches(ids, h.ostart, h.oend) else h.term,
                "category": h.category,
                "matched": matched,
                "start": h.ostart,
                "end": h.oend,
                # as matcher.context() cuts it, with the identifiers masked
                "context": ("…" if left else "")
                + _quote(original, ids, left, right)
                + ("…" if right < len(original) else ""),
            }
        )
    return out


def _matched_terms(
    nt: Normalised, hits: Sequence[Hit], personal_data: bool, ids: Sequence[_Quoted] = ()
) -> str:
    """Distinct matched strings, as written (identifiers masked); personal data is never
    repeated in a finding (its kind stands in for it)."""
    seen: list[str] = []
    for h in hits:
        shown = h.category if personal_data else _quote(nt.original, ids, h.ostart, h.oend)
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
        # the text with its personal data masked, and the original's SHA-256, so the evidence
        # proves the finding without copying the data once more: always for the rules finding
        # personal data, for the others when the text holds any (NULL: the text as it is)
        ("masked_content", pa.string()),
        ("content_sha256", pa.string()),
        # a graded finding's own severity and why (NULL: the pack's; docs/exemptions.md)
        ("severity", pa.string()),
        ("severity_reason", pa.string()),
    ]
)


class ContentCheck(Check):
    """Shared shape of the content checks; subclasses set the code, docs and parameters."""

    depends_on = "text"  # one text (or review) and its listing, merchant
    # 2: identifiers in a quoted text are masked (and the original hashed) in every content rule
    evidence_version = "2"

    family = "content"
    entity_type = "text"
    reads = ("texts", "listings", "merchants")
    observed_columns = ("matched", "match_count")
    expected_columns = ("rule",)
    rule: ClassVar[str] = ""
    scans_reviews: ClassVar[bool] = False

    def input_files(self, params: dict[str, Any]) -> list[str]:
        # the matcher is built from these (load_terms): an edited lexicon changes the findings
        return [str(p) for p in builtin_files()] + list(
            _lexicon_paths(params.get("extra_lexicons"))
        )

    def decide(
        self, prep: Prepared, kind: str | None, category: str | None, params: dict[str, Any]
    ) -> list[Hit]:
        """The hits that make one prepared text a finding of this rule (none: no finding).

        ``kind`` is the text's kind (``review`` for a review), ``category`` its listing's (None
        when it has no listing). The default: any lexicon hit of the rule's code."""
        return lexicon_hits(prep, self.code)

    def grade(self, hits: list[Hit]) -> tuple[str | None, str | None]:
        """A finding's own severity and its reason when its hits call for one other than the
        pack's (None, None: the pack's)."""
        return None, None

    def find_local(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> pa.Table:
        kinds = set(params.get("text_kinds") or TEXT_KINDS_ALL)
        if backends.is_spark(tables.backend):
            return self._find_distributed(tables, params, kinds)
        out: list[dict[str, Any]] = []
        scan = _shared_scan(tables, "texts", params)
        for row, prep in zip(scan.rows, scan.prepared, strict=True):
            if row["kind"] not in kinds:
                continue
            hits = self.decide(prep, row["kind"], row["category"], params)
            self._emit(out, row, prep, hits, row["text_id"], "text")
        if self.scans_reviews:
            rscan = _shared_scan(tables, "reviews", params)
            for row, prep in zip(rscan.rows, rscan.prepared, strict=True):
                hits = self.decide(prep, "review", row["category"], params)
                self._emit(out, row | {"kind": "review"}, prep, hits, row["review_id"], "review")
        return pa.Table.from_pylist(out, schema=_FOUND_SCHEMA)

    def _find_distributed(
        self, tables: Tables, params: dict[str, Any], kinds: set[str]
    ) -> pa.Table:
        """The same findings with the texts left where they are: each executor builds the
        matcher from the lexicons once and reads its own partitions through Arrow; only the found
        rows come back. Ordered as the one-machine form orders them (texts, then reviews, by id)."""
        extra = _lexicon_paths(params.get("extra_lexicons"))
        texts = _text_expr(tables)
        texts = texts.filter(texts.kind.isin(sorted(kinds)))
        parts = [
            backends.map_partitions(
                tables.backend,
                texts,
                _partition_finder(self, params, extra, "texts"),
                _FOUND_SCHEMA,
            )
        ]
        if self.scans_reviews:
            parts.append(
                backends.map_partitions(
                    tables.backend,
                    _review_expr(tables),
                    _partition_finder(self, params, extra, "reviews"),
                    _FOUND_SCHEMA,
                )
            )
        return pa.concat_tables(
            [p.sort_by([("entity_id", "ascending")]) for p in parts]
        ).combine_chunks()

    def _emit(
        self,
        out: list[dict[str, Any]],
        row: dict[str, Any],
        prep: Prepared,
        hits: list[Hit],
        entity_id: str,
        entity_type: str,
    ) -> None:
        if not hits:
            return
        severity, reason = self.grade(hits)
        hits = occurrences(hits)
        pii = self.personal_data
        nt = prep.nt
        ids = [] if pii else _identifiers(prep)
        masked = pii or bool(ids)
        out.append(
            {
                "entity_id": entity_id,
                "entity_type": entity_type,
                "merchant_id": row["merchant_id"],
                "platform_id": row["platform_id"],
                "text_kind": row["kind"],
                "listing_category": row["category"],
                "matched": _matched_terms(nt, hits, pii, ids),
                "match_count": len(hits),
                "spans": json.dumps(
                    _pii_spans(hits) if pii else _spans(nt, hits, ids),
                    ensure_ascii=False,
                ),
                "rule": self.rule,
                "masked_content": (
                    QUOTES.mask(nt.original)
                    if pii
                    else _quote(nt.original, ids, 0, len(nt.original))
                    if ids
                    else None
                ),
                "content_sha256": (
                    hashlib.sha256(nt.original.encode()).hexdigest() if masked else None
                ),
                "severity": severity,
                "severity_reason": reason,
            }
        )

    def evidence(self, tables: Tables, found, params: dict[str, Any], ctx: ScanContext):
        t = tables.texts
        texts = found.filter(found.entity_type == "text")
        # personal data stays out of the evidence: the masked text and the original's hash
        content = (
            texts.masked_content
            if self.personal_data
            else ibis.coalesce(texts.masked_content, t.content)
        )
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
                ibis.coalesce(revs.masked_content, r.text).name("text"),
                revs.spans,
                revs.content_sha256.name("text_sha256"),
            )
        return out


#: matchers built on this process (an executor builds each once, however many partitions it reads)
_PROCESS_RULES: dict[tuple[str, ...], ContentRules] = {}


def _process_rules(extra: tuple[str, ...]) -> ContentRules:
    if extra not in _PROCESS_RULES:
        _PROCESS_RULES[extra] = ContentRules(load_terms(extra))
    return _PROCESS_RULES[extra]


def _partition_finder(
    check: ContentCheck, params: dict[str, Any], extra: tuple[str, ...], what: str
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """What an executor runs over its batches of texts (or reviews): the found rows of ``check``."""

    def find(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rules = _process_rules(extra)
        for batch in batches:
            content = [c or "" for c in batch.column("content").to_pylist()]
            prepared = rules.prepare_many(content)
            del content
            keep = [i for i, p in enumerate(prepared) if p is not None]
            out: list[dict[str, Any]] = []
            if keep:
                others = [n for n in batch.schema.names if n != "content"]
                rows = batch.select(others).take(pa.array(keep, pa.int64())).to_pylist()
                for row, i in zip(rows, keep, strict=True):
                    prep = prepared[i]
                    assert prep is not None
                    if what == "texts":
                        hits = check.decide(prep, row["kind"], row["category"], params)
                        check._emit(out, row, prep, hits, row["text_id"], "text")
                    else:
                        hits = check.decide(prep, "review", row["category"], params)
                        check._emit(
                            out, row | {"kind": "review"}, prep, hits, row["review_id"], "review"
                        )
            yield pa.RecordBatch.from_pylist(out, schema=_FOUND_SCHEMA)

    return find


def _pii_spans(hits: Sequence[Hit]) -> list[dict[str, Any]]:
    """Where the personal data sits, without copying it into one more place."""
    return [{"kind": h.category, "start": h.ostart, "end": h.oend} for h in list(hits)[:MAX_SPANS]]


# -- every content rule over one text (tests, benchmarks, one-off use) ---------------------------


def content_rules(
    codes: Iterable[str] | None = None, params: Mapping[str, Mapping[str, Any]] | None = None
) -> list[tuple[ContentCheck, dict[str, Any]]]:
    """The registered content rules (``codes``, or all) with their parameters: the defaults
    overlaid with ``params[code]``."""
    from promoguard.engine import registry

    wanted = set(codes) if codes is not None else None
    out = []
    for rule in registry.all_checks():
        if isinstance(rule, ContentCheck) and (wanted is None or rule.code in wanted):
            out.append((rule, rule.parameter_defaults() | dict((params or {}).get(rule.code, {}))))
    return out


def decide_all(
    prep: Prepared,
    kind: str | None = None,
    category: str | None = None,
    codes: Iterable[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    rules: list[tuple[ContentCheck, dict[str, Any]]] | None = None,
) -> dict[str, list[Hit]]:
    """code -> hits of each content rule that finds something in a prepared text; ``rules`` from
    :func:`content_rules` saves looking them up per text."""
    out = {}
    for rule, p in rules if rules is not None else content_rules(codes, params):
        hits = rule.decide(prep, kind, category, p)
        if hits:
            out[rule.code] = hits
    return out


def analyse_text(text: str, terms: Iterable[Term] | None = None, **kw: Any) -> dict[str, list[Hit]]:
    """:func:`decide_all` over one text with the built-in lexicons (or ``terms``)."""
    rules = ContentRules(terms if terms is not None else load_terms())
    return decide_all(rules.prepare(text), **kw)
