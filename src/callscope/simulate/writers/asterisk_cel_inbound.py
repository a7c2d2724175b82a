"""CEL events of an inbound call, the sequences the asterisk-real PBX wrote: the IVR answer and
greeting, Queue() or Dial() with one Local pair per rung agent, the bridge, voicemail, and the
HANGUP of every channel with its cause, source and DIALSTATUS."""

from __future__ import annotations

import json

from callscope.simulate.trace import SimCall, SimLeg
from callscope.simulate.writers.asterisk_cel_transfer import transfer
from callscope.simulate.writers.cel_events import OUT_LINE, CallEvents, answered_leg
from callscope.simulate.writers.channels import Chan, agent_legs, channels, dial_data


def inbound_events(call: SimCall, members: dict[str, list[str]]) -> CallEvents:
    ev, ch = CallEvents(call), channels(call)
    c1, c2, num, did, t0 = ch.first, ch.second, call.number, call.line or "", call.start
    ev.add(t0, "CHAN_START", c1, "", did, "from-trunk")
    ev.add(t0, "CHAN_START", c2, "", did, "from-trunk")
    state = {"ctx": ("s", "customer"), "answered": False}

    def finish(
        at: int, exten: str, context: str, dialstatus: str = "", cause: int = 16, source: str = ""
    ) -> None:
        ev.hangup(at, c2, num, exten, context, cause, source, dialstatus)
        ev.hangup(at, c1, num, "s", "customer", cause, app="AppDial2", data=OUT_LINE)
        ev.add(at, "LINKEDID_END", c1, num, "s", "customer", "AppDial2", OUT_LINE)

    if call.after_hours:
        ev.add(t0, "ANSWER", c1, num, did, "from-trunk", "AppDial2", OUT_LINE)
        ev.add(t0, "ANSWER", c2, num, "s", "afterhours", "Answer")
        _playback(ev, c2, num, "s", "afterhours", t0, call.end, "custom/closed")
        finish(call.end, "s", "afterhours", source="dialplan/builtin")
        return ev
    if call.ivr_greeting_s:
        ev.add(t0, "ANSWER", c2, num, did, "from-trunk", "Answer")
        ev.add(t0, "ANSWER", c1, num, did, "from-trunk", "AppDial2", OUT_LINE)
        state["answered"] = True
        g = ("s", "ivr-main", "BackGround", "custom/ivr-greeting")
        ev.add(t0, "APP_START", c2, num, *g)
        ev.add(
            t0,
            "STREAM_BEGIN",
            c2,
            num,
            *g,
            udt="FILE_STREAM_BEGIN",
            extra=json.dumps(
                {"sound": "custom/ivr-greeting", "format": "slin", "language": "en"},
                separators=(",", ":"),
            ),
        )
        if call.ivr_left_at is not None:
            at = call.ivr_left_at
            ev.hangup(
                at, c1, num, "s", "customer", 16, "dialplan/builtin", app="AppDial2", data=OUT_LINE
            )
            ev.add(at, "STREAM_END", c2, num, *g, udt="FILE_STREAM_END")
            ev.add(at, "APP_END", c2, num, *g)
            ev.hangup(at, c2, num, "s", "ivr-main", 16)
            ev.add(at, "LINKEDID_END", c2, num, "s", "ivr-main")
            return ev
        press = call.queue_enter if call.queue_enter is not None else call.end - 2
        ev.add(
            press,
            "DTMF",
            c2,
            num,
            *g,
            udt="Received",
            extra=json.dumps({"digit": call.ivr_digit, "duration_ms": 100}, separators=(",", ":")),
        )
        ev.add(press, "STREAM_END", c2, num, *g, udt="FILE_STREAM_END")
        ev.add(press, "APP_END", c2, num, *g)
        if call.invalid:
            _playback(ev, c2, num, "i", "ivr-main", press, call.end, "custom/invalid-option")
            finish(call.end, "i", "ivr-main", source="dialplan/builtin")
            return ev
    exten = call.route_exten or ""
    if call.route_kind == "queue":
        _queue(ev, call, ch.legs, c2, num, exten)
    else:
        _dial(ev, call, ch.legs, c1, c2, num, exten, members, bool(state["answered"]))
    return ev


