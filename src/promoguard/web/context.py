"""Who is asking, in which language, and what they may do: the request context of every route.

A request is authenticated by a bearer token (``Authorization: Bearer ...``, for scripts) or by the
session cookie (browsers). Pages redirect an anonymous visitor to the login page; the API answers
401. Tenancy lives in ``Viewer.scope``: a platform officer's platform id, which every read of the
data layer filters on, so that another platform's object is simply not found (404, never 403).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request

from promoguard.web import i18n

SESSION_COOKIE = "pg_session"
ANON_COOKIE = "pg_anon"
LANG_COOKIE = "pg_lang"

#: What each role may do. Reading is scoped by tenancy on top of this.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        {"read", "audit", "assign", "comment", "transition", "guide", "verify", "rectify", "users"}
    ),
    "analyst": frozenset({"read", "audit", "assign", "comment", "transition", "guide", "verify"}),
    "platform": frozenset({"read", "comment", "rectify"}),
    "auditor": frozenset({"read", "audit"}),
}


class LoginRequired(Exception):
    """Raised when a route needs a user and the request has none (pages: redirect; API: 401)."""


@dataclass
class Viewer:
    user_id: str
    name: str
    role: str
    platform_id: str | None
    via: str  # "session" or "bearer"
    nonce: str = ""
    #: the language saved in the user's settings (None: follow the switch, else the browser)
    language: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> str | None:
        """The platform every read is limited to (platform officers), or None (bureau, auditor).

        A platform officer without a platform sees nothing rather than everything.
        """
        if self.role == "platform":
            return self.platform_id or "\x00no-platform"
        return None

    def can(self, action: str) -> bool:
        return action in PERMISSIONS.get(self.role, frozenset())

    def public(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "role": self.role,
            "platform_id": self.platform_id,
        }


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def current_viewer(request: Request) -> Viewer | None:
    """The authenticated user of this request, or None."""
    cached = getattr(request.state, "viewer", False)
    if cached is not False:
        return cached
    signer = request.app.state.signer
    data = request.app.state.data
    viewer = None
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        claims = signer.check(auth[7:].strip(), "bearer")
        via = "bearer"
    else:
        claims = signer.check(request.cookies.get(SESSION_COOKIE), "session")
        via = "session"
    if claims is not None:
        # the signature says who; the session row says whether it still holds (not logged out,
        # password unchanged, user not disabled)
        user = data.session_user(claims)
        if user is not None:
            viewer = Viewer(
                user_id=str(user["user_id"]),
                name=user["name"],
                role=user["role"],
                platform_id=user.get("platform_id"),
                via=via,
                nonce=claims.nonce,
                language=user.get("language"),
            )
    request.state.viewer = viewer
    return viewer


def need(request: Request, action: str = "read") -> Viewer:
    """The viewer, who must be logged in and allowed ``action`` (else 401/redirect, or 403)."""
    viewer = current_viewer(request)
    if viewer is None:
        raise LoginRequired()
    if not viewer.can(action):
        raise HTTPException(status_code=403, detail="your role may not do this")
    return viewer


def require(viewer: Viewer, action: str) -> None:
    """403 unless the viewer's role may do ``action``."""
    if not viewer.can(action):
        raise HTTPException(status_code=403, detail="your role may not do this")


def language(request: Request) -> str:
    """The page's language: the user's setting, else the switch's cookie, else Accept-Language."""
    cached = getattr(request.state, "lang", None)
    if cached:
        return cached
    viewer = current_viewer(request)
    lang = i18n.negotiate(
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
        saved=viewer.language if viewer else None,
    )
    request.state.lang = lang
    return lang


def csrf_nonce(request: Request) -> str:
    """The nonce the CSRF token is bound to: the session's, else the anonymous browser cookie's."""
    viewer = current_viewer(request)
    if viewer is not None and viewer.via == "session":
        return viewer.nonce
    nonce = request.cookies.get(ANON_COOKIE) or getattr(request.state, "new_anon", None)
    if not nonce:
        nonce = secrets.token_urlsafe(16)
        request.state.new_anon = nonce  # the response sets the cookie (see app middleware)
    return nonce


def csrf_token(request: Request) -> str:
    return request.app.state.signer.csrf(csrf_nonce(request))


async def check_csrf(request: Request) -> dict[str, Any]:
    """The submitted form, after its CSRF token was checked (403 when absent or wrong)."""
    form = await request.form()
    token = form.get("csrf_token") or request.headers.get("x-csrf-token")
    nonce = csrf_nonce(request)
    if not isinstance(token, str) or not request.app.state.signer.csrf_ok(nonce, token):
        raise HTTPException(
            status_code=403, detail="missing or invalid CSRF token; reload the page"
        )
    return form  # type: ignore[return-value]
