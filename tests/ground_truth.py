"""Comparing assembled calls with the scripted truth of the asterisk-real sample, call by call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from callscope.store import Store

RESULTS = {
    "answered": "answered",
    "no_answer": "no_answer",
    "cancelled": "cancelled_answered_elsewhere",
    "caller_hung_up": "caller_hung_up",
}
OUTBOUND = {
    "outbound_answered": "answered",
    "outbound_no_answer": "no_answer",
    "outbound_busy": "busy",
}


def load_truth(folder: Path) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = json.loads((folder / "ground-truth.json").read_text())["calls"]
    return calls


def differences(store: Store, truth: list[dict[str, Any]], *, talk: bool = True) -> list[str]:
    """Every way the store disagrees with the truth, one line each (empty = all match)."""
    calls = {c["call_id"]: c for c in store.ibis.table("calls").to_pyarrow().to_pylist()}
    legs: dict[str, list[dict[str, Any]]] = {}
    for leg in store.ibis.table("legs").order_by(["call_id", "leg_no"]).to_pyarrow().to_pylist():
        legs.setdefault(leg["call_id"], []).append(leg)
    found: list[str] = []
    if len(calls) != len(truth):
        found.append(f"{len(calls)} calls assembled, truth has {len(truth)}")
    for t in truth:
        cid, key = t["call_id"], t["asterisk_linkedid"]
        c = calls.get(key)
        if c is None:
            found.append(f"{cid}: no call {key}")
            continue
        if c["external_number"] != t["customer_number"]:
            found.append(f"{cid}: number {c['external_number']} != {t['customer_number']}")
        if t["direction"] == "outbound":
            want = OUTBOUND[t["outcome"]]
            got = (c["direction"], c["outcome"], c["answered_by"])
            if got != ("outbound", want, t["agent"]):
                found.append(f"{cid}: {got} != outbound {want} by {t['agent']}")
            if talk and abs((c["talk_s"] or 0) - t["talk_s_total"]) > 1:
                found.append(f"{cid}: talk {c['talk_s']} != {t['talk_s_total']}")
            continue
        missed = c["outcome"] == "missed"
        if (c["direction"], missed) != ("inbound", t["counted_missed"]):
            found.append(f"{cid}: {c['direction']} missed={missed}, truth {t['counted_missed']}")
        if c["answered_by"] != t["answered_by"]:
            found.append(f"{cid}: answered_by {c['answered_by']} != {t['answered_by']}")
        ours = [
            (leg["agent"], leg["result"])
            for leg in legs.get(key, [])
            if leg["destination_kind"] == "agent"
        ]
        want_legs = [(r["agent"], RESULTS[r["result"]]) for r in t["agents_rung"]]
        if sorted(ours) != sorted(want_legs):
            found.append(f"{cid}: legs {sorted(ours)} != {sorted(want_legs)}")
        if talk:
            per_agent: dict[str, float] = {}
            for leg in legs.get(key, []):
                if leg["talk_s"]:
                    per_agent[leg["agent"]] = per_agent.get(leg["agent"], 0) + leg["talk_s"]
            want_talk: dict[str, float] = {}
            for seg in t["talk_segments"]:
                want_talk[seg["agent"]] = want_talk.get(seg["agent"], 0) + seg["talk_s"]
            if set(per_agent) != set(want_talk) or any(
                abs(per_agent[a] - want_talk[a]) > 1 for a in want_talk
            ):
                found.append(f"{cid}: talk {per_agent} != {want_talk}")
    return found
