"""Managers: the scorecard (the `agents` report, team average rows, red flags) and one manager's
page (daily trend from `service` by day, pickup times, quick hang-ups, paused time in peak hours,
the missed contacts attributed to them from `missed`).

An agent-role user is sent from the scorecard to their own page and may open no one else's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from callscope.metrics.flags import FLAG_NAMES, flagged
from callscope.web.charts import AMBER, BLUE, GREEN, RED, doughnut, series
from callscope.web.deps import (
    ForbiddenError,
    PrincipalDep,
    ScopeDep,
    SettingsDep,
    StoreDep,
    TranslatorDep,
)
from callscope.web.export import Section
from callscope.web.reports import run_report
from callscope.web.view import Page, respond

router = APIRouter()

SCORECARD = (
    "agent_name",
    "team",
    "offered",
    "answered",
    "rang_no_answer",
    "miss_rate",
    "pickup_s_median",
    "quick_hangups",
    "missed_contacts",
    "never_called_back",
    "called_back_within_sla",
    "paused_in_peak_s",
)
CONTACT_COLUMNS = (
    "first_missed_at",
    "external_number",
    "attempts",
    "end_stage",
    "status",
    "resolved_at",
    "time_to_resolution_s",
)


def mark_flags(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Agent rows with `flagged` (columns) and `flags` (names), and the team average rows."""
    averages = [r for r in rows if r.get("kind") == "team_average"]
    by_team = {r.get("team"): r for r in averages}
    agents = []
    for row in rows:
        if row.get("kind") == "team_average":
            continue
        cols = flagged(row, by_team.get(row.get("team")))
        agents.append({**row, "flagged": cols, "flags": [FLAG_NAMES[c][5:] for c in cols]})
    return agents, averages


@router.get("/managers")
def managers(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    scope: ScopeDep,
    who: PrincipalDep,
    t: TranslatorDep,
    format: str = Query("html"),
) -> Response:
    if who.is_agent and format == "html":
        return RedirectResponse(f"/managers/{who.agent}?{scope.query()}", status_code=303)
    report = run_report("agents", store, scope.flt, settings)
    agents, averages = mark_flags(report.rows)
    chart_rows = sorted(agents, key=lambda r: r.get("miss_rate") or 0, reverse=True)
    miss_chart = series(
        "bar",
        [r.get("agent_name") or r["agent"] for r in chart_rows],
        [(t("col.miss_rate"), [r.get("miss_rate") for r in chart_rows], RED)],
        unit="percent",
        horizontal=True,
    )
    title = t("nav.managers")
    page = Page("managers", title, "managers.html")
    labelled = [{**a, "agent_name": f"{t('team_average')}: {a.get('team')}"} for a in averages]
    page.sections = [Section(t("managers.table"), list(SCORECARD), agents + labelled)]
    page.json = report.as_json()
    teams = {r.get("team") for r in agents}
    columns = [c for c in SCORECARD if c != "team" or len(teams) > 1]
    page.data = {
        "columns": columns,
        "agents": agents,
        "averages": averages,
        "miss_chart": miss_chart,
        "chart_height": max(220, 34 * len(chart_rows) + 60),
    }
    return respond(request, page, who=who, t=t, settings=settings, scope=scope, fmt=format)


@router.get("/managers/{agent}")
def manager(
    agent: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    scope: ScopeDep,
    who: PrincipalDep,
    t: TranslatorDep,
    format: str = Query("html"),
) -> Response:
    if who.is_agent and agent != who.agent:
        raise ForbiddenError("an agent sees only their own page")
    cfg = settings.agents.get(agent)
    team = cfg.team if cfg else None
    # the team's report gives this manager's row and the team average beside it
    team_flt = replace(scope.flt, agents=(), teams=(team,)) if team and not who.is_agent else None
    own_flt = replace(scope.flt, agents=(agent,), teams=())
    report = run_report("agents", store, team_flt or own_flt, settings)
    rows, averages = mark_flags(report.rows)
    row = next((r for r in rows if r.get("agent") == agent), None)
    avg = next((a for a in averages if a.get("team") == team), None) if team_flt else None
    daily = run_report("service", store, own_flt, settings, {"by": "day"})
    missed = run_report("missed", store, own_flt, settings)
    name = (row or {}).get("agent_name") or (cfg.name if cfg and cfg.name else agent)
    r = row or {}
    charts = {
        "daily": series(
            "bar",
            [t.date(x["day"], "d MMM") for x in daily.rows],
            [
                (t("kpi.answered"), [x["answered"] for x in daily.rows], GREEN),
                (t("kpi.missed"), [x["missed"] for x in daily.rows], RED),
            ],
            stacked=True,
        ),
        "pickup": series(
            "bar",
            [t.column("pickup_s_mean"), t.column("pickup_s_median"), t.column("pickup_s_p90")],
            [
                (
                    name,
                    [r.get("pickup_s_mean"), r.get("pickup_s_median"), r.get("pickup_s_p90")],
                    BLUE,
                ),
                *(
                    [
                        (
                            t("team_average"),
                            [
                                avg.get("pickup_s_mean"),
                                avg.get("pickup_s_median"),
                                avg.get("pickup_s_p90"),
                            ],
                            "#8391a7",
                        )
                    ]
                    if avg
                    else []
                ),
            ],
            unit="seconds",
        ),
        "quick": doughnut(
            [t.column("quick_hangups_agent_side"), t.column("quick_hangups_caller_side")],
            [r.get("quick_hangups_agent_side") or 0, r.get("quick_hangups_caller_side") or 0],
            [RED, AMBER],
        ),
    }
    contacts = missed.rows
    page = Page("managers", t("manager.title", name=name), "manager.html")
    page.sections = [
        Section(t("managers.table"), list(SCORECARD), [x for x in (row, avg) if x]),
        Section(t("manager.daily"), list(daily.rows[0]) if daily.rows else [], daily.rows),
        Section(t("manager.contacts"), list(CONTACT_COLUMNS), contacts),
    ]
    page.json = {"agents": report.as_json(), "service": daily.as_json(), "missed": missed.as_json()}
    page.data = {
        "row": r,
        "avg": avg or {},
        "charts": charts,
        "contacts": contacts,
        "contact_columns": CONTACT_COLUMNS,
        "has_quick": bool(r.get("quick_hangups")),
    }
    return respond(request, page, who=who, t=t, settings=settings, scope=scope, fmt=format)
