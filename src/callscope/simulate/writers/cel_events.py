"""One call's CEL events as they are built: rows with microsecond offsets that keep the order of
events written in the same second, and the HANGUP + CHAN_END pair every channel ends with."""

from __future__ import annotations

import json
import uuid

from callscope.simulate.trace import SimCall, SimLeg
from callscope.simulate.writers.channels import Chan

Row = tuple[float, int, list[str]]
OUT_LINE = "(Outgoing Line)"


def _extra(cause: int, source: str = "", dialstatus: str = "") -> str:
    return json.dumps(
        {"hangupcause": cause, "hangupsource": source, "dialstatus": dialstatus},
        separators=(",", ":"),
    )


class CallEvents:
    def __init__(self, call: SimCall) -> None:
        self.call = call
        self.rows: list[Row] = []
        self.tick: dict[int, int] = {}

    def add(
        self,
        at: int,
        kind: str,
        chan: Chan,
        cid: str,
        exten: str,
        context: str,
        app: str = "",
        data: str = "",
        peer: str = "",
        udt: str = "",
        extra: str = "",
    ) -> None:
        n = self.tick.get(at, 0)
        self.tick[at] = n + 1
        ts = at + 0.0001 + n * 0.000037
        row = [
            kind,
            f"{ts:.6f}",
            "",
            cid,
            exten,
            context,
            chan.name,
            app,
            data,
            "3",
            "",
            chan.uid,
            self.call.call_id,
            peer,
            udt,
            extra,
        ]
        self.rows.append((ts, len(self.rows), row))

    def hangup(
        self,
        at: int,
        chan: Chan,
        cid: str,
        exten: str,
        context: str,
        cause: int,
        source: str = "",
        dialstatus: str = "",
        app: str = "",
        data: str = "",
    ) -> None:
        self.add(
            at,
            "HANGUP",
            chan,
            cid,
            exten,
            context,
            app,
            data,
            extra=_extra(cause, source, dialstatus),
        )
        self.add(at, "CHAN_END", chan, cid, exten, context, app, data)

    def customer_hangs_up(self, at: int, chan: Chan, cid: str) -> None:
        """The customer's handset hangs up first (a Local channel's half still in AppDial2);
        the bridge tears down after it."""
        self.hangup(
            at, chan, cid, "s", "customer", 16, "dialplan/builtin", app="AppDial2", data=OUT_LINE
        )


def bridge_id(call: SimCall, leg_no: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{call.call_id}/{leg_no}"))


def answered_leg(
    ev: CallEvents,
    leg: SimLeg,
    k: int,
    pair: tuple[Chan, Chan],
    c2: Chan,
    num: str,
    exten: str,
    context: str,
    app: str,
    data: str,
    peer_app: str,
) -> None:
    """Bridge the caller with the agent who picked up; the side that hangs up goes first."""
    a1, a2 = pair
    assert leg.answer is not None
    bid = json.dumps(
        {"bridge_id": bridge_id(ev.call, k), "bridge_technology": "simple_bridge"},
        separators=(",", ":"),
    )
    ev.add(leg.answer, "BRIDGE_ENTER", a1, num, exten, "agents", peer_app, OUT_LINE, extra=bid)
    ev.add(leg.answer, "BRIDGE_ENTER", c2, num, exten, context, app, data, peer=a1.name, extra=bid)
    if leg.hangup_by == "agent":
        ev.hangup(leg.end, a2, num, leg.agent, "agents", 16, "dialplan/builtin")
    ev.add(leg.end, "BRIDGE_EXIT", a1, num, exten, "agents", peer_app, OUT_LINE, extra=bid)
    ev.hangup(leg.end, a1, num, exten, "agents", 16, app=peer_app, data=OUT_LINE)
    ev.add(leg.end, "BRIDGE_EXIT", c2, num, exten, context, app, data, extra=bid)
    if leg.hangup_by != "agent":
        ev.hangup(leg.end, a2, num, leg.agent, "agents", 16)
