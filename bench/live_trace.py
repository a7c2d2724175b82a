"""Where a missed call's notification time goes (`bench/live.py --trace DIR`).

Imported first by the traced `callscope listen` (LIVE_TRACE_FILE set), it wraps the live
service's steps and writes one JSON line per step (start, wall and thread CPU seconds, the
missed calls a pass moved) and per acknowledged `call.ended` of a benchmark missed call.
`breakdown` then splits each notification into acknowledgement, waiting (from the end of its
grace to the start of the pass that moved it), the pass, the report and the delivery. Times
are CLOCK_MONOTONIC, which the benchmark process shares.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_lock = threading.Lock()


def _log(out: Any, **row: Any) -> None:
    row["t"] = time.monotonic()
    with _lock:
        out.write(json.dumps(row) + "\n")


def install(path: str) -> None:
    from callscope import importer
    from callscope.live import driver, notifier, service

    out = Path(path).open("a", buffering=1)  # noqa: SIM115 (open for the process's life)

    def timed(owner: Any, name: str, label: str, extra: Callable[..., dict[str, Any]]) -> None:
        orig = getattr(owner, name)

        @functools.wraps(orig)
        def wrap(*args: Any, **kwargs: Any) -> Any:
            t0, c0 = time.monotonic(), time.thread_time()
            result = orig(*args, **kwargs)
            cpu = time.thread_time() - c0
            _log(out, ev=label, t0=t0, dur=time.monotonic() - t0, cpu=cpu,
                 **extra(args, kwargs, result))  # fmt: skip
            return result

        setattr(owner, name, wrap)

    def moved(args: Any, kwargs: dict[str, Any], result: Any) -> dict[str, Any]:
        miss = [c for c in result.calls if c.startswith("miss-")]
        return {"first": kwargs.get("first", False), "calls": len(result.calls),
                "cut": result.cut, "cuttable": kwargs.get("cuttable", False),
                "miss": miss}  # fmt: skip

    timed(driver.Driver, "step", "step", moved)

    def wal(args: Any, kwargs: dict[str, Any], result: Any) -> dict[str, Any]:
        # The WAL's size after the pass's commit: where it shrank, DuckDB checkpointed in it.
        path = Path(f"{args[0].path}.wal")
        return {"wal": path.stat().st_size if path.exists() else 0}

    timed(notifier.Tracker, "scan", "scan", lambda a, k, r: {})
    timed(importer, "ingest_staged", "ingest_staged", wal)
    for owner, name in ((service.LiveService, "early"), (service.LiveService, "cycle"),
                        (service.LiveService, "rescan"), (service.LiveService, "checkpoint"),
                        (driver.Driver, "rebuild_agent_states")):  # fmt: skip
        if hasattr(owner, name):  # (an older tree, a --baseline, may lack one)
            timed(owner, name, name, lambda a, k, r: {})
    # The store process's one way in (from its own HTTP intake or the intake process); an
    # older tree (a --baseline) took events in `accept_generic`.
    name = "accept_records" if hasattr(service.LiveService, "accept_records") else "accept_generic"
    accept = getattr(service.LiveService, name)

    async def accepted(self: Any, events: Any, *more: Any) -> Any:
        result = await accept(self, events, *more)
        for event in events:
            record = event if isinstance(event, dict) else event.to_record()
            if record["type"] == "call.ended" and str(record.get("call_id")).startswith("miss-"):
                _log(out, ev="acked", call=record["call_id"])
        return result

    setattr(service.LiveService, name, accepted)


def breakdown(
    path: Path, sent: dict[str, float], arrived: dict[str, float], grace: float
) -> dict[str, Any]:
    """Mean seconds per part, over all notifications and over the slowest tenth; the slowest
    hundredth one by one (`at`: seconds since the first missed call), to tell a spike that
    hits a few calls at once from a pass that grows with the store."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    acked = {r["call"]: r["t"] for r in rows if r["ev"] == "acked"}
    steps = [r for r in rows if r["ev"] == "step"]
    scans = sorted((r for r in rows if r["ev"] == "scan"), key=lambda r: r["t0"])
    parts: list[dict[str, float]] = []
    for title, at in sent.items():
        call = "miss-" + title.rsplit(" ", 1)[1]
        step = next((s for s in steps if call in s["miss"]), None)
        if title not in arrived or call not in acked or step is None:
            continue
        end = step["t0"] + step["dur"]
        scan = next((s for s in scans if s["t0"] >= end - 1e-6), None)
        told = scan["t0"] + scan["dur"] if scan else end
        parts.append({
            "total": arrived[title] - at, "ack": acked[call] - at,
            "wait": step["t0"] - acked[call] - grace, "pass": step["dur"],
            "report": told - end, "send": arrived[title] - told,
            "in_bulk": float(not step["first"]), "at": at,
        })  # fmt: skip
    parts.sort(key=lambda p: p["total"])

    def means(chosen: list[dict[str, float]]) -> dict[str, float]:
        return {k: round(statistics.mean(p[k] for p in chosen), 3) for k in chosen[0] if k != "at"}

    if not parts:
        return {}
    start = min(p["at"] for p in parts)
    slowest = [
        {k: round(v - start if k == "at" else v, 3) for k, v in p.items() if k != "in_bulk"}
        for p in parts[int(len(parts) * 0.99) :]
    ]
    return {
        "all": means(parts),
        "slowest_tenth": means(parts[int(len(parts) * 0.9) :]),
        "slowest_hundredth": slowest,
    }


if os.environ.get("LIVE_TRACE_FILE"):
    install(os.environ["LIVE_TRACE_FILE"])
