"""Comparing a store with a simulation's ground truth, call by call.

Used by the round-trip tests and by `callscope simulate --check`: every difference is one line
`<call_id>: <field> <store value> != <truth value>`, so a test can assert the exact set of known,
documented differences of a format that cannot carry something.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from callscope.settings import AgentConfig, AsteriskConfig, ScheduleSettings, Settings
from callscope.simulate.trace import Trace
from callscope.store import Store

CALL_FIELDS = ("direction", "external_number", "line", "outcome", "answered_by", "end_stage")
TALK_TOLERANCE_S = 0.01  # CEL keeps microseconds; the writer offsets events by a few


def import_settings(trace: Trace) -> Settings:
    """The configuration of the simulated PBX, as a user would write it in callscope.toml."""
    return Settings(
        timezone=trace.timezone,
        region=trace.region,
        agents={a.ext: AgentConfig(name=a.name, team=a.team) for a in trace.agents},
        asterisk=AsteriskConfig(cdr_line_field="userfield"),
        schedule=ScheduleSettings(
            hours=trace.opening or None,
            holidays=[date.fromisoformat(d) for d in trace.holidays],
        ),
    )


def settings_toml(trace: Trace) -> str:
    lines = [
        f"# Import settings for the simulated {trace.profile} PBX",
        f'timezone = "{trace.timezone}"',
        f'region = "{trace.region}"',
        "",
        "[asterisk]",
        'cdr_line_field = "userfield"',
        "",
        "[agents]",
    ]
    lines += [f'{a.ext} = {{ name = "{a.name}", team = "{a.team}" }}' for a in trace.agents]
    if trace.opening:
        hours = ", ".join(f'{day} = "{span}"' for day, span in trace.opening.items())
        lines += ["", "[schedule]", f"hours = {{ {hours} }}"]
        if trace.holidays:
            lines.append("holidays = [" + ", ".join(f'"{d}"' for d in trace.holidays) + "]")
    return "\n".join(lines) + "\n"


def load_truth(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [r for r in map(json.loads, f) if r["kind"] == "call"]


def differences(
    store: Store,
    truth: list[dict[str, Any]],
    *,
    fields: tuple[str, ...] = CALL_FIELDS,
    talk: bool = True,
    legs: bool = True,
    ids: dict[str, str] | None = None,
) -> list[str]:
    """Every way the store's calls and legs disagree with the truth (empty = all match)."""
    calls = {c["call_id"]: c for c in store.ibis.table("calls").to_pyarrow().to_pylist()}
    got_legs: dict[str, list[dict[str, Any]]] = {}
    for leg in store.ibis.table("legs").order_by(["call_id", "leg_no"]).to_pyarrow().to_pylist():
        got_legs.setdefault(leg["call_id"], []).append(leg)
    found: list[str] = []
    if len(calls) != len(truth):
        found.append(f"{len(calls)} calls assembled, truth has {len(truth)}")
    for t in truth:
        cid = t["call_id"]
        c = calls.get(ids[cid] if ids else cid)
        if c is None:
            found.append(f"{cid}: not assembled")
            continue
        for name in fields:
            if c.get(name) != t[name]:
                found.append(f"{cid}: {name} {c.get(name)} != {t[name]}")
        for name in ("talk_s", "wait_s") if talk else ():
            if abs((c[name] or 0) - t[name]) > TALK_TOLERANCE_S:
                found.append(f"{cid}: {name} {c[name]} != {t[name]}")
        if legs and t["direction"] == "inbound":
            ours = sorted(
                (x["agent"], x["result"])
                for x in got_legs.get(c["call_id"], [])
                if x["destination_kind"] == "agent"
            )
            want = sorted((x["agent"], x["result"]) for x in t["legs"])
            if ours != want:
                found.append(f"{cid}: legs {ours} != {want}")
    return found


