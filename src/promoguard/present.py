"""How a finding reads to a person: observed/expected in words, money with its currency sign,
instants in the jurisdiction's local time. Shared by the report, ``findings show`` and the exports.

The stored values stay as they are (canonical JSON, UTC, exact decimals); this only formats them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

SYMBOL = {"CNY": "¥", "EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥"}
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
#: keys whose values are amounts of money (in the pack's currency)
_MONEY = re.compile(r"(^|_)(price|amount|total|fee|msrp|reference|paid|prior|level)(_|$)")
#: keys whose values are fractions, shown as percentages (rise 0.3976 -> +39.8%)
_FRACTION = re.compile(r"(^|_)(rise|share|rate)(_|$)")
_NOT_MONEY = re.compile(r"(_pct|_share|_ratio|_id|_source|_label|_rule|_count|_days|_hours)$")
#: words for keys whose name alone reads badly
WORDS = {
    "legal_prior_price": "legal prior price",
    "prior_price_source": "prior price taken from",
    "reference_price": "reference (was) price",
    "claimed_discount_pct": "claimed discount %",
    "max_speed_kmh": "top speed (km/h)",
    "max_speed_kmh_allowed": "highest plausible speed (km/h)",
    "direct_km": "distance without a transit scan (km)",
    "weight_grams": "weight (g)",
    "min_weight_grams": "minimum plausible weight (g)",
    "n_buyers": "buyers",
    "n_merchants": "merchants",
    "n_orders": "orders",
    "span_hours": "span (hours)",
    "promotion_id": "promotion",
    "actual_discount_pct": "actual discount %",
    "raised_level": "raised price level",
    "ordinary_level": "ordinary price level",
    "rise": "rise before the promotion",
}


@functools.lru_cache(maxsize=16)
def pack_locale(pack: str) -> tuple[str, str]:
    """(time zone, currency) of a pack; UTC and no currency when the pack cannot be loaded."""
    try:
        from promoguard.engine.packs import load_pack

        p = load_pack(pack)
        return p.timezone or "UTC", p.currency or ""
    except Exception:  # noqa: BLE001 - a pack folder that moved away still reads, in UTC
        return "UTC", ""


def loads(text: Any) -> dict[str, Any]:
    """A finding's observed/expected JSON as a dict ({} when empty or not JSON)."""
    if isinstance(text, dict):
        return text
    if not isinstance(text, str) or not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"value": text}
    return value if isinstance(value, dict) else {"value": value}


def key_words(key: str) -> str:
    from promoguard.report.i18n import word

    return word(key, WORDS.get(key, key.replace("_", " ")))


def _coded(value: str) -> str | None:
    """A coded value (``fine_print``, ``velocity instant_confirm``) in the report's language when
    every part of it has a translation; None otherwise (then it reads as written)."""
    from promoguard.report.i18n import current, word

    if current() == "en" or not re.fullmatch(r"[a-z_]+([ ,]+[a-z_]+)*", value):
        return None
    parts = re.split(r"([ ,]+)", value)
    words = [p if i % 2 else word(p, "") for i, p in enumerate(parts)]
    if not all(words[::2]):
        return None
    return "".join("、" if i % 2 else w for i, w in enumerate(words))


def local_time(value: Any, tz: str) -> str:
    """An instant as ``2026-11-11 08:00 (Asia/Shanghai)``; anything else unchanged."""
    if isinstance(value, dt.datetime):
        t = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    elif isinstance(value, str) and _ISO.match(value):
        try:
            t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.UTC)
    else:
        return str(value)
    try:
        zone = ZoneInfo(tz)
    except Exception:  # noqa: BLE001
        zone = ZoneInfo("UTC")
    local = t.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def money(value: Any, currency: str) -> str:
    """``¥1,234.50``: exact (the stored decimal string), grouped, with the currency's sign."""
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    sign = SYMBOL.get(currency, f"{currency} " if currency else "")
    text = f"{abs(d):,.2f}"
    return f"{'-' if d < 0 else ''}{sign}{text}"


def is_money(key: str) -> bool:
    return bool(_MONEY.search(key)) and not _NOT_MONEY.search(key)


