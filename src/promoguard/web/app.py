"""The FastAPI application: pages for people, ``/api/v1`` for scripts, one data layer under both.

``create_app(db_url)`` builds it; ``promoguard serve`` runs it under uvicorn. Every route except the
login page, the token endpoint, ``/healthz`` and the static files needs a logged-in user.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders

from promoguard import __version__
from promoguard.web import api, i18n, pages
from promoguard.web.context import ANON_COOKIE, LANG_COOKIE, LoginRequired
from promoguard.web.render import environments, render, safe_next
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
    app.state.templates = environments()
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

    app.include_router(api.public)
    app.include_router(api.router)
    app.include_router(pages.router)
    return app
