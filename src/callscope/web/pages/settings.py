"""The settings page (read-only): the thresholds every figure was computed with, working hours,
agents and teams. It reads the one `Settings` object, so it cannot show a value the reports did
not use. Admins and supervisors only: agents see their figures, not the configuration.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from callscope.settings import Settings
from callscope.web.deps import SupervisorDep
from callscope.web.view import Page, PageDep

router = APIRouter()

GENERAL = ("tenant", "timezone", "region", "lang", "min_talk_s", "quick_hangup_s")
SECTIONS = ("metrics", "schedule")  # nested models shown as their own cards when present


def _flat(model: BaseModel, prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            items += _flat(value, f"{prefix}{name}.")
        else:
            items.append((prefix + name, value))
    return items


def settings_view(settings: Settings) -> dict[str, Any]:
    cards: list[tuple[str, list[tuple[str, Any]]]] = [
        ("general", [(k, getattr(settings, k)) for k in GENERAL])
    ]
    for name in SECTIONS:
        value = getattr(settings, name, None)
        if isinstance(value, BaseModel):
            cards.append((name, _flat(value)))
    agents = [
        {"agent": ext, "name": cfg.name, "team": cfg.team, "aliases": ", ".join(cfg.aliases)}
        for ext, cfg in sorted(settings.agents.items())
    ]
    return {"cards": cards, "agents": agents}


@router.get("/settings")
def settings_page(
    ctx: PageDep,
    _: SupervisorDep,
) -> Response:
    settings, t = ctx.settings, ctx.t
    view = settings_view(settings)
    page = Page("settings", t("nav.settings"), "settings.html", data=view)
    page.json = {
        "cards": {name: dict(items) for name, items in view["cards"]},
        "agents": view["agents"],
    }
    return ctx.respond(page, None)
