"""The contract between the metric layer and everything that shows its numbers.

The CLI (`callscope report`), the REST API, the dashboard, the digests and the notifier all ask
the same question the same way: a report name, a `MetricFilter`, the `Settings`. They get back a
`Report` whose `as_json()` is the documented JSON shape (docs/metrics.md), so the API and the CLI
cannot drift apart. Rows are computed by the engine (Ibis expressions); only the small result
crosses into Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class MetricFilter:
    """Which calls a report looks at. Days are tenant-local and inclusive; empty tuples mean all."""

    date_from: date | None = None
    date_to: date | None = None
    tenant: str | None = None
    teams: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()  # customers' numbers, E.164 (one customer's history)
    direction: str | None = None  # inbound | outbound | internal


@dataclass
class Report:
    """One report's answer: its rows plus what a reader needs to trust them (period, the settings
    and formulas used)."""

    report: str
    period: dict[str, Any]  # {"from": "YYYY-MM-DD" | None, "to": ..., "tz": "Europe/Moscow"}
    settings: dict[str, Any]
    rows: list[dict[str, Any]]
    formulas: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # report-specific blocks (e.g. totals)

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "report": self.report,
            "period": self.period,
            "settings": self.settings,
            "formulas": self.formulas,
            "rows": self.rows,
        }
        doc.update(self.extra)
        return doc
