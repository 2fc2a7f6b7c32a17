"""The FastAPI application: pages for people, ``/api/v1`` for scripts, one data layer under both.

``create_app(db_url)`` builds it; ``promoguard serve`` runs it under uvicorn. Every route except the
login page, the token endpoint, ``/healthz`` and the static files needs a logged-in user.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import MutableHeaders

from promoguard import __version__
from promoguard.web import charts, i18n, labels
from promoguard.web.context import (
    ANON_COOKIE,
    LANG_COOKIE,
    LoginRequired,
    csrf_token,
    current_viewer,
    language,
)
from promoguard.web.security import LoginLimiter, Signer

HERE = Path(__file__).parent

#: Every page and response says: no framing, no sniffing, nothing loaded from anywhere else.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def all_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route, through included routers (for the security sweeps)."""
    out: list[tuple[str, str]] = []

    def walk(routes: Any, prefix: str) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                ctx = getattr(route, "include_context", None)
                walk(inner.routes, prefix + (getattr(ctx, "prefix", "") or ""))
                continue
            path = getattr(route, "path", None)
            if path is None:
                continue
            for method in sorted(getattr(route, "methods", None) or {"GET"}):
                if method not in ("HEAD", "OPTIONS"):
                    out.append((method, prefix + path))

    walk(app.routes, "")
    return out


def safe_next(target: str | None) -> str:
    """A local path to go back to; anything that could leave the site becomes ``/``."""
    if not target or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return "/"
    if any(ch in target for ch in "\r\n\\"):
        return "/"
    return target


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return None
    return str(value)


def to_json(obj: Any) -> Any:
    """A JSON-safe copy (datetimes as ISO strings, decimals as strings)."""
    return json.loads(json.dumps(obj, default=_json_default, ensure_ascii=False))


def _environments() -> dict[str, Environment]:
    """One Jinja2 environment per language, each with its catalogue installed (autoescape on)."""
    envs = {}
    for lang in i18n.LANGUAGES:
        env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
        env.globals.update(
            labels=labels,
            label=labels.label,
            charts=charts,
            lang=lang,
            tr=i18n.translations(lang).gettext,  # plain gettext for Python helpers called here
            languages=i18n.LANGUAGE_NAMES,
            version=__version__,
            quote=lambda s: quote(str(s), safe=""),
            labelled=lambda rows, kind, gettext: [
                (gettext(labels.label(kind, k)), n) for k, n in rows
            ],
            severity_colours=lambda gettext: {
                gettext(labels.label(labels.SEVERITIES, k)): v
                for k, v in charts.SEVERITY_COLOURS.items()
            },
        )
        env.filters["when"] = _when
        env.filters["translate_pairs"] = lambda values, kind, gettext: [
            (v, gettext(labels.label(kind, v))) for v in values
        ]
        env.filters["pretty"] = lambda v: json.dumps(
            v, ensure_ascii=False, indent=2, sort_keys=True, default=_json_default
        )
        envs[lang] = env
    return envs


def _when(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text[:16].replace("T", " ")


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page, or its data as JSON when asked (``?format=json`` or ``Accept: application/json``).

    The JSON is the page's ``data`` (what the page shows, already scoped to the viewer), never the
    whole template context, so it carries no CSRF token or internals.
    """
    wants_json = request.query_params.get("format") == "json" or (
        "application/json" in request.headers.get("accept", "")
        and "text/html" not in request.headers.get("accept", "")
    )
    if wants_json:
        return JSONResponse(to_json(context.get("data", {})), status_code=status)
    lang = language(request)
    env = request.app.state.templates[lang]
    viewer = current_viewer(request)
    path = request.url.path
    query = request.url.query
    here = path + (f"?{query}" if query else "")
    html = env.get_template(template).render(
        request=request,
        viewer=viewer,
        csrf_token=csrf_token(request),
        here=here,
        json_url=path + "?" + "&".join(p for p in [query, "format=json"] if p),
        **context,
    )
    return HTMLResponse(html, status_code=status)


class _Headers:
    """Security headers on every response, no-store on pages, the anonymous CSRF cookie.

    A plain ASGI middleware (Starlette's BaseHTTPMiddleware costs a task and a stream per request).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope.get("path", "")
        state = scope.setdefault("state", {})

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in SECURITY_HEADERS.items():
                    if k not in headers:
                        headers[k] = v
                # pages show tenant data: never keep them in a shared cache
                page = path != "/healthz" and not path.startswith("/static/")
                if page and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                new_anon = state.get("new_anon")
                if new_anon:
                    headers.append(
                        "set-cookie",
                        f"{ANON_COOKIE}={new_anon}; HttpOnly; Max-Age=86400; Path=/; SameSite=strict",
                    )
                headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    data: Any,
    *,
    secret: str | None = None,
    limiter: LoginLimiter | None = None,
    secure_cookies: bool = False,
) -> FastAPI:
    """The application over a data layer (``promoguard.web.data.WebData``)."""
    app = FastAPI(
        title="PromoGuard",
        version=__version__,
        description=(
            "Findings, cases, guidance and rectification for promotion-season enforcement. "
            "Get a bearer token with `POST /api/v1/token` (form fields `username`, `password`); "
            "a platform user sees only its own platform's objects."
        ),
        docs_url=None,
        redoc_url=None,
    )
    app.state.data = data
    app.state.signer = Signer(secret)
    app.state.limiter = limiter or LoginLimiter()
    app.state.templates = _environments()
    app.state.secure_cookies = secure_cookies
    app.add_middleware(_Headers)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"detail": "not authenticated"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.query_params.get("format") == "json":
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "detail": exc.detail, "data": {"detail": exc.detail}},
            status=exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        detail = f"bad request: {where}: {first.get('msg', 'invalid')}"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": detail}, status_code=422)
        return render(
            request,
            "error.html",
            {"status": 422, "detail": detail, "data": {"detail": detail}},
            status=422,
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/lang/{code}", include_in_schema=False)
    def set_language(code: str, request: Request, next: str = "/") -> Response:
        """The language switch: remembers the choice in a cookie and goes back to the page."""
        if code not in i18n.LANGUAGES:
            raise HTTPException(status_code=404, detail="no such language")
        target = safe_next(next)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            LANG_COOKIE, code, samesite="lax", path="/", max_age=365 * 86400, httponly=True
        )
        return response

    from promoguard.web import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)
    return app