def value_words(key: str, value: Any, *, tz: str = "UTC", currency: str = "") -> str:
    """One value as a person reads it."""
    if value is None:
        return "—"
    if key == "severity_reason" and isinstance(value, str):
        from promoguard.report.i18n import reason

        return reason(value)
    if isinstance(value, bool):
        from promoguard.report.i18n import word

        return word("yes", "yes") if value else word("no", "no")
    if isinstance(value, list):
        return ", ".join(value_words(key, v, tz=tz, currency=currency) for v in value)
    if isinstance(value, dict):
        return "; ".join(
            f"{key_words(k)} {value_words(k, v, tz=tz, currency=currency)}"
            for k, v in value.items()
        )
    if key.endswith("_at") or (isinstance(value, str) and _ISO.match(value)):
        return local_time(value, tz)
    if is_money(key) and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return money(value, currency)
    if _FRACTION.search(key) and isinstance(value, (int, float, str)):
        try:
            return f"{float(value) * 100:+.1f}%" if key == "rise" else f"{float(value) * 100:.1f}%"
        except ValueError:
            return str(value)
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.1f}"
    if isinstance(value, str) and (coded := _coded(value)) is not None:
        return coded
    if isinstance(value, str) and re.fullmatch(r"[a-z]+(_[a-z]+)+(,[a-z_]+)*", value):
        return value.replace("_", " ").replace(",", ", ")  # reason codes read as words
    if isinstance(value, str) and "|" in value and " " not in value:
        parts = value.split("|")
        from promoguard.report.i18n import word

        more = word("and {n} more", "and {n} more").format(n=len(parts) - 5)
        return ", ".join(parts[:5]) + (f" {more}" if len(parts) > 5 else "")
    if isinstance(value, str) and " " in value:
        from promoguard.report.i18n import word

        return word(value, value)  # a rule's own sentence ("contact and payment stay on ...")
    return str(value)


def sentence(obj: dict[str, Any], *, tz: str = "UTC", currency: str = "") -> str:
    """``reference (was) price €112.30; promotion P2-D11-2026``."""
    return "; ".join(
        f"{key_words(k)} {value_words(k, v, tz=tz, currency=currency)}" for k, v in obj.items()
    )


#: marks that belong to the character before them: cutting before one would split what a reader
#: sees as one character (an accent, an emoji's skin tone or presentation, a joined emoji)
_JOINED = {"\u200d", "\ufe0e", "\ufe0f"}


def _joins_previous(text: str, i: int) -> bool:
    ch = text[i]
    return (
        bool(unicodedata.combining(ch))
        or ch in _JOINED
        or text[i - 1] == "\u200d"
        or 0x1F3FB <= ord(ch) <= 0x1F3FF  # skin-tone modifiers
    )


def excerpt(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: cut texts end with "…", never inside a character
    as read (a base letter and its accents, an emoji sequence) and, in spaced scripts, at the end
    of a word when one ends in the last 40% of the room (Chinese has no spaces: any character)."""
    text = " ".join(str(text or "").split())
    if len(text) <= limit:
        return text
    cut = max(limit - 1, 1)  # room for the ellipsis
    while cut > 1 and _joins_previous(text, cut):
        cut -= 1
    head = text[:cut]
    if not text[cut].isspace():
        space = head.rfind(" ")
        if space >= 0.6 * cut:
            head = head[:space]
    return head.rstrip(" ,;:.-–—，。；：、") + "…"


#: keys whose values quote the store (a matched term, a published list, a carrier, a label, a
#: rule's recorded explanation): shown as they are, marked not to be translated
QUOTED = frozenset(
    {
        "matched", "disclosed_items", "missing_items", "conditions", "changes", "shown_text",
        "carrier", "tracking_no", "reference_label", "cluster_id", "merchants",
        "coupon_id", "promotion_id", "winner", "ship_to_city", "delivered_city", "basket",
    }
)  # fmt: skip


def sentence_html(obj: dict[str, Any], *, tz: str = "UTC", currency: str = "") -> str:
    """:func:`sentence` as escaped HTML, the values of :data:`QUOTED` keys marked
    ``translate="no"`` (they are the store's words, not the report's)."""
    from html import escape

    parts = []
    for k, v in obj.items():
        text = escape(value_words(k, v, tz=tz, currency=currency))
        if k in QUOTED:
            text = f'<span translate="no">{text}</span>'
        parts.append(f"{escape(key_words(k))} {text}")
    return "; ".join(parts)


def flatten(prefix: str, obj: dict[str, Any]) -> dict[str, Any]:
    """``{"observed.reference_price": "112.30", ...}`` for spreadsheet columns (lists joined)."""
    out: dict[str, Any] = {}
    for k, v in obj.items():
        name = f"{prefix}.{k}"
        if isinstance(v, dict):
            out.update(flatten(name, v))
        elif isinstance(v, list):
            out[name] = ", ".join(str(x) for x in v)
        else:
            out[name] = v
    return out
