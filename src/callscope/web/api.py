"""The REST API: every report of `callscope report` as JSON, the call log and one customer's
history. Pages call the same functions, so `/api/...` and what a page shows cannot differ.

All routes need a session or a `Bearer` token; an agent-role caller's scope is narrowed to their
own agent before any query runs (`callscope.web.scope`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response, StreamingResponse

from callscope.assemble.numbers import to_e164
from callscope.metrics import rowtext
from callscope.metrics.report import Report
from callscope.settings import Settings
from callscope.web.access import Principal
from callscope.web.calls import COLUMNS, SORTABLE, LogQuery, all_rows, customer_calls, log_page
from callscope.web.deps import (
    PrincipalDep,
    ScopeDep,
    SettingsDep,
    StoreDep,
    TranslatorDep,
)
from callscope.web.export import MEDIA, Section, to_csv, to_pdf, to_xlsx
from callscope.web.i18n import Translator
from callscope.web.reports import report_names, run_report
from callscope.web.scope import FilterError, Scope

router = APIRouter(prefix="/api", tags=["api"])

EXPORTS = ("json", "csv", "xlsx", "pdf")


def _many(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for raw in values or []:
        out += [v.strip() for v in raw.split(",") if v.strip()]
    return tuple(out)


def log_query(
    request: Request, settings: Settings, cursor: str | None = None, limit: int | None = None
) -> LogQuery:
    q = request.query_params
    sort = q.get("sort", "started_at")
    order = q.get("order", "desc")
    if order not in ("asc", "desc"):
        raise FilterError("`order` must be asc or desc")
    if sort not in SORTABLE:
        raise FilterError(f"cannot sort by {sort!r} (one of: {', '.join(SORTABLE)})")
    return LogQuery(
        number=q.get("number") or None,
        outcomes=_many(q.getlist("outcome")),
        colours=_many(q.getlist("colour")),
        statuses=_many(q.getlist("status")),
        end_stages=_many(q.getlist("end_stage")),
        sort=sort,
        descending=order == "desc",
        cursor=cursor,
        limit=limit or settings.web.page_size,
    )


def subtitle(scope: Scope, t: Translator) -> str:
    period = f"{t.date(scope.period.start)} – {t.date(scope.period.end)}"
    extra = [f"{k}: {v}" for k, v in scope.params.items() if k not in ("period", "from", "to")]
    return " · ".join([period, str(t.tz), *extra])


def export_response(
    fmt: str,
    name: str,
    title: str,
    sub: str,
    sections: list[Section],
    t: Translator,
    settings: Settings,
) -> Response:
    """A download of the page's tables; CSV carries the first (main) table only."""
    if fmt == "csv":
        body = to_csv(sections[0].columns, sections[0].rows) if sections else b""
    elif fmt == "xlsx":
        body = to_xlsx(title, sub, sections, t)
    elif fmt == "pdf":
        body = to_pdf(title, sub, sections, t, settings.web.pdf_font)
    else:
        raise FilterError(f"unknown format {fmt!r} (one of: {', '.join(EXPORTS)})")
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def report_columns(report: Report) -> list[str]:
    """The columns a report's export has: every field of its rows, in order (a list prints as
    text). A report kept as Arrow answers from its schema, without building Python rows."""
    if report.table is not None:
        return report.table.column_names if report.row_count else []
    columns: list[str] = []
    for row in report.rows:
        columns += [k for k in row if k not in columns]
    return columns


@router.get("/me", summary="Who the credentials belong to")
def me(who: PrincipalDep) -> dict[str, Any]:
    return {"name": who.name, "tenant": who.tenant, "role": who.role, "agent": who.agent}


@router.get("/reports", summary="Names of the reports /api/reports/{name} serves")
def reports_index(who: PrincipalDep) -> dict[str, Any]:
    return {"reports": report_names()}


