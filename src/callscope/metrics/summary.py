"""The one-screen digest: `summary` (the report) and `call_summary` (the import's quick look,
kept for callers of the old shape).

Every figure is an Ibis aggregate over `calls`/`legs`; the CLI only renders the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from callscope.calllog import CallFilter, filtered_calls
from callscope.metrics.agents import leg_figures
from callscope.metrics.contacts import contacts
from callscope.metrics.report import MetricFilter, Report
from callscope.metrics.scope import agents_table, build, make_scope, query, scoped_calls, share
from callscope.metrics.service import inbound, service_aggregates
from callscope.settings import Settings
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


SUMMARY_FORMULAS = {
    "offered": "inbound calls; answered / missed / asr / asa_s / service_level as in `service`",
    "missed_share": "missed / offered",
    "open_contacts": "missed contacts of the period still open (no callback attempt)",
    "attempted_contacts": "missed contacts with a callback attempt that did not connect",
    "worst_agents": "agents with offered >= worst_agents_min_offered, highest miss_rate first",
}


def summary(store: Store, flt: MetricFilter, settings: Settings) -> Report:
    """The one-screen digest: call totals, service, open missed contacts, worst agents."""
    scope = make_scope(store, flt, settings)

    def directions() -> ir.Table:
        calls = scoped_calls(scope)
        return calls.aggregate(
            calls=calls.count(),
            inbound=(calls.direction == "inbound").sum(),
            outbound=(calls.direction == "outbound").sum(),
            internal=(calls.direction == "internal").sum(),
        )

    def service_totals() -> ir.Table:
        c = inbound(scope)
        return c.aggregate(**service_aggregates(c, settings))

    def contact_totals() -> ir.Table:
        ct = contacts(scope)
        return ct.aggregate(
            missed_contacts=ct.count(),
            open_contacts=(ct.status == "open").sum(),
            attempted_contacts=(ct.status == "attempted").sum(),
            called_back=(ct.status == "called_back").sum(),
            called_back_within_sla=ct.within_sla.sum(),
        )

    m = settings.metrics

    def worst_agents() -> ir.Table:
        at = leg_figures(scope)
        at = at.mutate(miss_rate=share(at.rang_no_answer, at.offered))
        names = agents_table(settings).rename(n_agent="agent")
        at = at.left_join(names, at.agent == names.n_agent).drop("n_agent")
        return (
            at.filter(at.offered >= m.worst_agents_min_offered)
            .select("agent", "agent_name", "team", "offered", "rang_no_answer", "miss_rate")
            .order_by([ibis.desc("miss_rate"), ibis.desc("offered"), "agent"])
            .limit(m.worst_agents_count)
        )

    by_dir = query(scope, "summary.directions", directions)[0]
    svc = query(scope, "summary.service", service_totals)[0]
    open_ = query(scope, "summary.contacts", contact_totals)[0]
    worst = query(scope, "summary.worst", worst_agents)
    row: dict[str, Any] = {k: int(v or 0) for k, v in by_dir.items()}
    offered = int(svc["offered"] or 0)
    missed_n = int(svc["missed"] or 0)
    row.update(
        offered=offered,
        answered=int(svc["answered"] or 0),
        missed=missed_n,
        missed_share=missed_n / offered if offered else None,
        asr=svc["asr"],
        asa_s=svc["asa_s"],
        service_level=svc["service_level"],
        sl_variant=m.sl_variant,
        abandon_rate=svc["abandon_rate"],
        short_abandons=int(svc["short_abandons"] or 0),
        **{k: int(v or 0) for k, v in open_.items()},
    )
    return build(
        scope,
        "summary",
        [row],
        SUMMARY_FORMULAS,
        {"worst_agents": worst},
        worst_agents_min_offered=m.worst_agents_min_offered,
    )
