"""cdr_csv's Master.csv with `loguniqueid`, `loguserfield` and `newcdrcolumns` (the columns of
pbx-samples/asterisk-real): local time without a zone, one row per agent leg rung
(`unanswered = yes`), the DID in userfield.

What a CDR row says is what Asterisk's CDR engine says, quirks included: the first row of a
channel starts when the channel started; on an IVR line the caller's channel is answered by the
IVR, so every later row has `answer` = its start and billsec counting IVR and queue time, and
rows of members who did not answer say NO ANSWER with billsec > 0. docs/simulate.md lists what
the importer therefore cannot recover from Master.csv alone.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from callscope.simulate.calls import TRANSFER_RING_TIMEOUT_S
from callscope.simulate.trace import SimCall, Trace
from callscope.simulate.writers.channels import agent_legs, channels, dial_data

Row = tuple[int, list[str]]  # (time the CDR is posted, fields without the sequence)


class CdrRows:
    def __init__(self, call: SimCall, zone: ZoneInfo, name: str = "") -> None:
        self.call, self.zone, self.name = call, zone, name
        self.rows: list[Row] = []
        self.first_row = True

    def ts(self, at: int | None) -> str:
        if at is None:
            return ""
        return datetime.fromtimestamp(at, self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def add(
        self,
        dst: str,
        dcontext: str,
        dstchannel: str,
        app: str,
        data: str,
        start: int,
        answer: int | None,
        end: int,
        disposition: str,
    ) -> None:
        c = self.call
        ch = channels(c)
        if self.first_row:
            start, self.first_row = c.start, False
            if answer is not None and c.ivr_greeting_s:
                answer = c.start
        billsec = 0 if answer is None else end - answer
        if c.direction == "outbound":
            src, clid, userfield = c.agent or "", f'"{self.name}" <{c.agent}>', ""
        else:
            src, clid, userfield = c.number, f'"" <{c.number}>', c.line or ""
        self.rows.append(
            (
                end,
                [
                    "",
                    src,
                    dst,
                    dcontext,
                    clid,
                    ch.second.name,
                    dstchannel,
                    app,
                    data,
                    self.ts(start),
                    self.ts(answer),
                    self.ts(end),
                    str(end - start),
                    str(billsec),
                    disposition,
                    "DOCUMENTATION",
                    ch.second.uid,
                    userfield,
                    "",
                    c.call_id,
                ],
            )
        )


def inbound_rows(call: SimCall, zone: ZoneInfo) -> CdrRows:
    r = CdrRows(call, zone)
    ivr = bool(call.ivr_greeting_s)
    if call.after_hours:
        r.add("s", "afterhours", "", "Hangup", "", call.start, call.start, call.end, "ANSWERED")
        return r
    if call.ivr_left_at is not None:
        r.add(
            "s",
            "ivr-main",
            "",
            "BackGround",
            "custom/ivr-greeting",
            call.start,
            call.start,
            call.end,
            "ANSWERED",
        )
        return r
    if call.invalid:
        r.add("i", "ivr-main", "", "Hangup", "", call.start, call.start, call.end, "ANSWERED")
        return r
    exten = call.route_exten or ""
    legs = agent_legs(call)
    pairs = channels(call).legs
    queue = call.route_kind == "queue"
    ctx = "queues" if queue else "ringgroups"
    moved = next((x.agent for x in legs if x.via == "transfer"), None)
    for leg, pair in zip(legs, pairs, strict=True):
        answered = leg.answer is not None
        dst, dcontext = exten, ctx
        if leg.via == "transfer":
            # the caller's channel runs the xfer context now; it is answered already, so the
            # row's answer is its start and billsec counts the ringing too
            app, data = "Dial", f"Local/{leg.agent}@agents,{TRANSFER_RING_TIMEOUT_S}"
            dst, dcontext = leg.agent, "xfer"
        elif queue:
            app, data = "Queue", call.queue or ""
        else:
            same_round = [x.agent for x in legs if x.round_no == leg.round_no]
            app, data = "Dial", dial_data(call, same_round, call.ring_timeout)
        if moved is not None and answered and leg.via != "transfer":
            dst, dcontext = moved, "xfer"  # the transferred leg's CDR ends in the xfer context
        if ivr or leg.via == "transfer":
            answer: int | None = leg.ring_start if answered or ivr else None
        else:
            answer = leg.answer
        r.add(
            dst,
            dcontext,
            pair[0].name,
            app,
            data,
            leg.ring_start,
            answer,
            leg.end,
            "ANSWERED" if answered else "NO ANSWER",
        )
    if call.voicemail_at is not None:
        r.add(
            "s",
            "vm",
            "",
            "Record",
            f"voicemail/msg-{channels(call).second.uid}.wav,0,120,kq",
            call.voicemail_at,
            call.voicemail_at,
            call.end,
            "ANSWERED",
        )
    elif not legs:
        app, data = ("Queue", call.queue or "") if queue else ("Dial", "")
        answer = call.start if ivr else None
        r.add(
            exten,
            ctx,
            "",
            app,
            data,
            call.queue_enter or call.start,
            answer,
            call.end,
            "ANSWERED" if ivr else "NO ANSWER",
        )
    return r


def outbound_rows(call: SimCall, zone: ZoneInfo, name: str) -> CdrRows:
    r = CdrRows(call, zone, name)
    ch = channels(call)
    assert ch.far is not None
    dialled = call.dialled or ""
    data = f"Local/{dialled}@pstn,30"
    disposition = {"answered": "ANSWERED", "busy": "BUSY"}.get(call.far_result or "", "NO ANSWER")
    r.add(
        dialled,
        "outbound",
        ch.far[0].name,
        "Dial",
        data,
        call.start,
        call.far_answer,
        call.end,
        disposition,
    )
    if call.far_answer is None:
        # the dialplan after a failed Dial() posts its own short row
        r.add(dialled, "outbound", "", "Hangup", "", call.end, None, call.end, "NO ANSWER")
    return r


def write_cdr(trace: Trace, out: Path) -> Path:
    zone = ZoneInfo(trace.timezone)
    names = {a.ext: a.name for a in trace.agents}
    rows: list[tuple[int, int, int, list[str]]] = []
    for i, call in enumerate(trace.calls):
        made = (
            outbound_rows(call, zone, names.get(call.agent or "", ""))
            if call.direction == "outbound"
            else inbound_rows(call, zone)
        )
        rows.extend((posted, i, n, fields) for n, (posted, fields) in enumerate(made.rows))
    rows.sort(key=lambda x: (x[0], x[1], x[2]))
    path = out / "Master.csv"
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for sequence, (*_, fields) in enumerate(rows, start=1):
            quoted = [
                str(v) if k in (12, 13) else '"' + v.replace('"', '""') + '"'
                for k, v in enumerate(fields)
            ]
            f.write(",".join([*quoted, str(sequence)]) + "\n")
    return path
