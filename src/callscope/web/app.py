"""The application factory: one process serves the REST API (OpenAPI at /docs) and the dashboard.

`create_app(settings)` opens the store named by the settings; tests pass an open store instead.
Errors leave in one envelope — `{"ok": false, "error", "error_id", "status", "details"}` — for
the API, and as a short page (or a redirect to the login form) for a browser.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import ibis
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from callscope.errors import CallscopeError
from callscope.live import http as live_http
from callscope.live.service import LiveService
from callscope.settings import Settings
from callscope.store import Store, open_store
from callscope.web import api, login, pages, view
from callscope.web.deps import (
    Access,
    CsrfError,
    ForbiddenError,
    LoginRequiredError,
    PrincipalDep,
    authenticate,
    language,
)
from callscope.web.export import ExportError
from callscope.web.i18n import Translator
from callscope.web.reports import UnknownReportError
from callscope.web.scope import FilterError
from callscope.web.warm import Warmer

HERE = Path(__file__).resolve().parent
log = logging.getLogger("callscope.web")
_CACHE = {"Cache-Control": "public, max-age=86400"}
# A server (not a test, which passes its store) listens once the first warm-up is over, so the
# first visitors get warm pages instead of a share of the warm-up; uvicorn accepts connections
# only after start-up. A store so big that warming takes longer is served meanwhile.
ACCEPT_AFTER_S = 30.0
VENDOR = {  # URL name -> (path under node_modules, media type)
    "chart.js": ("chart.js/dist/chart.umd.js", "text/javascript"),
    "swagger-ui-bundle.js": ("swagger-ui-dist/swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": ("swagger-ui-dist/swagger-ui.css", "text/css"),
}

_STATUS: list[tuple[type[CallscopeError], int]] = [
    (LoginRequiredError, 401),
    (ForbiddenError, 403),
    (CsrfError, 403),
    (UnknownReportError, 404),
    (FilterError, 400),
    (ExportError, 501),
]


def assets_dir(settings: Settings) -> Path:
    """Where `npm ci` put the browser libraries (node_modules beside this package by default)."""
    return settings.web.assets_dir or HERE / "node_modules"


def _envelope(status: int, error: str, details: object = None) -> dict[str, object]:
    return {
        "ok": False,
        "error": error,
        "error_id": uuid.uuid4().hex[:12],
        "status": status,
        "details": details,
    }


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get(
        "accept", ""
    )


def _install_errors(app: FastAPI, templates: Jinja2Templates) -> None:
    async def callscope_error(request: Request, exc: Exception) -> Response:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
        if status == 500:
            log.error("request failed: %s", exc, exc_info=exc)
        if isinstance(exc, LoginRequiredError) and _wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={target}", status_code=303)
        body = _envelope(status, str(exc))
        if _wants_html(request):
            t = Translator(language(request, app.state.settings, None), app.state.settings.timezone)
            return templates.TemplateResponse(
                request, "error.html", {"t": t, "status": status, "error": body}, status_code=status
            )
        return JSONResponse(body, status_code=status)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        return JSONResponse(_envelope(422, "invalid request parameters", details), status_code=422)

    app.add_exception_handler(CallscopeError, callscope_error)
    app.add_exception_handler(RequestValidationError, validation_error)


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """The ASGI app; with `store` given it is used as is (and not closed) — tests do that."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = store if store is not None else open_store(settings.db)
        app.state.access = Access(opened)
        # live intake writes on its own connection to the same database (DuckDB's MVCC keeps
        # the two apart); the pages' connection stays behind the request lock
        live = LiveService(companion(opened), settings)
        live.start()
        app.state.live = live
        warmer = Warmer(app.state.access, settings) if settings.web.prewarm else None
        if warmer is not None:
            warmer.start()
            if store is None and not await asyncio.to_thread(warmer.ready.wait, ACCEPT_AFTER_S):
                log.warning("still warming after %.0f s: accepting visitors", ACCEPT_AFTER_S)
        try:
            yield
        finally:
            if warmer is not None:
                warmer.stop()
            await live.stop()
            if store is None:
                opened.close()

    app = FastAPI(
        title="callscope",
        summary="Missed calls, callbacks and agent figures from what your PBX records",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served below, behind login, with assets from npm instead of a CDN
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    if store is not None:
        app.state.access = Access(store)
    templates = view.templates
    app.state.templates = templates
    _install_errors(app, templates)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    vendor = assets_dir(settings)
    if not (vendor / VENDOR["chart.js"][0]).exists():
        log.warning("browser assets missing in %s: run `npm ci --prefix src/callscope/web`", vendor)

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor_file(name: str) -> Response:
        # only the files the pages load, never the whole node_modules tree
        if name not in VENDOR or not (vendor / VENDOR[name][0]).exists():
            return Response("not installed (npm ci --prefix src/callscope/web)", status_code=404)
        path, media = VENDOR[name]
        return FileResponse(vendor / path, media_type=media, headers=_CACHE)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(who: PrincipalDep) -> dict[str, Any]:
        return app.openapi()

    @app.get("/docs", include_in_schema=False)
    def docs(who: PrincipalDep) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="callscope API",
            swagger_js_url="/vendor/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    @app.get("/health", tags=["health"], summary="Liveness: answers without credentials")
    def health() -> dict[str, object]:
        return {"ok": True}

    app.include_router(login.router)
    app.include_router(api.router)
    # webhooks authenticate by their HMAC signature; the board and its stream by login or token
    app.include_router(live_http.router, dependencies=[Depends(live_guard)])
    app.include_router(pages.router)
    return app


def companion(store: Store) -> Store:
    """A second connection to the same open database, for work on another thread."""
    cursor = store.con.cursor()
    cursor.execute("SET TimeZone = 'UTC'")
    return Store(ibis=ibis.duckdb.from_connection(cursor), con=cursor, path=store.path)


def live_guard(request: Request) -> None:
    if request.url.path.startswith("/api/webhooks/"):
        return
    who = authenticate(request)
    if who.is_agent:
        # the whole board names every colleague's caller; an agent's own card is on /live
        # (and /live?format=json), narrowed on the server
        raise ForbiddenError("an agent sees only their own card: open /live")