def carried(truth: list[dict[str, Any]], formats: str) -> list[dict[str, Any]]:
    """The truth as the formats (joined by "+", as imported together) can carry it: the
    documented, exact limits of the lossy formats (docs/simulate.md, "What each format
    carries"). CEL, and CDR + queue_log + CEL, carry everything.

    1. `asterisk-cdr` without queue_log or CEL: on an IVR line the caller's channel was answered
       by the IVR, so a row's billsec runs from the row's start (the call's start for the first
       row of the call, the ring start for later ones) and counts as talk, and the pickup is the
       row's start; a short call can then look answered.
    2. A caller who left while one phone rang ended at that `agent` (CEL: the last Dial() rang
       one phone). `asterisk-cdr` without CEL says `ring_group` when the call rang more than
       one agent in all (a hunt); FreeSWITCH always says `ring_group`.
    3. `asterisk-cdr` without CEL: a hunt step that rang out in the second before the next
       agent picked up looks cancelled by that answer (whole-second times); without queue_log
       too, the last member of a queue who rang out before the caller left looks as if the
       caller hung up on them, and the wait ends with that row (CDR has no queue retry gap).
       A blind-transfer target's Dial() row starts answered (the caller's channel is): its
       billsec counts the ringing, and when nobody picks up the dialplan's hang-up looks like
       the caller's.
    4. `freeswitch-json`: FreeSWITCH has no after-hours stage; the closed message is an IVR
       playback (disposition `abandoned`).
    5. `mapped-csv`: a call-history export names the agent who picked up, not the phones that
       rang: only that leg is known. `freeswitch-csv` likewise: stock cdr_csv templates link
       only the bridged B leg to its A leg (`bleg_uuid`).
    """
    names = set(formats.split("+"))
    cel = "asterisk-cel" in names
    cdr_only = names == {"asterisk-cdr"}
    out = []
    for t in truth:
        t = {**t, "legs": [dict(leg) for leg in t["legs"]]}
        inbound = t["direction"] == "inbound"
        if inbound and cdr_only and t["ivr_path"]:
            _ivr_billsec(t)
        unanswered_phone = inbound and t["end_stage"] == "agent" and not t["first_answered_at"]
        several = len({leg["agent"] for leg in t["legs"]}) > 1
        if unanswered_phone and not cel and "asterisk-cdr" in names and several:
            t["end_stage"] = "ring_group"
        if unanswered_phone and "freeswitch-json" in names:
            t["end_stage"] = "ring_group"
        if inbound and cdr_only and t["queue"] and t["end_stage"] == "queue" and t["legs"]:
            last = max(t["legs"], key=lambda x: _seconds(x["ring_started_at"]) + x["ring_s"])
            if last["result"] == "no_answer":
                last["result"] = "caller_hung_up"
                # the call seems to end with that row: it waited until then
                end = _seconds(last["ring_started_at"]) + last["ring_s"]
                t["wait_s"] = end - _seconds(t["started_at"])
        if inbound and not cel and "asterisk-cdr" in names:
            answers = [
                _seconds(leg["ring_started_at"]) + leg["ring_s"]
                for leg in t["legs"]
                if leg["result"] == "answered"
            ]
            for leg in t["legs"]:
                end = _seconds(leg["ring_started_at"]) + leg["ring_s"]
                if leg["result"] == "no_answer" and any(0 <= a - end <= 1 for a in answers):
                    leg["result"] = "cancelled_answered_elsewhere"
        if inbound and not cel and "asterisk-cdr" in names:
            _transfer_rows(t)
        if "freeswitch-json" in names and t["end_stage"] == "after_hours":
            t["end_stage"], t["disposition"] = "ivr", "abandoned"
        if names & {"mapped-csv", "freeswitch-csv"} and inbound:
            t["legs"] = (
                [{"agent": t["answered_by"], "result": "answered"}]
                if t["first_answered_at"]
                else []
            )
        out.append(t)
    return out


def _transfer_rows(t: dict[str, Any]) -> None:
    """The Dial() row of a blind-transfer target starts answered (the caller's channel is), so
    billsec counts its ringing; when nobody picks up, the dialplan's hang-up looks like the
    caller's."""
    for leg in t["legs"]:
        if leg["via"] != "transfer":
            continue
        if leg["result"] == "answered":
            t["talk_s"] += leg["ring_s"]
        elif leg["result"] == "no_answer":
            leg["result"] = "caller_hung_up"


def _ivr_billsec(t: dict[str, Any]) -> None:
    talk, picked = 0, None
    for k, leg in enumerate(t["legs"]):
        if leg["result"] != "answered":
            continue
        row_start = t["started_at"] if k == 0 else leg["ring_started_at"]
        picked = picked if picked is not None else row_start
        talk += (
            leg["ring_s"] + leg["talk_s"] + _seconds(leg["ring_started_at"]) - _seconds(row_start)
        )
    t["talk_s"] = talk
    if picked is not None:  # "answered" when the row starts
        t["wait_s"] = _seconds(picked) - _seconds(t["started_at"])
    if talk >= 6 and t["answered_by"] is not None:
        t["outcome"], t["disposition"] = "answered", None


def _seconds(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def state_differences(store: Store, trace: Trace) -> list[str]:
    """Agent presence as queue_log tells it (available, paused with its reason, offline) from
    each queue member's first shift on, against the store's agent_states."""
    from callscope.simulate.writers.asterisk_queue_log import presence

    got = {
        (r[0], r[1], r[2], r[3], r[4])
        for r in store.con.execute(
            "SELECT agent, state, reason, epoch(started_at)::BIGINT, epoch(ended_at)::BIGINT "
            "FROM agent_states"
        ).fetchall()
    }
    want = set()
    members = {a.ext for a in trace.agents if a.queues}
    for agent, changes in presence(trace).items():
        if agent not in members:
            continue
        first = next(t for t, s, _ in changes if s != "offline")
        known = [c for c in changes if c[0] >= first]
        for (start, state, reason), (end, *_) in itertools.pairwise(known):
            want.add((agent, state, reason, start, end))
    closed = {g for g in got if g[4] is not None}
    return [f"missing {w}" for w in sorted(want - closed, key=str)] + [
        f"unexpected {g}" for g in sorted(closed - want, key=str)
    ]
