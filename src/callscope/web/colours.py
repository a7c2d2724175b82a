"""The call log's colours and contact statuses, as `callscope.metrics.call_colours` decides them.

design.md section 4: red = missed contact still open with no callback attempt; yellow = callback
attempted but not connected, or resolved outside the SLA; green = answered or resolved in SLA.
This module names the metric's columns the way the log's API shows them, and materialises the
answer once per filter and data stamp in a temporary table, so paging through the log and
exporting it do not recompute every contact's resolution.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import ibis.expr.types as ir

from callscope.metrics.missed import call_colour_rows
from callscope.metrics.report import MetricFilter
from callscope.settings import Settings
from callscope.store import Store
from callscope.web.reports import data_stamp

COLOURS = ("red", "yellow", "green")
KEEP = 16  # filters whose colours stay materialised

_tables: OrderedDict[str, str] = OrderedDict()
_lock = threading.Lock()


def colour_table(store: Store, flt: MetricFilter, settings: Settings) -> ir.Table:
    """call_id, colour, status (the missed contact's status) of the calls the filter covers."""
    key = repr((flt, settings.model_dump_json(), data_stamp(store), id(store)))
    name = "web_colours_" + hashlib.sha256(key.encode()).hexdigest()[:16]
    with _lock:
        if name in _tables:
            _tables.move_to_end(name)
            return store.ibis.table(name)
    rows = call_colour_rows(store, flt, settings)
    store.con.execute(f'DROP TABLE IF EXISTS "{name}"')
    store.con.register(f"{name}_rows", rows)
    try:
        store.con.execute(
            f'CREATE TEMP TABLE "{name}" AS'
            f' SELECT call_id, colour, contact_status AS status FROM "{name}_rows"'
        )
    finally:
        store.con.unregister(f"{name}_rows")
    table: ir.Table = store.ibis.table(name)
    with _lock:
        _tables[name] = name
        while len(_tables) > KEEP:
            old, _ = _tables.popitem(last=False)
            store.con.execute(f'DROP TABLE IF EXISTS "{old}"')
    return table


def forget(store: Store) -> None:
    """Drop the materialised colours (benchmarks measure the cold path with it)."""
    with _lock:
        for name in _tables:
            store.con.execute(f'DROP TABLE IF EXISTS "{name}"')
        _tables.clear()