def _playback(
    ev: CallEvents, chan: Chan, num: str, exten: str, ctx: str, start: int, end: int, sound: str
) -> None:
    ev.add(start, "APP_START", chan, num, exten, ctx, "Playback", sound)
    ev.add(
        start,
        "STREAM_BEGIN",
        chan,
        num,
        exten,
        ctx,
        "Playback",
        sound,
        udt="FILE_STREAM_BEGIN",
        extra=json.dumps(
            {"sound": sound, "format": "slin", "language": "en"}, separators=(",", ":")
        ),
    )
    ev.add(end, "STREAM_END", chan, num, exten, ctx, "Playback", sound, udt="FILE_STREAM_END")
    ev.add(end, "APP_END", chan, num, exten, ctx, "Playback", sound)


def _leg_end(
    ev: CallEvents, leg: SimLeg, pair: tuple[Chan, Chan], num: str, exten: str, app: str, cause: int
) -> None:
    a1, a2 = pair
    ev.hangup(leg.end, a1, num, exten, "agents", cause, app=app, data=OUT_LINE)
    ev.hangup(leg.end, a2, num, leg.agent, "agents", cause)


def _queue(
    ev: CallEvents, call: SimCall, pairs: list[tuple[Chan, Chan]], c2: Chan, num: str, exten: str
) -> None:
    q = call.queue or ""
    c1 = channels(call).first
    assert call.queue_enter is not None
    ev.add(call.queue_enter, "APP_START", c2, num, exten, "queues", "Queue", q)
    legs = agent_legs(call)
    for leg, pair in zip(legs, pairs, strict=True):
        ev.add(leg.ring_start, "CHAN_START", pair[0], "", leg.agent, "agents")
        ev.add(leg.ring_start, "CHAN_START", pair[1], "", leg.agent, "agents")
    answered = next((leg for leg in legs if leg.answer is not None), None)
    if answered is not None and call.hangup_side == "caller":
        # the customer's handset hangs up first; the bridge then tears down
        ev.customer_hangs_up(call.end, c1, num)
    for k, (leg, pair) in enumerate(zip(legs, pairs, strict=True)):
        if leg.answer is not None:
            ev.add(leg.answer, "ANSWER", pair[0], num, exten, "agents", "AppQueue", OUT_LINE)
            ev.add(leg.answer, "ANSWER", pair[1], num, leg.agent, "agents", "Answer")
            answered_leg(ev, leg, k, pair, c2, num, exten, "queues", "Queue", q, "AppQueue")
        else:
            if leg.result == "caller_hung_up":
                ev.customer_hangs_up(leg.end, c1, num)
            cause = 26 if leg.result == "cancelled_answered_elsewhere" else 0
            _leg_end(ev, leg, pair, num, exten, "AppQueue", cause)
    status = "ANSWER" if answered is not None else "NOANSWER"
    ev.add(call.end, "APP_END", c2, num, exten, "queues", "Queue", q)
    ev.hangup(call.end, c2, num, exten, "queues", 16, dialstatus=status)
    if answered is None and not any(x.result == "caller_hung_up" for x in legs):
        ev.customer_hangs_up(call.end, c1, num)
    elif answered is not None and call.hangup_side != "caller":
        ev.hangup(call.end, c1, num, "s", "customer", 16, app="AppDial2", data=OUT_LINE)
    ev.add(call.end, "LINKEDID_END", c2, num, exten, "queues")


