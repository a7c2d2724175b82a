"""Overview: the morning digest of a period, against the period before it.

Figures: the `summary` report of both periods (the trend is the pair, shown side by side), the
`service` report by day (by hour for a single day) for the chart, `endpoints` for where missed
calls ended, and the summary's worst agents as the top-5 missers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from callscope.web.charts import AMBER, BLUE, GREEN, GREY, RED, doughnut, series
from callscope.web.deps import ScopeDep, StoreDep
from callscope.web.export import Section
from callscope.web.i18n import Translator
from callscope.web.reports import run_report
from callscope.web.scope import Period
from callscope.web.view import Page, PageDep

router = APIRouter()


@dataclass(frozen=True)
class Kpi:
    key: str
    unit: str  # number | percent | seconds
    better: str  # up | down: which direction of change is good
    alert: bool = False


KPIS = (
    Kpi("offered", "number", "up"),
    Kpi("answered", "number", "up"),
    Kpi("missed", "number", "down", alert=True),
    Kpi("asr", "percent", "up"),
    Kpi("asa_s", "seconds", "down"),
    Kpi("service_level", "percent", "up"),
    Kpi("open_contacts", "number", "down", alert=True),
    Kpi("called_back_within_sla", "number", "up"),
)
TREND_COLUMNS = ("offered", "answered", "missed", "asr", "asa_s", "service_level", "abandon_rate")
STAGE_COLOURS = (RED, AMBER, BLUE, "#7c3aed", "#0e7490", GREY, "#be185d", GREEN)


def trend_grouping(period: Period) -> str:
    """The trend chart's bars: by hour for a single day, else by day (the warm-up asks the
    same, so the default period's first visit finds its `service` report computed)."""
    return "hour" if period.days == 1 else "day"


def show(t: Translator, unit: str, value: Any) -> str:
    if unit == "percent":
        return t.percent(value)
    if unit == "seconds":
        return t.duration(value)
    return t.number(value)


def trend(t: Translator, kpi: Kpi, now: Any, before: Any) -> dict[str, str]:
    """The previous period's value, and which way it moved (a comparison, not a new figure)."""
    if now is None or before is None:
        return {"text": "", "css": "", "before": show(t, kpi.unit, before)}
    if now == before:
        return {"text": f"= {t('no_change')}", "css": "", "before": show(t, kpi.unit, before)}
    up = now > before
    arrow = "▲" if up else "▼"
    good = up == (kpi.better == "up")
    css = ("up-" if up else "down-") + ("good" if good else "bad")
    text = f"{arrow} {t('vs_previous', v=show(t, kpi.unit, before))}"
    return {"text": text, "css": css, "before": show(t, kpi.unit, before)}


@router.get("/")
def overview(
    ctx: PageDep,
    store: StoreDep,
    scope: ScopeDep,
) -> Response:
    settings, t = ctx.settings, ctx.t
    summary = run_report("summary", store, scope.flt, settings)
    previous = run_report("summary", store, scope.previous().flt, settings)
    by = trend_grouping(scope.period)
    single_day = by == "hour"
    service = run_report("service", store, scope.flt, settings, {"by": by})
    endpoints = run_report("endpoints", store, scope.flt, settings)
    now = summary.rows[0] if summary.rows else {}
    before = previous.rows[0] if previous.rows else {}
    kpis: list[dict[str, Any]] = [
        {
            "key": k.key,
            "label": t(f"kpi.{k.key}"),
            "value": show(t, k.unit, now.get(k.key)),
            "of": (
                t("kpi.of_contacts", n=t.number(now.get("missed_contacts")))
                if k.key == "called_back_within_sla"
                else ""
            ),
            "alert": k.alert and bool(now.get(k.key)),
            "trend": trend(t, k, now.get(k.key), before.get(k.key)),
        }
        for k in KPIS
    ]
    labels = [
        t.date(r["day"], "d MMM") if by == "day" else f"{int(r['hour']):02d}:00"
        for r in service.rows
    ]
    trend_chart = series(
        "bar",
        labels,
        [
            (t("kpi.answered"), [r["answered"] for r in service.rows], GREEN),
            (t("kpi.missed"), [r["missed"] for r in service.rows], RED),
        ],
        stacked=True,
    )
    stages = [r for r in endpoints.rows if r.get("calls")]
    stage_chart = doughnut(
        [t.value(r["endpoint"]) for r in stages],
        [r["calls"] for r in stages],
        STAGE_COLOURS[: len(stages)],
    )
    worst: list[dict[str, Any]] = summary.extra.get("worst_agents", [])
    worst_cols = [
        c
        for c in ("agent_name", "offered", "rang_no_answer", "miss_rate", "never_called_back")
        if not worst or c in worst[0]
    ]
    title = t("nav.overview")
    page = Page("overview", title, "overview.html")
    digest = [
        {"indicator": k["label"], "value": k["value"], "previous": k["trend"]["before"]}
        for k in kpis
    ]
    page.sections = [
        Section(t("report.summary"), ["indicator", "value", "previous"], digest),
        Section(t("overview.worst"), worst_cols, worst),
        Section(t("overview.trend"), [by, *TREND_COLUMNS], service.rows, trend_chart),
        Section(t("overview.stages"), ["endpoint", "calls", "share"], endpoints.rows, stage_chart),
    ]
    page.json = {
        "summary": summary.as_json(),
        "previous": previous.as_json(),
        "service": service.as_json(),
        "endpoints": endpoints.as_json(),
    }
    page.data = {
        "kpis": kpis,
        "trend_chart": trend_chart,
        "trend_title": t("overview.trend_hour" if single_day else "overview.trend"),
        "stage_chart": stage_chart,
        "stages": stages,
        "worst": worst,
        "worst_cols": worst_cols,
        "worst_min": summary.settings.get("worst_agents_min_offered"),
        "open_contacts": now.get("open_contacts") or 0,
        "control_href": "/calls?" + scope.query(status="open"),
    }
    return ctx.respond(page, scope)