@router.get(
    "/reports/{name}", summary="One report: the JSON shape of `callscope report --format json`"
)
def report(
    name: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    scope: ScopeDep,
    t: TranslatorDep,
    format: str = Query("json", description="json, csv, xlsx or pdf"),
    by: str | None = Query(
        None, description="service: hour, day, weekday, week, month, team, queue, line or agent"
    ),
) -> Any:
    options = {"by": by} if by else {}
    result = run_report(name, store, scope.flt, settings, options)
    table = result.table
    if format == "json" and table is not None:
        # A big report streams: its rows go from Arrow to text slice by slice, the same
        # document FastAPI would make of as_json() (jsonable_encoder, then JSONResponse).
        head = jsonable_encoder(result.head())
        chunks = rowtext.json_chunks(result, rowtext.API_JSON, head)
        return StreamingResponse(chunks, media_type="application/json")
    if format == "json":
        return result.as_json()
    if format == "csv" and table is not None:
        chunks = rowtext.csv_chunks(table, report_columns(result))
        return StreamingResponse(
            chunks,
            media_type=MEDIA["csv"],
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return export_response(
        format,
        name,
        t(f"report.{name}"),
        subtitle(scope, t),
        [Section(t(f"report.{name}"), report_columns(result), result.rows)],
        t,
        settings,
    )


def log_row_json(row: dict[str, Any], zone: str) -> dict[str, Any]:
    """Store instants (naive UTC) as ISO 8601 in the tenant's zone, like the reports' times."""
    tz = ZoneInfo(zone)
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, datetime):
            value = value.replace(tzinfo=UTC).astimezone(tz).isoformat()
        elif isinstance(value, date):
            value = value.isoformat()
        out[key] = value
    return out


@router.get("/calls", summary="The call log: filters, sorting, cursor pagination, exports")
def calls(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    scope: ScopeDep,
    t: TranslatorDep,
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    limit: int | None = Query(None, ge=1, le=1000, description="rows per page"),
    format: str = Query("json", description="json, csv or xlsx (exports ignore the cursor)"),
) -> Any:
    q = log_query(request, settings, cursor, limit)
    if format != "json":
        rows = all_rows(store, scope.flt, settings, q)
        return export_response(
            format,
            "calls",
            t("nav.calls"),
            subtitle(scope, t),
            [Section(t("nav.calls"), list(COLUMNS), rows)],
            t,
            settings,
        )
    page = log_page(store, scope.flt, settings, q)
    return {
        "period": {
            "from": scope.period.start.isoformat(),
            "to": scope.period.end.isoformat(),
            "tz": settings.timezone,
        },
        "total": page.total,
        "colours": page.counts,
        "next_cursor": page.next_cursor,
        "rows": [log_row_json(r, settings.timezone) for r in page.rows],
    }


def customer_history(
    number: str, store: Any, settings: Settings, scope: Scope, who: Principal
) -> dict[str, Any]:
    """One customer's calls (with legs), missed contacts and their resolutions."""
    e164 = to_e164(number, settings.region, 0) or number
    rows = customer_calls(store, who.tenant, e164, settings)
    if who.is_agent:
        mine = who.agent
        rows = [
            r
            for r in rows
            if r["answered_by"] == mine or any(leg["agent"] == mine for leg in r["legs"])
        ]
    from dataclasses import replace

    flt = replace(scope.flt, numbers=(e164,), date_from=None, date_to=None)
    contacts = run_report("missed", store, flt, settings).as_json()
    return {
        "number": e164,
        "calls": [
            {
                **log_row_json({k: v for k, v in r.items() if k != "legs"}, settings.timezone),
                "legs": r["legs"],
            }
            for r in rows
        ],
        "missed_contacts": contacts,
    }


@router.get(
    "/customers/{number}",
    summary="One customer's history: calls, legs, missed contacts, resolutions",
)
def customer(
    number: str, store: StoreDep, settings: SettingsDep, scope: ScopeDep, who: PrincipalDep
) -> dict[str, Any]:
    return customer_history(number, store, settings, scope, who)
