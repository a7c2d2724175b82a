"""CEL of a blind transfer, as the asterisk-real PBX wrote one: BLINDTRANSFER on the agent's
channel, the caller's channel leaving the bridge for context `xfer` and a Dial(Local/<ext>@agents,
30) of the colleague."""

from __future__ import annotations

import json

from callscope.simulate.calls import TRANSFER_RING_TIMEOUT_S
from callscope.simulate.trace import SimLeg
from callscope.simulate.writers.cel_events import OUT_LINE, CallEvents, answered_leg, bridge_id
from callscope.simulate.writers.channels import Chan

Answered = tuple[SimLeg, int, tuple[Chan, Chan]]  # a leg, its index, its Local pair


def transfer(
    ev: CallEvents, first: Answered, target: Answered, c1: Chan, c2: Chan, data: str
) -> None:
    """The agent blind-transfers the caller to a colleague: context xfer, Dial(..., 30)."""
    call, num = ev.call, ev.call.number
    (leg, k, (a1, a2)), (t_leg, t_k, t_pair) = first, target
    assert leg.answer is not None
    bid = json.dumps(
        {"bridge_id": bridge_id(call, k), "bridge_technology": "simple_bridge"},
        separators=(",", ":"),
    )
    ext, at = t_leg.agent, leg.end
    ev.add(leg.answer, "BRIDGE_ENTER", a1, num, "", "agents", "AppDial", OUT_LINE, extra=bid)
    ev.add(
        leg.answer, "BRIDGE_ENTER", c2, num, "", "ringgroups", "Dial", data, peer=a1.name, extra=bid
    )
    moved = json.dumps(
        {
            "extension": ext,
            "context": "xfer",
            "bridge_id": bridge_id(call, k),
            "transferee_channel_name": c2.name,
            "transferee_channel_uniqueid": c2.uid,
        },
        separators=(",", ":"),
    )
    ev.add(at, "BLINDTRANSFER", a1, num, "", "agents", "AppDial", OUT_LINE, extra=moved)
    ev.add(at, "BRIDGE_EXIT", c2, num, ext, "xfer", "Dial", data, peer=a1.name, extra=bid)
    ev.add(at, "BRIDGE_EXIT", a1, num, "", "agents", "AppDial", OUT_LINE, extra=bid)
    ev.add(at, "APP_END", c2, num, ext, "xfer", "Dial", data)
    xdata = f"Local/{ext}@agents,{TRANSFER_RING_TIMEOUT_S}"
    ev.add(at, "APP_START", c2, num, ext, "xfer", "Dial", xdata)
    ev.hangup(at, a1, num, "", "agents", 16, app="AppDial", data=OUT_LINE)
    ev.add(at, "CHAN_START", t_pair[0], "", ext, "agents")
    ev.add(at, "CHAN_START", t_pair[1], "", ext, "agents")
    ev.hangup(at, a2, num, leg.agent, "agents", 16)
    if t_leg.answer is None:
        ev.hangup(t_leg.end, t_pair[0], ext, ext, "agents", 0, app="AppDial", data=OUT_LINE)
        ev.add(t_leg.end, "APP_END", c2, num, ext, "xfer", "Dial", xdata)
        ev.hangup(t_leg.end, c2, num, ext, "xfer", 16, "dialplan/builtin", "NOANSWER")
        ev.hangup(t_leg.end, t_pair[1], num, ext, "agents", 0)
    else:
        ev.add(t_leg.answer, "ANSWER", t_pair[1], num, ext, "agents", "Answer")
        ev.add(t_leg.answer, "ANSWER", t_pair[0], ext, ext, "agents", "AppDial", OUT_LINE)
        if call.hangup_side == "caller":
            ev.customer_hangs_up(call.end, c1, num)
        answered_leg(ev, t_leg, t_k, t_pair, c2, num, "", "xfer", "Dial", xdata, "AppDial")
        ev.add(call.end, "APP_END", c2, num, ext, "xfer", "Dial", xdata)
        ev.hangup(call.end, c2, num, ext, "xfer", 16, dialstatus="ANSWER")
        if call.hangup_side == "caller":
            ev.add(call.end, "LINKEDID_END", c2, num, ext, "xfer")
            return
    ev.hangup(call.end, c1, num, "s", "customer", 16, app="AppDial2", data=OUT_LINE)
    ev.add(call.end, "LINKEDID_END", c1, num, "s", "customer", "AppDial2", OUT_LINE)
