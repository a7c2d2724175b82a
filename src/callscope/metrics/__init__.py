"""Metrics: pure functions from the canonical tables and a filter to result tables (Ibis).

Every report is `(store, flt, settings, **options) -> Report`; `REPORTS` names them for the CLI,
the REST API and the dashboard. `call_colours` gives the call log its red / yellow / green.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from callscope.metrics.agents import agents
from callscope.metrics.load import load
from callscope.metrics.missed import call_colours, callbacks, missed
from callscope.metrics.pickup import pickup
from callscope.metrics.report import MetricFilter, Report
from callscope.metrics.scope import OUTCOMES
from callscope.metrics.service import GROUPINGS, endpoints, patience, service
from callscope.metrics.summary import summary
from callscope.settings import Settings
from callscope.store import Store

ReportFunction = Callable[..., Report]

REPORTS: dict[str, ReportFunction] = {
    "summary": summary,
    "missed": missed,
    "agents": agents,
    "callbacks": callbacks,
    "service": service,
    "patience": patience,
    "endpoints": endpoints,
    "load": load,
    "pickup": pickup,
}


def run_report(
    name: str, store: Store, flt: MetricFilter, settings: Settings, **options: Any
) -> Report:
    """The report called `name`; options a report does not take are an error naming them."""
    if name not in REPORTS:
        raise ValueError(f"unknown report {name!r}: one of {', '.join(REPORTS)}")
    return REPORTS[name](store, flt, settings, **options)


__all__ = [
    "GROUPINGS",
    "OUTCOMES",
    "REPORTS",
    "MetricFilter",
    "Report",
    "agents",
    "call_colours",
    "callbacks",
    "endpoints",
    "load",
    "missed",
    "patience",
    "pickup",
    "run_report",
    "service",
    "summary",
]
