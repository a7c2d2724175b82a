"""A day of live AMI events gives the calls a batch import of the same PBX's logs gives.

The asterisk-real sample holds one AMI session (ami-events.txt) recorded while the same Asterisk
wrote Master.csv, cel.csv and queue_log. Replayed through the live intake (inbox, then the
incremental driver every few hundred events, as a stream would arrive), the calls and legs must
equal the batch import's, column by column; times may differ by the few hundred microseconds
between the moment Asterisk stamps an AMI event and the CEL row of the same change.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from callscope.importer import import_files
from callscope.live.ami_text import event_json, read_events
from callscope.live.driver import AMI, Driver
from callscope.live.inbox import TABLE as INBOX
from callscope.live.inbox import Inbox, Incoming
from callscope.settings import Settings
from callscope.store import Store, open_store
from ground_truth import differences, load_truth

# Master.csv and queue_log stamp whole seconds; the call's start (and so its wait) and the queue
# entry time of a batch import that includes them come from those, up to a second earlier.
# (legs carry their call's start as call_started_at: the same whole-second stamp)
WHOLE_SECOND_COLUMNS = {"started_at", "wait_s", "queue_entered_at", "call_started_at"}


def _rows(store: Store, table: str, order: str) -> list[dict[str, Any]]:
    cur = store.con.execute(f"SELECT * EXCLUDE (source) FROM {table} ORDER BY {order}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _same(a: object, b: object, tolerance: float) -> bool:
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return abs((a - b).total_seconds()) <= tolerance
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= tolerance
    return a == b


def table_differences(
    live: Store, batch: Store, *, tolerance: float = 0.05, skip: set[str] | None = None
) -> list[str]:
    found: list[str] = []
    for table, order in (("calls", "call_id"), ("legs", "call_id, leg_no")):
        ours, theirs = _rows(live, table, order), _rows(batch, table, order)
        if len(ours) != len(theirs):
            found.append(f"{table}: {len(ours)} rows live, {len(theirs)} batch")
        for a, b in zip(ours, theirs, strict=False):
            for col, value in a.items():
                if col in (skip or set()):
                    continue
                if not _same(value, b[col], tolerance):
                    found.append(f"{table} {a['call_id']} {col}: {value!r} != {b[col]!r}")
    return found


def replay(store: Store, settings: Settings, events: list[dict[str, str]], every: int) -> None:
    inbox, driver = Inbox(store, settings.tenant), Driver(store, settings)
    for start in range(0, len(events), every):
        chunk = events[start : start + every]
        inbox.write(
            [
                Incoming(AMI, event_json(e), e.get("Linkedid") or e.get("DestLinkedid"))
                for e in chunk
            ]
        )
        driver.step()
    driver.step(flush=True)


def test_a_replayed_day_equals_the_batch_import(shared: Path, real_settings: Settings) -> None:
    folder = shared / "pbx-samples" / "asterisk-real"
    events = read_events(folder / "ami-events.txt")
    with open_store(None) as live, open_store(None) as cel, open_store(None) as logs:
        replay(live, real_settings, events, every=400)
        import_files(cel, [folder / "cel.csv"], settings=real_settings)
        import_files(
            logs,
            [folder / f for f in ("Master.csv", "cel.csv", "queue_log")],
            settings=real_settings,
        )
        assert differences(live, load_truth(folder)) == []
        assert table_differences(live, cel) == []
        assert table_differences(live, logs, skip=WHOLE_SECOND_COLUMNS) == []
        inbox_left = live.con.execute(f"SELECT count(*) FROM {INBOX}").fetchone()
        assert inbox_left == (0,)


def test_replaying_the_session_twice_changes_nothing(shared: Path, real_settings: Settings) -> None:
    events = read_events(shared / "pbx-samples" / "asterisk-real" / "ami-events.txt")
    with open_store(None) as once, open_store(None) as twice:
        replay(once, real_settings, events, every=5000)
        replay(twice, real_settings, events, every=5000)
        replay(twice, real_settings, events[:3000], every=1000)  # a reconnect re-sends a part
        assert table_differences(twice, once, tolerance=0) == []
