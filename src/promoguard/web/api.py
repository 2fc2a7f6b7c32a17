"""The REST API under ``/api/v1``: the same data layer as the pages, JSON in and out.

Scripts log in with ``POST /api/v1/token`` (OAuth2 password form) and send
``Authorization: Bearer TOKEN``. A browser session may call the API too; its writes then need the
page's CSRF token in ``X-CSRF-Token`` (a bearer token is not sent by the browser on its own, so it
needs none). Lists are ``{"items": [...], "next": cursor}``; another platform's object is a 404.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel

from promoguard.web.context import Viewer, need, require
from promoguard.web.data import expected_version
from promoguard.web.filters import CASE_FILTERS, FINDING_FILTERS, case_filters, finding_filters
from promoguard.web.pages import PAGE_SIZE, authenticate, issue, read_uploads
from promoguard.web.render import to_json
from promoguard.web.security import TOKEN_SECONDS


class Problem(BaseModel):
    """Every error of the API: one line saying what and why (never FastAPI's list of errors)."""

    detail: str


def _problem(why: str) -> dict[str, Any]:
    return {"model": Problem, "description": why}


#: What OpenAPI documents for every route (the app's handlers answer these as ``Problem``)
ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("not logged in, or the token has ended"),
    403: _problem("the role may not do this, or a browser session's write lacks X-CSRF-Token"),
    404: _problem("no such object in the viewer's scope (another platform's is a 404 too)"),
    409: _problem("the case changed (expected_version) or its state does not allow this"),
    422: _problem("a value of the wrong shape, said in one line"),
}

#: Documents the bearer scheme in OpenAPI (the "Authorize" button); checking is done by ``need``.
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/token", auto_error=False)
router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(oauth2)], responses=ERRORS)
#: The routes that need no login (the token itself): no bearer scheme on them in OpenAPI
public = APIRouter(prefix="/api/v1", tags=["api"], responses={422: ERRORS[422]})


def _query(names: tuple[str, ...]) -> dict[str, Any]:
    """OpenAPI's query parameters of a paged list route (read by hand from the query string)."""
    params = [
        {"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in names
    ]
    params += [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 500},
        },
        {
            "name": "after",
            "in": "query",
            "required": False,
            "description": "the previous page's `next`",
            "schema": {"type": "string"},
        },
    ]
    return {"parameters": params}


_TOKEN_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "username": {"type": "string"},
                        "password": {"type": "string", "format": "password"},
                    },
                }
            }
        },
    }
}


def _data(request: Request) -> Any:
    return request.app.state.data


def _404() -> HTTPException:
    return HTTPException(status_code=404, detail="not found")


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit") or str(PAGE_SIZE)
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        raise HTTPException(status_code=422, detail="limit is a number from 1 to 500")
    return int(raw)


