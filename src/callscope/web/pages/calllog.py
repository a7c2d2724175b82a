"""The call log page (colours, the one-click "missed control" filter) and a customer's history.

"Missed control" is the morning routine of a head of sales: the open missed contacts (red rows:
nobody has called back or even tried), of everyone or of one manager. It is the log with
`status=open`, one click away, and it keeps the manager chosen.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from callscope.model import EndStage
from callscope.settings import Settings
from callscope.web.api import customer_history, log_query, log_row_json
from callscope.web.calls import COLUMNS, SORTABLE, all_rows, log_page
from callscope.web.colours import COLOURS
from callscope.web.deps import ScopeDep, StoreDep
from callscope.web.export import Section
from callscope.web.view import Page, PageDep, phone

router = APIRouter()

SHOWN = (
    "started_at",
    "external_number",
    "line",
    "outcome",
    "end_stage",
    "answered_by",
    "wait_s",
    "talk_s",
    "status",
)
OUTCOMES = ("answered", "missed", "abandoned", "abandoned_short", "voicemail", "after_hours")
STATUSES = ("open", "attempted", "called_back", "recalled_by_customer")  # the order a reader scans
OPEN_STATUSES = ("open", "attempted")  # nobody reached the customer yet
# The status filter's choices (value, catalogue word): both open ones together first, as the
# callbacks page links to them.
STATUS_CHOICES = ((",".join(OPEN_STATUSES), "not_reached"), *((s, s) for s in STATUSES))
END_STAGES = tuple(EndStage)
LOG_PARAMS = ("number", "outcome", "colour", "status", "end_stage", "sort", "order")


def agent_choices(settings: Settings) -> list[tuple[str, str]]:
    """(agent id, label) of the configured agents, by name."""
    pairs = [(ext, cfg.name or ext) for ext, cfg in settings.agents.items()]
    return sorted(pairs, key=lambda p: p[1])


@router.get("/calls")
def calls_page(
    ctx: PageDep,
    store: StoreDep,
    scope: ScopeDep,
    cursor: str | None = None,
) -> Response:
    request, settings, t = ctx.request, ctx.settings, ctx.t
    q = log_query(request, settings, cursor)
    extra = {k: request.query_params[k] for k in LOG_PARAMS if request.query_params.get(k)}
    title = t("nav.calls")
    page = Page("calls", title, "calls.html", extra_params=extra)
    if ctx.fmt in ("xlsx", "pdf", "csv"):
        rows = [
            {
                **r,
                "answered_by": settings.agent_name(r["answered_by"]),
                "line": phone(r["line"], settings.region) if r["line"] else None,
            }
            for r in all_rows(store, scope.flt, settings, q)
        ]
        page.sections = [Section(title, ["direction", *SHOWN], rows)]
        return ctx.respond(page, scope)
    log = log_page(store, scope.flt, settings, q)
    for row in log.rows:
        row["agent_label"] = settings.agent_name(row["answered_by"])
    page.sections = [Section(title, list(SHOWN), [])]  # exports re-query without the cursor
    page.json = {
        "total": log.total,
        "colours": log.counts,
        "next_cursor": log.next_cursor,
        "rows": [log_row_json(r, settings.timezone) for r in log.rows],
    }
    control = scope.query(**{**extra, "status": "open", "colour": None, "outcome": None})
    page.data = {
        "log": log,
        "shown": SHOWN,
        "columns": COLUMNS,
        "q": q,
        "selected": extra,
        "agent": request.query_params.get("agent", ""),
        "agents": agent_choices(settings),
        "teams": sorted({c.team for c in settings.agents.values() if c.team}),
        "outcomes": OUTCOMES,
        "colours": COLOURS,
        "statuses": STATUS_CHOICES,
        "end_stages": END_STAGES,
        "sortable": SORTABLE,
        "control_href": "/calls?" + control,
        "control_on": extra.get("status") == "open",
        "next_href": (
            "/calls?" + scope.query(**{**extra, "cursor": log.next_cursor})
            if log.next_cursor
            else None
        ),
        "first_href": "/calls?" + scope.query(**extra) if cursor else None,
    }
    return ctx.respond(page, scope)


@router.get("/customers/{number}")
def customer_page(
    ctx: PageDep,
    number: str,
    store: StoreDep,
    scope: ScopeDep,
) -> Response:
    settings, who, t = ctx.settings, ctx.who, ctx.t
    history = customer_history(number, store, settings, scope, who)
    contacts: list[dict[str, Any]] = (history["missed_contacts"] or {}).get("rows", [])
    title = t("customer.title", number=history["number"])
    page = Page("calls", title, "customer.html", periods=False)
    page.sections = [
        Section(
            t("customer.calls"),
            [c for c in COLUMNS if c not in ("call_id", "colour", "status")],
            history["calls"],
        ),
        Section(t("customer.contacts"), _contact_columns(contacts), contacts),
    ]
    page.json = history
    page.data = {
        "history": history,
        "contacts": contacts,
        "subtitle": t("customer.all_time"),
        "contact_columns": _contact_columns(contacts),
    }
    return ctx.respond(page, scope)


def _contact_columns(rows: list[dict[str, Any]]) -> list[str]:
    wanted = (
        "first_missed_at",
        "attempts",
        "agent",
        "status",
        "resolved_at",
        "time_to_resolution_s",
        "within_sla",
    )
    present = set(rows[0]) if rows else set(wanted)
    return [c for c in wanted if c in present]
