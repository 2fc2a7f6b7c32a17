"""Rendering: the Jinja2 environments (one per language), pages or their JSON, small helpers.

Kept apart from ``app`` so that the route modules import it without importing the application.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from promoguard import __version__
from promoguard.web import charts, i18n, labels
from promoguard.web.context import csrf_token, current_viewer, language

HERE = Path(__file__).parent


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


def environments() -> dict[str, Environment]:
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
