"""Server-rendered pages (Jinja2, plain HTML forms, no JavaScript). Each is also JSON (``?format=json``).

Every handler asks ``need(request, action)`` first: that is where authentication and the role's
permission are checked; tenancy is the viewer's ``scope`` handed to every read of the data layer.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from promoguard.web import rules
from promoguard.web.context import (
    LANG_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    client_address,
    current_viewer,
    language,
    need,
    require,
)
from promoguard.web.data import expected_version, price_chart, ring_chart
from promoguard.web.filters import case_filters, finding_filters
from promoguard.web.i18n import LANGUAGES, gettext_for
from promoguard.web.render import render, safe_next
from promoguard.web.security import (
    SESSION_SECONDS,
    TOKEN_SECONDS,
    hash_password,
    verify_password,
)

router = APIRouter(include_in_schema=False)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
PAGE_SIZE = 50
#: As ``promoguard users add`` asks.
MIN_PASSWORD = 8


def _data(request: Request) -> Any:
    return request.app.state.data


def _not_found() -> HTTPException:
    return HTTPException(status_code=404, detail="not found")


def _back(path: str, note: str | None = None) -> RedirectResponse:
    sep = "&" if "?" in path else "?"
    return RedirectResponse(path + (f"{sep}note={note}" if note else ""), status_code=303)


# -- login ------------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": safe_next(next), "error": None, "data": {}})


@router.post("/login")
async def login(request: Request) -> Response:
    form = await check_csrf(request)
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "/")))
    _ = gettext_for(language(request))
    user, wait = authenticate(request, username, password)
    if user is None:
        error = (
            _("Too many failed attempts. Try again in %(minutes)d minutes.")
            % {"minutes": max(1, round(wait / 60))}
            if wait
            else _("Wrong user name or password.")
        )
        return render(
            request,
            "login.html",
            {"next": target, "error": error, "username": username, "data": {"error": error}},
            status=429 if wait else 401,
        )
    response = RedirectResponse(target, status_code=303)
    start_session(request, response, user)
    return response


def issue(request: Request, user: dict, kind: str) -> str:
    """A signed session cookie or bearer token for ``user``, recorded as a live session."""
    signer = request.app.state.signer
    token = signer.issue(str(user["user_id"]), kind)
    lifetime = SESSION_SECONDS if kind == "session" else TOKEN_SECONDS
    _data(request).start_session(user, signer.check(token, kind), lifetime)
    return token


def start_session(request: Request, response: Response, user: dict) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        issue(request, user, "session"),
        httponly=True,
        samesite="strict",
        secure=request.app.state.secure_cookies,
        max_age=SESSION_SECONDS,
        path="/",
    )


def authenticate(request: Request, username: str, password: str) -> tuple[dict | None, float]:
    """The user for these credentials, or (None, seconds to wait when locked out)."""
    limiter = request.app.state.limiter
    address = client_address(request)
    wait = limiter.blocked(username, address)
    if wait:
        return None, wait
    user = _data(request).user_by_name(username) if username else None
    ok = verify_password(user.get("password_hash") if user else None, password)
    if not ok or user is None or not user.get("active", True):
        limiter.failed(username, address)
        return None, limiter.blocked(username, address)
    limiter.succeeded(username)
    return user, 0.0


@router.post("/logout")
async def logout(request: Request) -> Response:
    await check_csrf(request)
    viewer = current_viewer(request)
    if viewer is not None and viewer.via == "session":
        # ended on the server: the cookie, if someone kept a copy, no longer opens anything
        _data(request).end_session(viewer.nonce)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- dashboard ----------------------------------------------------------------------------------


@router.get("/")
def dashboard(request: Request) -> Response:
    viewer = need(request)
    data = _data(request).dashboard(viewer.scope)
    return render(request, "dashboard.html", {"d": data, "data": data})


# -- findings -----------------------------------------------------------------------------------


@router.get("/findings")
def findings_page(request: Request) -> Response:
    viewer = need(request)
    filters, after = finding_filters(request.query_params)
    rows, next_after = _data(request).findings(viewer.scope, filters, after, PAGE_SIZE)
    facets = _data(request).facets(viewer.scope)
    data = {"items": rows, "next": next_after, "filters": filters}
    return render(
        request,
        "findings.html",
        {
            "rows": rows,
            "next_after": next_after,
            "filters": filters,
            "facets": facets,
            "data": data,
        },
    )


@router.get("/findings/{finding_id}")
def finding_page(finding_id: str, request: Request) -> Response:
    viewer = need(request)
    finding = _data(request).finding(viewer.scope, finding_id)
    if finding is None:
        raise _not_found()
    rule = rules.rule_page(finding["check_code"]) or {}
    chart = price_chart(finding.get("evidence") or {})
    drawing = ring_chart(finding.get("evidence") or {})
    return render(
        request,
        "finding.html",
        {"f": finding, "rule": rule, "chart": chart, "drawing": drawing, "data": finding},
    )


# -- cases --------------------------------------------------------------------------------------


@router.get("/cases")
def cases_page(request: Request) -> Response:
    viewer = need(request)
    filters, after = case_filters(request.query_params)
    rows, next_after = _data(request).cases(viewer.scope, filters, after, PAGE_SIZE)
    facets = _data(request).facets(viewer.scope)
    data = {"items": rows, "next": next_after, "filters": filters}
    return render(
        request,
        "cases.html",
        {
            "rows": rows,
            "next_after": next_after,
            "filters": filters,
            "facets": facets,
            "data": data,
        },
    )


@router.get("/cases/{case_id}")
def case_page(case_id: str, request: Request, note: str | None = None) -> Response:
    viewer = need(request)
    case = _data(request).case(viewer.scope, case_id, with_audit=viewer.can("audit"))
    if case is None:
        raise _not_found()
    users = _data(request).users() if viewer.can("assign") else []
    can_verify = viewer.can("verify") and _data(request).store is not None
    return render(
        request,
        "case.html",
        {
            "c": case,
            "users": users,
            "note": note,
            "today": date.today().isoformat(),
            "transitions": _data(request).transitions(case, viewer.role),
            "can_verify": can_verify,
            "moves": _data(request).moves(case),
            "data": case,
        },
    )


def _case_or_404(request: Request, viewer: Any, case_id: str) -> dict:
    case = _data(request).case(viewer.scope, case_id, with_audit=False)
    if case is None:
        raise _not_found()
    return case


@router.post("/cases/{case_id}/assign")
async def case_assign(case_id: str, request: Request) -> Response:
    viewer = need(request)
    form = await check_csrf(request)
    _case_or_404(request, viewer, case_id)
    require(viewer, "assign")
    _data(request).assign(
        viewer,
        case_id,
        str(form.get("assignee", "")),
        expected_version(form.get("expected_version")),
    )
    return _back(f"/cases/{case_id}", "assigned")


@router.post("/cases/{case_id}/comment")
async def case_comment(case_id: str, request: Request) -> Response:
    viewer = need(request)
    form = await check_csrf(request)
    _case_or_404(request, viewer, case_id)
    require(viewer, "comment")
    text = str(form.get("text", "")).strip()
    if not text:
        raise HTTPException(status_code=422, detail="a comment needs some text")
    _data(request).comment(viewer, case_id, text[:5000])
    return _back(f"/cases/{case_id}", "commented")


@router.post("/cases/{case_id}/transition")
async def case_transition(case_id: str, request: Request) -> Response:
    viewer = need(request)
    form = await check_csrf(request)
    _case_or_404(request, viewer, case_id)
    require(viewer, "transition")
    _data(request).transition(
        viewer,
        case_id,
        str(form.get("to", "")),
        str(form.get("reason", "")).strip(),
        expected_version(form.get("expected_version")),
    )
    return _back(f"/cases/{case_id}", "updated")


@router.post("/cases/{case_id}/guide")
async def case_guide(case_id: str, request: Request) -> Response:
    viewer = need(request)
    form = await check_csrf(request)
    _case_or_404(request, viewer, case_id)
    require(viewer, "guide")
    try:
        deadline = date.fromisoformat(str(form.get("deadline", "")))
    except ValueError:
        raise HTTPException(status_code=422, detail="the deadline is a date, YYYY-MM-DD") from None
    _data(request).guide(
        viewer,
        case_id,
        deadline,
        str(form.get("text", "")).strip(),
        expected_version(form.get("expected_version")),
    )
    return _back(f"/cases/{case_id}", "guided")


@router.post("/cases/{case_id}/rectify")
async def case_rectify(case_id: str, request: Request) -> Response:
    viewer = need(request)
    form = await check_csrf(request)
    _case_or_404(request, viewer, case_id)
    require(viewer, "rectify")
    note = str(form.get("note", "")).strip()
    if not note:
        raise HTTPException(status_code=422, detail="say what was rectified")
    files = await read_uploads(form.getlist("attachments"))  # type: ignore[attr-defined]
    _data(request).rectify(
        viewer, case_id, note[:10000], files, expected_version(form.get("expected_version"))
    )
    return _back(f"/cases/{case_id}", "rectified")


async def read_uploads(items: list[Any]) -> list[tuple[str, str, bytes]]:
    """(file name, content type, bytes) of each uploaded file; empty file inputs are skipped."""
    files = []
    for item in items:
        if isinstance(item, str) or not getattr(item, "filename", None):
            continue
        content = await item.read(MAX_ATTACHMENT_BYTES + 1)
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise HTTPException(status_code=413, detail="an attachment is larger than 10 MiB")
        name = item.filename.replace("\\", "/").rsplit("/", 1)[-1][:200] or "attachment"
        files.append((name, item.content_type or "application/octet-stream", content))
    return files


@router.get("/cases/{case_id}/attachments/{attachment_id}")
def case_attachment(case_id: str, attachment_id: str, request: Request) -> Response:
    viewer = need(request)
    found = _data(request).attachment(viewer.scope, case_id, attachment_id)
    if found is None:
        raise _not_found()
    name, _, content = found
    # always a download, never rendered inline: an uploaded HTML file must not run in our origin.
    # The name: an ASCII fallback and the real (UTF-8, percent-encoded) one, per RFC 6266.
    ascii_name = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in name
    )
    return Response(
        content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{ascii_name or "attachment"}"; '
            f"filename*=UTF-8''{quote(name, safe='')}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/cases/{case_id}/notice")
def case_notice(case_id: str, request: Request) -> Response:
    """The guidance notice exactly as issued (the HTML whose SHA-256 the case keeps).

    Served as its own document under a sandboxing policy: whatever it contains cannot run script
    or reach our origin's cookies.
    """
    viewer = need(request)
    html = _data(request).notice_html(viewer.scope, case_id)
    if html is None:
        raise _not_found()
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; "
            "img-src data:",
        },
    )


@router.post("/cases/{case_id}/verify")
async def case_verify(case_id: str, request: Request) -> Response:
    viewer = need(request)
    form = await check_csrf(request)
    _case_or_404(request, viewer, case_id)
    require(viewer, "verify")
    _data(request).verify(viewer, case_id, expected_version(form.get("expected_version")))
    return _back(f"/cases/{case_id}", "verified")


# -- merchants, platforms, alerts, audit ----------------------------------------------------------


@router.get("/merchants/{merchant_id}")
def merchant_page(merchant_id: str, request: Request) -> Response:
    viewer = need(request)
    merchant = _data(request).merchant(viewer.scope, merchant_id)
    if merchant is None:
        raise _not_found()
    return render(request, "merchant.html", {"m": merchant, "data": merchant})


@router.get("/platforms")
def platforms_page(request: Request) -> Response:
    viewer = need(request)
    cards = _data(request).scorecards(viewer.scope)
    return render(request, "platforms.html", {"cards": cards, "data": {"items": cards}})


@router.get("/platforms/{platform_id}")
def platform_page(platform_id: str, request: Request) -> Response:
    viewer = need(request)
    card = _data(request).platform(viewer.scope, platform_id)
    if card is None:
        raise _not_found()
    return render(request, "platform.html", {"p": card, "data": card})


@router.get("/alerts")
def alerts_page(request: Request) -> Response:
    viewer = need(request)
    alerts = _data(request).alerts(viewer.scope)
    return render(request, "alerts.html", {"alerts": alerts, "data": {"items": alerts}})


@router.get("/audit")
def audit_page(request: Request, after: str | None = None) -> Response:
    need(request, "audit")
    events, next_after = _data(request).audit(after, PAGE_SIZE)
    data = {"items": events, "next": next_after}
    return render(request, "audit.html", {"events": events, "next_after": next_after, "data": data})


@router.get("/me")
def me_page(request: Request) -> Response:
    viewer = need(request)
    return render(request, "me.html", {"data": viewer.public()})


# -- the user's own settings: language and password -----------------------------------------------


@router.get("/settings")
def settings_page(request: Request, note: str | None = None) -> Response:
    viewer = need(request)
    data = {**viewer.public(), "language": viewer.language}
    return render(
        request,
        "settings.html",
        {"note": note, "error": None, "saved": viewer.language, "data": data},
    )


@router.post("/settings/language")
async def settings_language(request: Request) -> Response:
    """Save the user's language (also what the switch on every page does for a logged-in user)."""
    viewer = need(request)
    form = await check_csrf(request)
    chosen = str(form.get("language", "")).strip() or None
    if chosen is not None and chosen not in LANGUAGES:
        raise HTTPException(status_code=422, detail="language is en, zh, or empty (the browser's)")
    _data(request).set_language(viewer, chosen)
    target = safe_next(str(form.get("next") or "/settings?note=language"))
    response = RedirectResponse(target, status_code=303)
    if chosen:  # the login page, before anyone is logged in, speaks it too
        response.set_cookie(
            LANG_COOKIE, chosen, samesite="lax", path="/", max_age=365 * 86400, httponly=True
        )
    else:
        response.delete_cookie(LANG_COOKIE, path="/")
    return response


@router.post("/settings/password")
async def settings_password(request: Request) -> Response:
    """Change one's password: every session and token of the user ends; this browser gets a new one."""
    viewer = need(request)
    form = await check_csrf(request)
    _ = gettext_for(language(request))
    current = str(form.get("current", ""))
    new = str(form.get("new", ""))
    error = None
    user, wait = authenticate(request, viewer.name, current)
    if user is None:
        error = (
            _("Too many failed attempts. Try again in %(minutes)d minutes.")
            % {"minutes": max(1, round(wait / 60))}
            if wait
            else _("The current password is wrong.")
        )
    elif len(new) < MIN_PASSWORD:
        error = _("The new password needs at least %(n)d characters.") % {"n": MIN_PASSWORD}
    elif new != str(form.get("repeat", "")):
        error = _("The two new passwords differ.")
    if error:
        data = {**viewer.public(), "language": viewer.language, "error": error}
        return render(
            request,
            "settings.html",
            {"note": None, "error": error, "saved": viewer.language, "data": data},
            status=429 if wait else 422,
        )
    _data(request).set_password(viewer, hash_password(new))
    response = RedirectResponse("/settings?note=password", status_code=303)
    start_session(request, response, user)
    return response
