"""Managers: the scorecard (the `agents` report, team average rows, red flags) and one manager's
page (daily trend from `service` by day, pickup times, quick hang-ups, paused time in peak hours,
the missed contacts attributed to them from `missed`).

An agent-role user is sent from the scorecard to their own page and may open no one else's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from callscope.metrics.flags import FLAG_NAMES, flagged
from callscope.web.charts import AMBER, BLUE, GREEN, GREY, RED, doughnut, series
from callscope.web.deps import (
    ForbiddenError,
    ScopeDep,
    StoreDep,
)
from callscope.web.export import Section
from callscope.web.i18n import Translator
from callscope.web.reports import run_report
from callscope.web.view import Page, PageDep

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

PICKUP_FIGURES = ("pickup_s_mean", "pickup_s_median", "pickup_s_p90")
HISTOGRAM = (
    "pickup_bucket",
    "pickup_legs",
    "pickup_share",
    "team_pickup_legs",
    "team_pickup_share",
)


def pickup_histogram(
    rows: list[dict[str, Any]], agent: str, team: str | None
) -> list[dict[str, Any]]:
    """The `pickup` report's buckets of one agent beside their team's (`unknown`, the legs
    without a ring start, only when there are some)."""
    own = {r["pickup_bucket"]: r for r in rows if r["kind"] == "agent" and r.get("agent") == agent}
    mates = {
        r["pickup_bucket"]: r
        for r in rows
        if r["kind"] == "team" and team and r.get("team") == team
    }
    order = [r["pickup_bucket"] for r in rows if r["kind"] == rows[0]["kind"]] if rows else []
    order = list(dict.fromkeys(order))
    out = []
    for bucket in order:
        mine, theirs = own.get(bucket, {}), mates.get(bucket, {})
        out.append(
            {
                "bucket": bucket,
                "from_s": (mine or theirs).get("from_s"),
                "to_s": (mine or theirs).get("to_s"),
                "pickup_legs": mine.get("answered", 0),
                "pickup_share": mine.get("share"),
                "team_pickup_legs": theirs.get("answered", 0) if theirs else None,
                "team_pickup_share": theirs.get("share"),
            }
        )
    return [b for b in out if b["from_s"] is not None or b["pickup_legs"] or b["team_pickup_legs"]]


def bucket_label(t: Translator, bucket: dict[str, Any]) -> str:
    lo, hi = bucket.get("from_s"), bucket.get("to_s")
    if lo is None:
        return t("pickup.unknown")
    return t("unit.s", n=f"{lo:g}–{hi:g}" if hi is not None else f"{lo:g}+")


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
    ctx: PageDep,
    store: StoreDep,
    scope: ScopeDep,
) -> Response:
    settings, who, t = ctx.settings, ctx.who, ctx.t
    if who.is_agent and ctx.fmt == "html":
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
    page.sections = [
        Section(t("managers.table"), list(SCORECARD), agents + labelled),
        Section(
            t("managers.miss_chart"),
            ["agent_name", "team", "offered", "rang_no_answer", "miss_rate"],
            chart_rows,
            miss_chart,
        ),
    ]
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
    return ctx.respond(page, scope)


@router.get("/managers/{agent}")
def manager(
    ctx: PageDep,
    agent: str,
    store: StoreDep,
    scope: ScopeDep,
) -> Response:
    settings, who, t = ctx.settings, ctx.who, ctx.t
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
    pickup = run_report("pickup", store, team_flt or own_flt, settings)
    team_hist = bool(team_flt) and any(
        r["kind"] == "team" and r.get("team") == team for r in pickup.rows
    )
    histogram = pickup_histogram(pickup.rows, agent, team if team_hist else None)
    name = (row or {}).get("agent_name") or settings.agent_name(agent) or agent
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
            [bucket_label(t, b) for b in histogram],
            [
                (name, [b["pickup_share"] for b in histogram], BLUE),
                *(
                    [
                        (
                            f"{t.column('team')}: {team}",
                            [b["team_pickup_share"] for b in histogram],
                            GREY,
                        )
                    ]
                    if team_hist
                    else []
                ),
            ],
            unit="percent",
        ),
        "quick": doughnut(
            [t.column("quick_hangups_agent_side"), t.column("quick_hangups_caller_side")],
            [r.get("quick_hangups_agent_side") or 0, r.get("quick_hangups_caller_side") or 0],
            [RED, AMBER],
        ),
    }
    contacts = missed.rows
    scorecard = [row] if row else []
    if avg:  # the team's row says whose average it is, as on the scorecard page
        scorecard.append({**avg, "agent_name": f"{t('team_average')}: {team}"})
    page = Page("managers", t("manager.title", name=name), "manager.html")
    page.sections = [
        Section(t("managers.table"), list(SCORECARD), scorecard),
        Section(
            t("manager.daily"),
            [c for c in (daily.rows[0] if daily.rows else []) if not c.startswith("outcome_")],
            daily.rows,
            charts["daily"],
        ),
        Section(
            t("manager.pickup_dist"),
            [c for c in HISTOGRAM if team_hist or not c.startswith("team_")],
            [{**b, "pickup_bucket": bucket_label(t, b)} for b in histogram],
            charts["pickup"],
        ),
        Section(t("manager.contacts"), list(CONTACT_COLUMNS), contacts),
    ]
    page.json = {
        "agents": report.as_json(),
        "service": daily.as_json(),
        "pickup": pickup.as_json(),
        "missed": missed.as_json(),
    }
    page.data = {
        "row": r,
        "avg": avg or {},
        "charts": charts,
        "contacts": contacts,
        "contact_columns": CONTACT_COLUMNS,
        "has_quick": bool(r.get("quick_hangups")),
        "pickup_figures": [
            {"who": name, **{k: r.get(k) for k in PICKUP_FIGURES}},
            *(
                [{"who": t("team_average"), **{k: avg.get(k) for k in PICKUP_FIGURES}}]
                if avg
                else []
            ),
        ],
        "pickup_columns": ("who", *PICKUP_FIGURES),
    }
    return ctx.respond(page, scope)
