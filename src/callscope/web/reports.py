"""Reports by name, as `callscope report` runs them: the registry of the metric layer.

The web layer adds nothing to a report's figures. It chooses which options a query may pass
(`by` for service), turns an unknown name into a 404 that lists the known ones, and keeps the
last results: a report is a pure function of the store's contents, the filter and the settings,
so a result is reused until the data stamp (row counts and the newest call) changes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from callscope.errors import CallscopeError
from callscope.metrics import GROUPINGS, REPORTS
from callscope.metrics.pickup import pickup
from callscope.metrics.report import MetricFilter, Report
from callscope.settings import Settings
from callscope.store import Store
from callscope.web.scope import FilterError

ReportFn = Callable[..., Report]
CACHE_SIZE = 256
_cache: OrderedDict[tuple[Any, ...], Report] = OrderedDict()
_lock = threading.Lock()

# query parameters a report accepts beyond the scope, with the values allowed
OPTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "service": {"by": GROUPINGS},
}


class UnknownReportError(CallscopeError):
    """Asked for a report the metric layer does not have (answered as 404)."""

    exit_code = 6


def registry() -> dict[str, ReportFn]:
    # `pickup` is served even before callscope.metrics.REPORTS names it (then this is a no-op)
    return {"pickup": pickup, **REPORTS}


def report_names() -> list[str]:
    return sorted(registry())


def run_report(
    name: str,
    store: Store,
    flt: MetricFilter,
    settings: Settings,
    options: dict[str, str] | None = None,
) -> Report:
    reports = registry()
    fn = reports.get(name)
    if fn is None:
        raise UnknownReportError(
            f"no report {name!r} (known: {', '.join(sorted(reports)) or 'none'})"
        )
    allowed = OPTIONS.get(name, {})
    chosen: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if key in allowed:
            if value not in allowed[key]:
                raise FilterError(f"`{key}` must be one of {', '.join(allowed[key])}")
            chosen[key] = value
    cache_key = (
        id(store.con),
        name,
        flt,
        tuple(sorted(chosen.items())),
        settings.model_dump_json(),
        data_stamp(store),
    )
    with _lock:
        hit = _cache.get(cache_key)
        if hit is not None:
            _cache.move_to_end(cache_key)
            return hit
    result = fn(store, flt, settings, **chosen)
    with _lock:
        _cache[cache_key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def data_stamp(store: Store) -> tuple[Any, ...]:
    """Changes whenever an import or a live event adds or closes calls (cheap in DuckDB)."""
    row = store.con.execute(
        "SELECT (SELECT count(*) FROM calls), (SELECT max(ended_at) FROM calls),"
        " (SELECT max(started_at) FROM calls), (SELECT count(*) FROM legs),"
        " (SELECT count(*) FROM agent_states), (SELECT max(import_id) FROM imports)"
    ).fetchone()
    return tuple(row) if row else ()


def clear_cache() -> None:
    with _lock:
        _cache.clear()