async def _write(request: Request) -> tuple[Viewer, dict[str, Any]]:
    """The viewer and the request body (JSON or form), CSRF-checked for cookie sessions.

    The role's permission is checked after the case is found in the viewer's scope, so another
    platform's case answers 404 whatever the role.
    """
    viewer = need(request)
    if viewer.via == "session":
        token = request.headers.get("x-csrf-token")
        if not token or not request.app.state.signer.csrf_ok(viewer.nonce, token):
            raise HTTPException(status_code=403, detail="missing or invalid X-CSRF-Token")
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise HTTPException(status_code=422, detail="the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise HTTPException(status_code=422, detail="the body is a JSON object")
        return viewer, body
    form = await request.form()
    return viewer, {k: form.getlist(k) if k == "attachments" else form.get(k) for k in form}


@public.post(
    "/token",
    summary="Log in: a bearer token for the user (OAuth2 password form)",
    responses={401: ERRORS[401], 429: _problem("too many failed attempts: see Retry-After")},
    openapi_extra=_TOKEN_FORM,
)
async def token(request: Request) -> dict[str, Any]:
    form = await request.form()
    user, wait = authenticate(
        request, str(form.get("username", "")).strip(), str(form.get("password", ""))
    )
    if user is None:
        if wait:
            raise HTTPException(
                status_code=429,
                detail="too many failed attempts; try again later",
                headers={"Retry-After": str(int(wait) + 1)},
            )
        raise HTTPException(
            status_code=401,
            detail="wrong user name or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return {
        "access_token": issue(request, user, "bearer"),
        "token_type": "bearer",
        "expires_in": TOKEN_SECONDS,
    }


@router.post("/logout", summary="End the token (or session) this request carries, on the server")
def logout(request: Request) -> dict[str, Any]:
    viewer = need(request)
    if viewer.via == "session":
        token = request.headers.get("x-csrf-token")
        if not token or not request.app.state.signer.csrf_ok(viewer.nonce, token):
            raise HTTPException(status_code=403, detail="missing or invalid X-CSRF-Token")
    _data(request).end_session(viewer.nonce)
    return {"ended": True}


@router.get("/me", summary="The logged-in user")
def me(request: Request) -> dict[str, Any]:
    return need(request).public()


# -- findings and evidence ------------------------------------------------------------------


@router.get(
    "/findings",
    summary="Findings (filters: check, severity, platform, merchant, ...)",
    openapi_extra=_query(FINDING_FILTERS),
)
def findings(request: Request) -> dict[str, Any]:
    viewer = need(request)
    filters, after = finding_filters(request.query_params)
    rows, next_after = _data(request).findings(viewer.scope, filters, after, _limit(request))
    return to_json({"items": rows, "next": next_after})


@router.get("/findings/{finding_id}", summary="One finding with its evidence")
def finding(finding_id: str, request: Request) -> dict[str, Any]:
    viewer = need(request)
    row = _data(request).finding(viewer.scope, finding_id)
    if row is None:
        raise _404()
    return to_json(row)


@router.get("/evidence/{evidence_sha256}", summary="An evidence document, by its SHA-256")
def evidence(evidence_sha256: str, request: Request) -> dict[str, Any]:
    viewer = need(request)
    doc = _data(request).evidence(viewer.scope, evidence_sha256)
    if doc is None:
        raise _404()
    return to_json(doc)


@router.get("/scans", summary="Scans whose findings are in the case database")
def scans(request: Request) -> dict[str, Any]:
    viewer = need(request)
    return to_json({"items": _data(request).scans(viewer.scope)})


# -- cases --------------------------------------------------------------------------------------


@router.get(
    "/cases",
    summary="Cases, highest priority first (filters: status, platform, ...)",
    openapi_extra=_query(CASE_FILTERS),
)
def cases(request: Request) -> dict[str, Any]:
    viewer = need(request)
    filters, after = case_filters(request.query_params)
    rows, next_after = _data(request).cases(viewer.scope, filters, after, _limit(request))
    return to_json({"items": rows, "next": next_after})


@router.get("/cases/{case_id}", summary="One case: findings, comments, notices, rectifications")
def case(case_id: str, request: Request) -> dict[str, Any]:
    viewer = need(request)
    row = _data(request).case(viewer.scope, case_id, with_audit=viewer.can("audit"))
    if row is None:
        raise _404()
    return to_json(row)


def _case_in_scope(request: Request, viewer: Viewer, case_id: str) -> dict[str, Any]:
    row = _data(request).case(viewer.scope, case_id, with_audit=False)
    if row is None:
        raise _404()
    return row


@router.get("/cases/{case_id}/rectifications", summary="The rectifications reported on a case")
def rectifications(case_id: str, request: Request) -> dict[str, Any]:
    viewer = need(request)
    row = _case_in_scope(request, viewer, case_id)
    return to_json({"items": row.get("rectifications", [])})


@router.post(
    "/cases/{case_id}/rectifications",
    status_code=201,
    summary="Report a rectification (form: note, attachments; or JSON: note)",
)
async def rectify(case_id: str, request: Request) -> dict[str, Any]:
    viewer, body = await _write(request)
    _case_in_scope(request, viewer, case_id)
    require(viewer, "rectify")
    note = str(body.get("note") or "").strip()
    if not note:
        raise HTTPException(status_code=422, detail="note: say what was rectified")
    files = await read_uploads(list(body.get("attachments") or []))
    _data(request).rectify(
        viewer, case_id, note[:10000], files, expected_version(body.get("expected_version"))
    )
    # the case as GET /cases/{id} gives it (assignee, finding_count), as every write answers
    return to_json(_case_in_scope(request, viewer, case_id))


@router.post("/cases/{case_id}/comments", status_code=201, summary="Comment on a case")
async def comment(case_id: str, request: Request) -> dict[str, Any]:
    viewer, body = await _write(request)
    _case_in_scope(request, viewer, case_id)
    require(viewer, "comment")
    text = str(body.get("text") or "").strip()
    if not text:
        raise HTTPException(status_code=422, detail="text: a comment needs some text")
    _data(request).comment(viewer, case_id, text[:5000])
    return {"case_id": case_id}


@router.post("/cases/{case_id}/assign", summary="Assign a case to a user")
async def assign(case_id: str, request: Request) -> dict[str, Any]:
    viewer, body = await _write(request)
    _case_in_scope(request, viewer, case_id)
    require(viewer, "assign")
    _data(request).assign(
        viewer,
        case_id,
        str(body.get("assignee") or ""),
        expected_version(body.get("expected_version")),
    )
    return to_json(_case_in_scope(request, viewer, case_id))


@router.post("/cases/{case_id}/transition", summary="Move a case to another state")
async def transition(case_id: str, request: Request) -> dict[str, Any]:
    viewer, body = await _write(request)
    _case_in_scope(request, viewer, case_id)
    require(viewer, "transition")
    _data(request).transition(
        viewer,
        case_id,
        str(body.get("to") or ""),
        str(body.get("reason") or ""),
        expected_version(body.get("expected_version")),
    )
    return to_json(_case_in_scope(request, viewer, case_id))


@router.post("/cases/{case_id}/guidance", summary="Issue the guidance notice with a deadline")
async def guidance(case_id: str, request: Request) -> dict[str, Any]:
    viewer, body = await _write(request)
    _case_in_scope(request, viewer, case_id)
    require(viewer, "guide")
    try:
        deadline = date.fromisoformat(str(body.get("deadline") or ""))
    except ValueError:
        raise HTTPException(status_code=422, detail="deadline is a date, YYYY-MM-DD") from None
    _data(request).guide(
        viewer,
        case_id,
        deadline,
        str(body.get("text") or ""),
        expected_version(body.get("expected_version")),
    )
    return to_json(_case_in_scope(request, viewer, case_id))


# -- merchants, platforms, users, audit -----------------------------------------------------


@router.get("/merchants/{merchant_id}", summary="A merchant's profile")
def merchant(merchant_id: str, request: Request) -> dict[str, Any]:
    viewer = need(request)
    row = _data(request).merchant(viewer.scope, merchant_id)
    if row is None:
        raise _404()
    return to_json(row)


@router.get("/platforms", summary="Platform scorecards")
def platforms(request: Request) -> dict[str, Any]:
    viewer = need(request)
    return to_json({"items": _data(request).scorecards(viewer.scope)})


@router.get("/platforms/{platform_id}", summary="A platform's scorecard")
def platform(platform_id: str, request: Request) -> dict[str, Any]:
    viewer = need(request)
    row = _data(request).platform(viewer.scope, platform_id)
    if row is None:
        raise _404()
    return to_json(row)


@router.get("/alerts", summary="Consumer alert drafts (消费提示), Chinese and English")
def alerts(request: Request) -> dict[str, Any]:
    viewer = need(request)
    return to_json({"items": _data(request).alerts(viewer.scope)})


@router.get("/users", summary="Users (bureau roles only)")
def users(request: Request) -> dict[str, Any]:
    need(request, "assign")
    return to_json({"items": _data(request).users()})


@router.get("/audit", summary="The audit trail (auditor, analyst, admin)")
def audit(request: Request) -> dict[str, Any]:
    need(request, "audit")
    after = request.query_params.get("after") or None
    events, next_after = _data(request).audit(after, _limit(request))
    return to_json({"items": events, "next": next_after})
