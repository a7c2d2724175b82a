"""Callbacks: how missed contacts ended (shares by status), how long resolution took (the
design's buckets), callbacks within the SLA per manager, and the contacts still open — all from
the `callbacks` and `missed` reports.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from callscope.web.charts import AMBER, BLUE, GREEN, RED, doughnut, series
from callscope.web.deps import ScopeDep, StoreDep
from callscope.web.export import Section
from callscope.web.pages.calllog import OPEN_STATUSES
from callscope.web.reports import run_report
from callscope.web.view import Page, PageDep

router = APIRouter()

STATUS_COLOURS = {
    "called_back": GREEN,
    "recalled_by_customer": BLUE,
    "attempted": AMBER,
    "open": RED,
}
OPEN_COLUMNS = ("first_missed_at", "external_number", "attempts", "agent", "end_stage", "status")


@router.get("/callbacks")
def callbacks(
    ctx: PageDep,
    store: StoreDep,
    scope: ScopeDep,
) -> Response:
    settings, t = ctx.settings, ctx.t
    report = run_report("callbacks", store, scope.flt, settings)
    missed = run_report("missed", store, scope.flt, settings)
    shares = [r for r in report.rows if r.get("contacts")]
    histogram = report.extra.get("time_to_resolution", [])
    by_agent = report.extra.get("by_agent", [])
    for row in by_agent:
        row["agent_name"] = settings.agent_name(row.get("agent"))
    # A year holds tens of thousands of open contacts: the page (and its PDF) lists the newest
    # (missed rows are newest first) and links to the call log, which pages through all of
    # them; the XLSX download is the data, a sheet per section, so it keeps every one.
    open_total = sum(int(missed.extra["totals"].get(s, 0)) for s in OPEN_STATUSES)
    shown = None if ctx.fmt == "xlsx" else settings.web.open_contacts_shown
    open_rows = missed.rows_where("status", OPEN_STATUSES, limit=shown)
    open_title = t("callbacks.open")
    if len(open_rows) < open_total:
        open_title += " · " + t(
            "callbacks.open_shown", n=t.number(len(open_rows)), total=t.number(open_total)
        )
    charts = {
        "shares": doughnut(
            [t.value(r["status"]) for r in shares],
            [r["contacts"] for r in shares],
            [STATUS_COLOURS.get(r["status"], "#8391a7") for r in shares],
        ),
        "histogram": series(
            "bar",
            [r["bucket"] for r in histogram],
            [
                (t.column("called_back"), [r.get("called_back") for r in histogram], GREEN),
                (
                    t.column("recalled_by_customer"),
                    [r.get("recalled_by_customer") for r in histogram],
                    BLUE,
                ),
            ],
            stacked=True,
        ),
        "sla": series(
            "bar",
            [r["agent_name"] for r in by_agent],
            [
                (t.column("called_back"), [r.get("called_back") for r in by_agent], BLUE),
                (t.column("within_sla"), [r.get("within_sla") for r in by_agent], GREEN),
            ],
        ),
    }
    sla_columns = ["agent_name", "called_back", "within_sla", "time_to_resolution_s_median"]
    page = Page("callbacks", t("nav.callbacks"), "callbacks.html")
    page.sections = [
        Section(
            t("callbacks.shares"),
            list(report.rows[0]) if report.rows else [],
            report.rows,
            charts["shares"],
        ),
        Section(
            t("callbacks.histogram"),
            list(histogram[0]) if histogram else [],
            histogram,
            charts["histogram"],
        ),
        Section(t("callbacks.sla"), sla_columns, by_agent, charts["sla"]),
        Section(open_title, list(OPEN_COLUMNS), open_rows),
    ]
    if ctx.fmt == "json":  # every contact of the period: only when asked for
        page.json = {"callbacks": report.as_json(), "missed": missed.as_json()}
    page.data = {
        "shares": shares,
        "share_rows": report.rows,
        "charts": charts,
        "by_agent": by_agent,
        "sla_columns": sla_columns,
        "open_rows": open_rows,
        "open_columns": OPEN_COLUMNS,
        "open_total": open_total,
        "open_href": "/calls?" + scope.query(status=",".join(OPEN_STATUSES)),
        "sla_min": report.settings.get("callback_sla_min"),
    }
    return ctx.respond(page, scope)
