"""A case's states and the transitions the service allows between them.

::

    open ──assign──▶ under_review ──guide──▶ guidance_issued ──rectify──▶ rectification_reported
                                                                               │ verify
                                           ┌───────────────────────────────────┴─────────────┐
                                           ▼                                                 ▼
                                   verified_rectified ──close──▶ closed          not_rectified ──close──▶ closed
                                                                                              └─escalate─▶ escalated
    any state before a verdict ──dismiss (with a reason)──▶ dismissed

``not_rectified`` may also go back to ``guidance_issued`` (a second notice with a new deadline), and
a ``verified_rectified`` case may still be escalated when the bureau decides the violation itself
warrants enforcement (立案) despite the rectification.
"""

from __future__ import annotations

from promoguard.cases.errors import TransitionError

OPEN = "open"
UNDER_REVIEW = "under_review"
GUIDANCE_ISSUED = "guidance_issued"
RECTIFICATION_REPORTED = "rectification_reported"
VERIFIED_RECTIFIED = "verified_rectified"
NOT_RECTIFIED = "not_rectified"
CLOSED = "closed"
ESCALATED = "escalated"
DISMISSED = "dismissed"

STATUSES = (
    OPEN,
    UNDER_REVIEW,
    GUIDANCE_ISSUED,
    RECTIFICATION_REPORTED,
    VERIFIED_RECTIFIED,
    NOT_RECTIFIED,
    CLOSED,
    ESCALATED,
    DISMISSED,
)

#: A new scan's findings join a case in one of these states instead of opening another case.
ACTIVE = (OPEN, UNDER_REVIEW, GUIDANCE_ISSUED, RECTIFICATION_REPORTED)
#: Nothing more happens to a case in these states.
TERMINAL = (CLOSED, ESCALATED, DISMISSED)

#: action -> {from state: to state}
TRANSITIONS: dict[str, dict[str, str]] = {
    # (re-)assigning is allowed while the case is being worked on; only the first moves it
    "assign": {
        OPEN: UNDER_REVIEW,
        UNDER_REVIEW: UNDER_REVIEW,
        GUIDANCE_ISSUED: GUIDANCE_ISSUED,
        RECTIFICATION_REPORTED: RECTIFICATION_REPORTED,
        NOT_RECTIFIED: NOT_RECTIFIED,
    },
    "guide": {UNDER_REVIEW: GUIDANCE_ISSUED, NOT_RECTIFIED: GUIDANCE_ISSUED},
    "rectify": {
        GUIDANCE_ISSUED: RECTIFICATION_REPORTED,
        RECTIFICATION_REPORTED: RECTIFICATION_REPORTED,
    },
    # the verdict (verified_rectified or not_rectified) is decided by the re-scan
    "verify": {RECTIFICATION_REPORTED: "verdict", GUIDANCE_ISSUED: "verdict"},
    "close": {VERIFIED_RECTIFIED: CLOSED, NOT_RECTIFIED: CLOSED},
    "escalate": {
        NOT_RECTIFIED: ESCALATED,
        VERIFIED_RECTIFIED: ESCALATED,
        GUIDANCE_ISSUED: ESCALATED,
    },
    "dismiss": {
        OPEN: DISMISSED,
        UNDER_REVIEW: DISMISSED,
        GUIDANCE_ISSUED: DISMISSED,
        RECTIFICATION_REPORTED: DISMISSED,
    },
}

#: Actions that need a reason in writing.
NEEDS_REASON = ("dismiss", "escalate")


def next_state(action: str, current: str) -> str:
    """The state ``action`` leads to from ``current``, or a TransitionError saying what is allowed."""
    moves = TRANSITIONS.get(action)
    if moves is None:
        raise TransitionError(f"unknown action {action!r}")
    if current not in moves:
        allowed = ", ".join(sorted(moves)) or "no state"
        raise TransitionError(f"cannot {action} a case that is {current} (allowed from: {allowed})")
    return moves[current]
