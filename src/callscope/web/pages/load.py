"""Load: the weekday x hour heatmap, weekdays against the weekend, peak hours, how calls spread
across managers (`load`), the patience funnel (`patience`) and where callers hang up
(`endpoints`). The heatmap's shading is the cell's calls relative to the busiest cell.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from callscope.web.charts import AMBER, BLUE, RED, series
from callscope.web.deps import ScopeDep, StoreDep
from callscope.web.export import Section
from callscope.web.i18n import Translator
from callscope.web.reports import run_report
from callscope.web.view import Page, PageDep

router = APIRouter()

HOURS = range(24)


def heat_cells(rows: list[dict[str, Any]]) -> list[list[dict[str, Any] | None]]:
    """7 x 24 grid (Monday first) of the report's rows, each with a shade 0..1 for its colour."""
    busiest = max((r.get("offered") or 0 for r in rows), default=0)
    grid: list[list[dict[str, Any] | None]] = [[None] * 24 for _ in range(7)]
    for row in rows:
        wd, hour = int(row["weekday"]) - 1, int(row["hour"])
        if 0 <= wd < 7 and 0 <= hour < 24:
            shade = (row.get("offered") or 0) / busiest if busiest else 0
            grid[wd][hour] = {**row, "shade": round(shade, 3)}
    return grid


def cell_style(shade: float) -> str:
    """Blue ramp; text turns white where the background gets dark (contrast >= 4.5)."""
    light, dark = (239, 244, 255), (29, 78, 216)
    rgb = [round(a + (b - a) * shade) for a, b in zip(light, dark, strict=True)]
    ink = "#ffffff" if shade > 0.45 else "#172033"
    return f"background: rgb({rgb[0]},{rgb[1]},{rgb[2]}); color: {ink}"


def heat_section(t: Translator, grid: list[list[dict[str, Any] | None]]) -> Section:
    """The heatmap as a table for exports: a row per weekday, a column per hour with calls."""
    hours = sorted({h for row in grid for h, cell in enumerate(row) if cell})
    rows = [
        {"weekday": t.weekday(i), **{f"{h:02d}": (row[h] or {}).get("offered") for h in hours}}
        for i, row in enumerate(grid)
    ]
    return Section(t("load.heatmap"), ["weekday", *(f"{h:02d}" for h in hours)], rows)


@router.get("/load")
def load(
    ctx: PageDep,
    store: StoreDep,
    scope: ScopeDep,
) -> Response:
    settings, t = ctx.settings, ctx.t
    report = run_report("load", store, scope.flt, settings)
    patience = run_report("patience", store, scope.flt, settings)
    endpoints = run_report("endpoints", store, scope.flt, settings)
    parts = report.extra.get("weekday_vs_weekend", [])
    peaks = report.extra.get("peak_hours", [])
    spread = report.extra.get("agents", [])
    for row in spread:
        row["agent_name"] = settings.agent_name(row.get("agent"))
    charts = {
        "parts": series(
            "bar",
            [t.value(p["part"]) for p in parts],
            [
                (t.column("offered"), [p["offered"] for p in parts], BLUE),
                (t.column("missed"), [p["missed"] for p in parts], RED),
            ],
        ),
        "spread": series(
            "bar",
            [r["agent_name"] for r in spread],
            [(t.column("share"), [r.get("share") for r in spread], BLUE)],
            unit="percent",
            horizontal=True,
        ),
        "patience": series(
            "bar",
            [str(r["waited"]).replace("<=", "≤ ") for r in patience.rows],
            [(t.column("calls"), [r["calls"] for r in patience.rows], AMBER)],
        ),
        "endpoints": series(
            "bar",
            [t.value(r["endpoint"]) for r in endpoints.rows],
            [(t.column("calls"), [r["calls"] for r in endpoints.rows], RED)],
            horizontal=True,
        ),
    }
    grid = heat_cells(report.rows)
    page = Page("load", t("nav.load"), "load.html")
    page.sections = [
        heat_section(t, grid),
        Section(
            t("load.weekdays"),
            ["part", "offered", "missed", "missed_share"],
            parts,
            charts["parts"],
        ),
        Section(
            t("load.spread"),
            ["agent_name", *(c for c in (spread[0] if spread else {}) if "agent" not in c)],
            spread,
            charts["spread"],
        ),
        Section(
            t("load.patience"),
            list(patience.rows[0]) if patience.rows else [],
            patience.rows,
            charts["patience"],
        ),
        Section(
            t("load.endpoints"),
            list(endpoints.rows[0]) if endpoints.rows else [],
            endpoints.rows,
            charts["endpoints"],
        ),
    ]
    page.json = {
        "load": report.as_json(),
        "patience": patience.as_json(),
        "endpoints": endpoints.as_json(),
    }
    page.data = {
        "grid": [
            (t.weekday(i), [(h, c, cell_style(c["shade"]) if c else "") for h, c in enumerate(row)])
            for i, row in enumerate(grid)
        ],
        "hours": HOURS,
        "parts": parts,
        "peaks": peaks,
        "peak_text": ", ".join(
            f"{int(p['hour']):02d}:00–{int(p['hour']) + 1:02d}:00" for p in peaks
        ),
        "spread": spread,
        "gini": report.extra.get("gini"),
        "charts": charts,
        "spread_height": max(200, 30 * len(spread) + 60),
        "patience_rows": patience.rows,
        "endpoint_rows": endpoints.rows,
    }
    return ctx.respond(page, scope)
