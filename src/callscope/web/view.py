"""What every page shares: the navigation, the template context, and the one place that turns
a page's tables into HTML, JSON, XLSX or PDF (`?format=`), so a download is the page's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from callscope.assemble.numbers import to_e164
from callscope.settings import Settings
from callscope.web.access import Principal
from callscope.web.api import export_response, subtitle
from callscope.web.deps import PrincipalDep, SettingsDep, TranslatorDep
from callscope.web.export import Section
from callscope.web.i18n import LANG_NAMES, LANGS, Translator
from callscope.web.scope import PERIODS, FilterError, Scope

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")


@dataclass(frozen=True)
class NavItem:
    key: str
    href: str
    icon: str
    keep: bool = True  # carry the period and filters over to this page
    supervisors_only: bool = False


NAV = (
    NavItem("overview", "/", "◉"),
    NavItem("managers", "/managers", "☺"),
    NavItem("calls", "/calls", "☰"),
    NavItem("callbacks", "/callbacks", "↺"),
    NavItem("load", "/load", "▦"),
    NavItem("live", "/live", "◎", keep=False),
    NavItem("settings", "/settings", "⚙", keep=False, supervisors_only=True),
)


@dataclass
class Page:
    """One page's answer before it is rendered: its tables (for exports) and template data."""

    key: str  # nav key, and the file name of exports
    title: str
    template: str
    sections: list[Section] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] = field(default_factory=dict)
    extra_params: dict[str, str] = field(default_factory=dict)  # page filters kept in links
    periods: bool = True  # show the period bar (a customer's history is not per period)


def phone(raw: str | None, region: str) -> str:
    """A number as the pages show every number: E.164 (`74952220002` -> `+74952220002`); an
    extension or a name the PBX used as a line stays as it is."""
    if not raw:
        return "—"
    return to_e164(raw, region, 0) or raw


@dataclass(frozen=True)
class PageContext:
    """What every dashboard page is handed besides its own parameters: the request, the caller,
    their language, the settings and the `?format=` asked for. One dependency, so a page's
    signature names only what is its own (the store, the scope, a path parameter)."""

    request: Request
    settings: Settings
    who: Principal
    t: Translator
    fmt: str

    def respond(self, page: Page, scope: Scope | None) -> Response:
        """The page as `?format=` asked: HTML, JSON, or an export of its sections."""
        request, who, t, settings, fmt = self.request, self.who, self.t, self.settings, self.fmt
        if fmt in ("xlsx", "pdf", "csv"):
            if scope is None:
                raise FilterError("this page has nothing to export")
            return export_response(
                fmt, page.key, page.title, subtitle(scope, t), page.sections, t, settings
            )
        if fmt == "json":
            from fastapi.encoders import jsonable_encoder
            from fastapi.responses import JSONResponse

            return JSONResponse(jsonable_encoder(page.json))
        if fmt != "html":
            raise FilterError(f"unknown format {fmt!r} (html, json, xlsx, pdf or csv)")
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        nav = [n for n in NAV if not (n.supervisors_only and who.is_agent)]
        context: dict[str, Any] = {
            "t": t,
            "who": who,
            "title": page.title,
            "active": page.key,
            "nav": nav,
            "scope": scope,
            "query": scope.query() if scope else "",
            "periods": PERIODS[:-1],
            "show_periods": scope is not None and page.periods,
            "exports": scope is not None and bool(page.sections),
            "extra_params": page.extra_params,
            "here": here,
            "langs": LANGS,
            "lang_names": LANG_NAMES,
            "tz": settings.timezone,
            "agent_names": {ext: cfg.name for ext, cfg in settings.agents.items() if cfg.name},
            "phone": lambda raw: phone(raw, settings.region),
            **page.data,
        }
        return templates.TemplateResponse(request, page.template, context)


def page_context(
    request: Request,
    settings: SettingsDep,
    who: PrincipalDep,
    t: TranslatorDep,
    format: str = Query("html"),
) -> PageContext:
    return PageContext(request, settings, who, t, format)


PageDep = Annotated[PageContext, Depends(page_context)]
