"""Asterisk CEL as cel_custom writes it (advanced field list of pbx-samples/asterisk-real):
16 quoted fields, no header, epoch eventtime with microseconds, events of all channels.

Each call becomes the event sequence the real PBX wrote for the same situation (see the
asterisk-real cel.csv): IVR answer and greeting, Queue or Dial, one Local pair per rung agent,
ANSWER/BRIDGE_ENTER/BRIDGE_EXIT, HANGUP with cause, source and DIALSTATUS, LINKEDID_END.
Events of one whole second get microsecond offsets in order, so files sort as Asterisk wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

from callscope.simulate.trace import SimCall, Trace
from callscope.simulate.writers.asterisk_cel_inbound import inbound_events
from callscope.simulate.writers.cel_events import OUT_LINE, CallEvents, bridge_id
from callscope.simulate.writers.channels import channels


def outbound_events(call: SimCall, name: str) -> CallEvents:
    ev, ch = CallEvents(call), channels(call)
    assert ch.far is not None and call.agent is not None and call.dialled is not None
    a1, a2, (f1, f2) = ch.first, ch.second, ch.far
    ext, dialled, t0 = call.agent, call.dialled, call.start
    data = f"Local/{dialled}@pstn,30"
    ev.add(t0, "CHAN_START", a1, "", ext, "agent-dial")
    ev.add(t0, "CHAN_START", a2, "", ext, "agent-dial")
    ev.add(t0, "APP_START", a2, ext, dialled, "outbound", "Dial", data)
    ev.add(t0, "CHAN_START", f1, "", dialled, "pstn")
    ev.add(t0, "CHAN_START", f2, "", dialled, "pstn")
    if call.far_result == "answered":
        at = call.far_answer
        assert at is not None
        bid = json.dumps(
            {"bridge_id": bridge_id(call, 0), "bridge_technology": "simple_bridge"},
            separators=(",", ":"),
        )
        ev.add(at, "ANSWER", f1, dialled, dialled, "pstn", "AppDial", OUT_LINE)
        ev.add(at, "ANSWER", f2, ext, dialled, "pstn", "Answer")
        ev.add(at, "ANSWER", a1, ext, ext, "agent-dial", "AppDial2", OUT_LINE)
        ev.add(at, "ANSWER", a2, ext, dialled, "outbound", "Dial", data)
        ev.add(at, "BRIDGE_ENTER", f1, dialled, "", "pstn", "AppDial", OUT_LINE, extra=bid)
        ev.add(
            at, "BRIDGE_ENTER", a2, ext, dialled, "outbound", "Dial", data, peer=f1.name, extra=bid
        )
        far_first = call.hangup_side == "caller"
        if far_first:
            ev.hangup(call.end, f2, ext, dialled, "pstn", 16, "dialplan/builtin")
        else:
            ev.hangup(
                call.end,
                a1,
                ext,
                ext,
                "agent-dial",
                16,
                "dialplan/builtin",
                app="AppDial2",
                data=OUT_LINE,
            )
        ev.add(call.end, "BRIDGE_EXIT", f1, dialled, "", "pstn", "AppDial", OUT_LINE, extra=bid)
        ev.hangup(call.end, f1, dialled, "", "pstn", 16, app="AppDial", data=OUT_LINE)
        ev.add(call.end, "BRIDGE_EXIT", a2, ext, dialled, "outbound", "Dial", data, extra=bid)
        ev.add(call.end, "APP_END", a2, ext, dialled, "outbound", "Dial", data)
        ev.hangup(call.end, a2, ext, dialled, "outbound", 16, dialstatus="ANSWER")
        if far_first:
            ev.hangup(call.end, a1, ext, ext, "agent-dial", 16, app="AppDial2", data=OUT_LINE)
        else:
            ev.hangup(call.end, f2, ext, dialled, "pstn", 16)
        ev.add(call.end, "LINKEDID_END", a1, ext, ext, "agent-dial", "AppDial2", OUT_LINE)
        return ev
    busy = call.far_result == "busy"
    ev.hangup(call.end, f1, dialled, dialled, "pstn", 0, app="AppDial", data=OUT_LINE)
    if busy:
        ev.hangup(call.end, f2, ext, dialled, "pstn", 17)
    ev.add(call.end, "APP_END", a2, ext, dialled, "outbound", "Dial", data)
    ev.hangup(
        call.end,
        a2,
        ext,
        dialled,
        "outbound",
        16,
        "dialplan/builtin",
        "BUSY" if busy else "NOANSWER",
    )
    if not busy:
        ev.hangup(call.end, f2, ext, dialled, "pstn", 0)
    ev.hangup(call.end, a1, ext, ext, "agent-dial", 16, app="AppDial2", data=OUT_LINE)
    ev.add(call.end, "LINKEDID_END", a1, ext, ext, "agent-dial", "AppDial2", OUT_LINE)
    return ev


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def write_cel(trace: Trace, out: Path, members: dict[str, list[str]]) -> Path:
    """All events of all calls in time order, as one cel.csv."""
    names = {a.ext: a.name for a in trace.agents}
    rows: list[tuple[float, int, int, list[str]]] = []
    for i, call in enumerate(trace.calls):
        ev = (
            outbound_events(call, names.get(call.agent or "", ""))
            if call.direction == "outbound"
            else inbound_events(call, members)
        )
        rows.extend((ts, i, n, row) for ts, n, row in ev.rows)
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    path = out / "cel.csv"
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for *_, row in rows:
            f.write(",".join(_quote(v) for v in row) + "\n")
    return path
