"""app_queue's queue_log as Asterisk 22 writes it (`queue_log_to_file = yes`):
`epoch|callid|queue|agent|event|data...`, callid = uniqueid of the caller's channel, agent =
the member name (`log_membername_as_agent = yes`).

Per queued call: ENTERQUEUE, RINGNOANSWER for every member who rang the full timeout,
RINGCANCELED for members ringing when the caller left, then CONNECT + COMPLETEAGENT /
COMPLETECALLER, or ABANDON. Members whose ringing stopped because a colleague answered get no
line (Asterisk writes none), exactly as in the asterisk-real sample.
"""

from __future__ import annotations

from pathlib import Path

from callscope.simulate.trace import SimCall, Trace
from callscope.simulate.writers.channels import agent_legs, channels


def queue_lines(call: SimCall, names: dict[str, str]) -> list[tuple[int, str]]:
    if call.route_kind != "queue" or call.queue_enter is None:
        return []
    ch = channels(call)
    cid, q, enter = ch.second.uid, call.queue or "", call.queue_enter
    out = [(enter, f"{enter}|{cid}|{q}|NONE|ENTERQUEUE||{call.number}|1")]
    legs = agent_legs(call)
    for leg, pair in zip(legs, ch.legs, strict=True):
        name = names.get(leg.agent, leg.agent)
        rung_ms = (leg.end - leg.ring_start) * 1000
        if leg.result == "no_answer":
            out.append((leg.end, f"{leg.end}|{cid}|{q}|{name}|RINGNOANSWER|{rung_ms}"))
        elif leg.result == "caller_hung_up":
            out.append((leg.end, f"{leg.end}|{cid}|{q}|{name}|RINGCANCELED|{rung_ms}"))
        elif leg.result == "answered" and leg.answer is not None:
            hold, ring = leg.answer - enter, leg.answer - leg.ring_start
            out.append(
                (leg.answer, f"{leg.answer}|{cid}|{q}|{name}|CONNECT|{hold}|{pair[0].uid}|{ring}")
            )
            event = "COMPLETEAGENT" if leg.hangup_by == "agent" else "COMPLETECALLER"
            out.append((leg.end, f"{leg.end}|{cid}|{q}|{name}|{event}|{hold}|{leg.talk_s}|1"))
    if not any(leg.answer is not None for leg in legs):
        if call.disposition == "timeout":
            out.append(
                (call.end, f"{call.end}|{cid}|{q}|NONE|EXITWITHTIMEOUT|1|1|{call.end - enter}")
            )
        else:
            out.append((call.end, f"{call.end}|{cid}|{q}|NONE|ABANDON|1|1|{call.end - enter}"))
    return out


def presence(trace: Trace) -> dict[str, list[tuple[int, str, str | None]]]:
    """Per agent the changes queue_log can tell: offline (shift over), paused (lunch, dnd) and
    available (everything else: ringing, talking and wrap-up are not membership events)."""
    out: dict[str, list[tuple[int, str, str | None]]] = {}
    for s in sorted(trace.states, key=lambda s: (s.agent, s.start)):
        state, reason = s.state, s.reason
        if (state == "paused" and reason == "wrapup") or state in ("ringing", "on_call"):
            state, reason = "available", None
        changes = out.setdefault(s.agent, [])
        if not changes or changes[-1][1:] != (state, reason):
            changes.append((s.start, state, reason))
    return out


def member_lines(trace: Trace) -> list[tuple[int, str]]:
    """ADDMEMBER at the start of a shift, REMOVEMEMBER at its end, PAUSE/UNPAUSE around lunch
    and do-not-disturb, per queue the agent belongs to (dynamic members, as app_queue logs)."""
    out: list[tuple[int, str]] = []
    changes = presence(trace)
    for agent in trace.agents:
        before = "offline"
        for at, state, reason in changes.get(agent.ext, []):
            for q in agent.queues:
                if before == "offline" and state != "offline":
                    out.append((at, f"{at}|MANAGER|{q}|{agent.name}|ADDMEMBER|"))
                if before == "paused" and state != "paused":
                    out.append((at, f"{at}|NONE|{q}|{agent.name}|UNPAUSE|"))
                if state == "offline" and before != "offline":
                    out.append((at, f"{at}|MANAGER|{q}|{agent.name}|REMOVEMEMBER|"))
                if state == "paused":
                    out.append((at, f"{at}|NONE|{q}|{agent.name}|PAUSE|{reason or ''}"))
            before = state
    return out


def write_queue_log(trace: Trace, out: Path) -> Path:
    names = {a.ext: a.name for a in trace.agents}
    lines: list[tuple[int, int, int, str]] = [
        (at, -1, n, text) for n, (at, text) in enumerate(member_lines(trace))
    ]
    for i, call in enumerate(trace.calls):
        lines.extend((at, i, n, text) for n, (at, text) in enumerate(queue_lines(call, names)))
    lines.sort()
    path = out / "queue_log"
    first = trace.calls[0].start - 60 if trace.calls else 0
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(f"{first}|NONE|NONE|NONE|QUEUESTART|\n")
        for *_, text in lines:
            f.write(text + "\n")
    return path
