"""The contract between the metric layer and everything that shows its numbers.

The CLI (`callscope report`), the REST API, the dashboard, the digests and the notifier all ask
the same question the same way: a report name, a `MetricFilter`, the `Settings`. They get back a
`Report` whose `as_json()` is the documented JSON shape (docs/metrics.md), so the API and the CLI
cannot drift apart. Rows are computed by the engine (Ibis expressions); only the result crosses
into Python, and a big one (a year of missed contacts) stays an Arrow table until a reader asks
for Python rows: writers of JSON and CSV stream it (`callscope.metrics.rowtext`).

How values leave the engine is decided here, once (`arrow_rows`): instants as ISO 8601 times
in the tenant's zone, to the second, with the offset (`2026-01-12T10:00:00+03:00`); days as
`YYYY-MM-DD`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


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


class Report:
    """One report's answer: its rows plus what a reader needs to trust them (period, the settings
    and formulas used).

    `rows` is given as Python rows or as an Arrow table already in the output's terms
    (`arrow_rows`). Python rows of a table are built on first use and kept: a million dicts
    cost seconds, and a consumer that writes JSON or CSV reads `table` instead."""

    def __init__(
        self,
        report: str,
        period: dict[str, Any],  # {"from": "YYYY-MM-DD" | None, "to": ..., "tz": "Europe/Moscow"}
        settings: dict[str, Any],
        rows: list[dict[str, Any]] | pa.Table,
        formulas: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,  # report-specific blocks (e.g. totals)
    ) -> None:
        self.report = report
        self.period = period
        self.settings = settings
        self.formulas: dict[str, str] = formulas if formulas is not None else {}
        self.extra: dict[str, Any] = extra if extra is not None else {}
        self._table: pa.Table | None = rows if isinstance(rows, pa.Table) else None
        self._rows: list[dict[str, Any]] | None = None if isinstance(rows, pa.Table) else rows

    @property
    def rows(self) -> list[dict[str, Any]]:
        if self._rows is None:
            assert self._table is not None
            self._rows = self._table.to_pylist()
        return self._rows

    @rows.setter
    def rows(self, rows: list[dict[str, Any]]) -> None:
        self._rows, self._table = rows, None

    @property
    def table(self) -> pa.Table | None:
        """The rows as Arrow (the same values `rows` has), when the report kept them so."""
        return self._table

    def rows_where(
        self, column: str, values: Sequence[str], limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The rows whose `column` is one of `values`, in order, the first `limit` of them. From
        a kept table only those rows become Python rows (a year's open contacts, not all 986k;
        a page's newest 200, not the year's tens of thousands of open ones)."""
        if self._table is None or self._rows is not None:
            return [r for r in self.rows if r.get(column) in values][:limit]
        keep = pc.is_in(self._table[column], value_set=pa.array(list(values), pa.string()))
        if limit is None:
            kept = self._table.filter(keep)
        else:  # only the first rows are taken, not every matching one copied first
            kept = self._table.take(pc.indices_nonzero(keep).slice(0, limit))
        rows: list[dict[str, Any]] = kept.to_pylist()
        return rows

    @property
    def row_count(self) -> int:
        return self._table.num_rows if self._table is not None else len(self.rows)

    def head(self) -> dict[str, Any]:
        """`as_json()` with its rows left out (`rows` is an empty list in its place)."""
        doc: dict[str, Any] = {
            "report": self.report,
            "period": self.period,
            "settings": self.settings,
            "formulas": self.formulas,
            "rows": [],
        }
        doc.update(self.extra)
        return doc

    def as_json(self) -> dict[str, Any]:
        doc = self.head()
        doc["rows"] = self.rows
        return doc

    def __repr__(self) -> str:
        return f"Report({self.report!r}, {self.period!r}, rows={self.row_count})"


def arrow_rows(table: pa.Table, zone: str) -> pa.Table:
    """The engine's result in the output's terms, column by column: UTC instants (naive, or
    with any zone) as ISO times in `zone` with whole seconds and the offset, days as ISO."""
    columns = []
    for col, kind in zip(table.columns, table.schema, strict=True):
        if pa.types.is_timestamp(kind.type):
            col = iso_instants(col, zone)
        elif pa.types.is_date(kind.type):
            col = col.cast(pa.string())
        columns.append(col)
    return pa.table(columns, names=table.column_names)


def iso_instants(col: pa.ChunkedArray | pa.Array, zone: str) -> pa.ChunkedArray | pa.Array:
    """`2026-01-12T10:00:00+03:00`: the wall time in `zone` and the offset it had then.

    Formatting with a zone (`strftime` under a tz) looks the zone up per value and costs ~2 s a
    million. Instead the wall time is the instant shifted by its offset (`local_timestamp`),
    printed without a zone (a cast), and the offset's text is made once per distinct offset
    (`_zoned_text`, the reference formatting, on one instant that has it)."""
    instant = col.cast(pa.timestamp("s"), safe=False)
    if instant.type.tz is None:
        instant = instant.cast(pa.timestamp("s", tz="UTC"))
    instant = instant.cast(pa.timestamp("s", tz=zone))
    naive = instant.cast(pa.timestamp("s"))  # the same instants, zone dropped (UTC)
    span = pc.min_max(naive)
    lo, hi = span["min"].as_py(), span["max"].as_py()
    if lo is None or lo.year < 1000 or hi.year > 9998:
        return _zoned_text(instant)  # all null, or years the cast would not print as %Y
    wall = pc.local_timestamp(instant)
    text = pc.replace_substring(wall.cast(pa.string()), " ", "T")
    shift = pc.subtract(wall.cast(pa.int64()), naive.cast(pa.int64()))
    seen = pc.unique(shift.drop_null())
    if len(seen) == 1:
        suffix: Any = pa.scalar(_offset_text(instant, shift, seen[0]), pa.string())
    else:
        texts = pa.array([_offset_text(instant, shift, s) for s in seen], pa.string())
        suffix = pc.take(texts, pc.index_in(shift, value_set=seen))
    return pc.binary_join_element_wise(text, suffix, "")


def _offset_text(instant: Any, shift: Any, value: pa.Scalar) -> str:
    """The offset part ("+03:00") the reference formatting gives an instant with this shift."""
    where = pc.index(shift, value).as_py()
    one = _zoned_text(instant.slice(where, 1))[0].as_py()
    return str(one)[19:]


def _zoned_text(instant: Any) -> Any:
    """The reference formatting (strftime under the zone): exact, slow on many values."""
    text = pc.strftime(instant, format="%Y-%m-%dT%H:%M:%S%z")
    return pc.replace_substring_regex(text, pattern=r"([+-]\d\d)(\d\d)$", replacement=r"\1:\2")