def _dial(
    ev: CallEvents,
    call: SimCall,
    pairs: list[tuple[Chan, Chan]],
    c1: Chan,
    c2: Chan,
    num: str,
    exten: str,
    members: dict[str, list[str]],
    answered_before: bool,
) -> None:
    legs = agent_legs(call)
    did = call.line or ""
    rounds = sorted({leg.round_no for leg in legs if leg.via != "transfer"})
    moved = next((k for k, leg in enumerate(legs) if leg.via == "transfer"), None)
    for r in rounds:
        idx = [k for k, leg in enumerate(legs) if leg.round_no == r]
        start = legs[idx[0]].ring_start
        data = dial_data(call, [legs[k].agent for k in idx], call.ring_timeout)
        ev.add(start, "APP_START", c2, num, exten, "ringgroups", "Dial", data)
        for k in idx:
            ev.add(start, "CHAN_START", pairs[k][0], "", legs[k].agent, "agents")
            ev.add(start, "CHAN_START", pairs[k][1], "", legs[k].agent, "agents")
        won = next((k for k in idx if legs[k].answer is not None), None)
        if won is not None:
            leg, pair = legs[won], pairs[won]
            assert leg.answer is not None
            ev.add(leg.answer, "ANSWER", pair[1], num, leg.agent, "agents", "Answer")
            ev.add(leg.answer, "ANSWER", pair[0], exten, exten, "agents", "AppDial", OUT_LINE)
            for k in idx:
                if k != won:
                    ev.hangup(
                        leg.answer,
                        pairs[k][0],
                        exten,
                        exten,
                        "agents",
                        26,
                        app="AppDial",
                        data=OUT_LINE,
                    )
            ev.add(leg.answer, "ANSWER", c2, num, exten, "ringgroups", "Dial", data)
            for k in idx:
                if k != won:
                    ev.hangup(leg.answer, pairs[k][1], num, legs[k].agent, "agents", 26)
            if not answered_before:
                ev.add(leg.answer, "ANSWER", c1, num, did, "from-trunk", "AppDial2", OUT_LINE)
            if call.hangup_side == "caller":
                ev.customer_hangs_up(leg.end, c1, num)
            if moved is not None:
                transfer(ev, (leg, won, pair), (legs[moved], moved, pairs[moved]), c1, c2, data)
                return
            answered_leg(ev, leg, won, pair, c2, num, "", "ringgroups", "Dial", data, "AppDial")
            ev.add(call.end, "APP_END", c2, num, exten, "ringgroups", "Dial", data)
            ev.hangup(call.end, c2, num, exten, "ringgroups", 16, dialstatus="ANSWER")
            if call.hangup_side != "caller":
                ev.hangup(call.end, c1, num, "s", "customer", 16, app="AppDial2", data=OUT_LINE)
            ev.add(call.end, "LINKEDID_END", c2, num, exten, "ringgroups")
            return
        end = legs[idx[0]].end
        gone = legs[idx[0]].result == "caller_hung_up"
        cause = 19 if gone else 0
        for k in idx:
            ev.hangup(end, pairs[k][0], exten, exten, "agents", cause, app="AppDial", data=OUT_LINE)
        ev.add(end, "APP_END", c2, num, exten, "ringgroups", "Dial", data)
        if gone:
            ev.hangup(end, c2, num, exten, "ringgroups", 19, dialstatus="CANCEL")
            ev.hangup(end, c1, num, did, "from-trunk", 19, app="AppDial2", data=OUT_LINE)
            for k in idx:
                ev.hangup(end, pairs[k][1], num, legs[k].agent, "agents", 19)
            ev.add(end, "LINKEDID_END", c2, num, exten, "ringgroups")
            return
        for k in idx:
            ev.hangup(end, pairs[k][1], num, legs[k].agent, "agents", 0)
    if call.voicemail_at is not None:
        _voicemail(ev, call, c1, c2, num, answered_before)
        return
    # no overflow: the dialplan hangs up (or the caller left before anyone rang)
    gone = call.hangup_side == "caller"
    ev.hangup(
        call.end,
        c1,
        num,
        "s",
        "customer",
        16,
        "dialplan/builtin" if gone else "",
        app="AppDial2",
        data=OUT_LINE,
    )
    ev.hangup(
        call.end,
        c2,
        num,
        exten,
        "ringgroups",
        16,
        "" if gone else "dialplan/builtin",
        dialstatus="CANCEL" if gone else "NOANSWER",
    )
    ev.add(call.end, "LINKEDID_END", c2, num, exten, "ringgroups")


def _voicemail(
    ev: CallEvents, call: SimCall, c1: Chan, c2: Chan, num: str, answered_before: bool
) -> None:
    at = call.voicemail_at
    assert at is not None
    if not answered_before:
        ev.add(at, "ANSWER", c2, num, "s", "vm", "Answer")
        ev.add(at, "ANSWER", c1, num, call.line or "", "from-trunk", "AppDial2", OUT_LINE)
    _playback(ev, c2, num, "s", "vm", at, at + 2, "custom/vm-greeting")
    rec = f"voicemail/msg-{c2.uid}.wav,0,120,kq"
    ev.add(at + 2, "APP_START", c2, num, "s", "vm", "Record", rec)
    ev.hangup(
        call.end, c1, num, "s", "customer", 16, "dialplan/builtin", app="AppDial2", data=OUT_LINE
    )
    ev.add(call.end, "APP_END", c2, num, "s", "vm", "Record", rec)
    ev.hangup(call.end, c2, num, "s", "vm", 16, dialstatus="NOANSWER")
    ev.add(call.end, "LINKEDID_END", c2, num, "s", "vm")
