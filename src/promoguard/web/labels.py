"""Words for the values the pages show (states, severities, roles, families), marked for translation.

``N_`` only marks a string for the catalogue extractor; the template translates it at render time
with ``_(label)``, so the same dictionary serves both languages.
"""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return text


ROLES = {
    "admin": N_("Bureau administrator"),
    "analyst": N_("Bureau analyst"),
    "platform": N_("Platform compliance officer"),
    "auditor": N_("Auditor"),
}

SEVERITIES = {
    "critical": N_("critical"),
    "high": N_("high"),
    "medium": N_("medium"),
    "low": N_("low"),
}

FAMILIES = {
    "pricing": N_("pricing"),
    "coupons": N_("coupons"),
    "logistics": N_("logistics"),
    "licensing": N_("licensing"),
    "brushing": N_("brushing"),
    "reviews": N_("reviews"),
    "content": N_("content"),
    "prizes": N_("prizes"),
}

STATES = {
    "open": N_("open"),
    "under_review": N_("under review"),
    "guidance_issued": N_("guidance issued"),
    "rectification_reported": N_("rectification reported"),
    "verified_rectified": N_("verified: rectified"),
    "not_rectified": N_("verified: not rectified"),
    "closed": N_("closed"),
    "escalated": N_("escalated"),
    "dismissed": N_("dismissed"),
    # the closing moves offered on a case page
    "close": N_("close"),
    "escalate": N_("escalate to enforcement"),
    "dismiss": N_("dismiss"),
}

ENTITIES = {
    "listing": N_("listing"),
    "order": N_("order"),
    "merchant": N_("merchant"),
    "buyer_group": N_("buyer group"),
    "review": N_("review"),
    "text": N_("text"),
    "coupon": N_("coupon"),
    "prize_promotion": N_("prize promotion"),
}


def label(kind: dict[str, str], value: object) -> str:
    """The marked word for a value, or the value itself when it has none."""
    return kind.get(str(value), str(value))
