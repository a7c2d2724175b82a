"""The one-screen call summary the import prints: what the PBX's day looked like.

Every figure is an Ibis aggregate over `calls`/`legs`; the CLI only renders the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir

from callscope.calllog import CallFilter, filtered_calls
from callscope.store import Store


@dataclass
class CallSummary:
    calls: int
    inbound: int
    outbound: int
    internal: int
    inbound_answered: int
    inbound_missed: int
    missed_share: float | None
    missed_by_stage: dict[str, int]
    first_call: str | None
    last_call: str | None
    agents: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def call_summary(store: Store, flt: CallFilter, region: str) -> CallSummary:
    calls: ir.Table = filtered_calls(store, flt, region)
    inbound = calls.direction == "inbound"
    totals = (
        calls.aggregate(
            calls=calls.count(),
            inbound=inbound.sum(),
            outbound=(calls.direction == "outbound").sum(),
            internal=(calls.direction == "internal").sum(),
            inbound_answered=(inbound & (calls.outcome == "answered")).sum(),
            inbound_missed=(inbound & (calls.outcome == "missed")).sum(),
            first=calls.started_at.min(),
            last=calls.started_at.max(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    missed = calls.filter(inbound & (calls.outcome == "missed"))
    stages = (
        missed.group_by(stage=missed.end_stage.fill_null("unknown"))
        .aggregate(n=missed.count())
        .order_by(["stage"])
        .to_pyarrow()
        .to_pylist()
    )
    legs = store.ibis.table("legs")
    scoped = legs.filter(legs.call_id.isin(calls.call_id) & (legs.destination_kind == "agent"))
    per_agent = (
        scoped.group_by("agent")
        .aggregate(
            offered=scoped.count(),
            answered=(scoped.result == "answered").sum(),
            rang_no_answer=scoped.result.isin(["no_answer", "caller_hung_up"]).sum(),
            talk_s=scoped.talk_s.sum(),
        )
        .order_by(["agent"])
        .to_pyarrow()
        .to_pylist()
    )
    inbound_n = int(totals["inbound"] or 0)
    missed_n = int(totals["inbound_missed"] or 0)
    return CallSummary(
        calls=int(totals["calls"] or 0),
        inbound=inbound_n,
        outbound=int(totals["outbound"] or 0),
        internal=int(totals["internal"] or 0),
        inbound_answered=int(totals["inbound_answered"] or 0),
        inbound_missed=missed_n,
        missed_share=(missed_n / inbound_n) if inbound_n else None,
        missed_by_stage={r["stage"]: int(r["n"]) for r in stages},
        first_call=None if totals["first"] is None else totals["first"].isoformat(),
        last_call=None if totals["last"] is None else totals["last"].isoformat(),
        agents=per_agent,
    )
