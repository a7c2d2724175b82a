"""The one-screen digest: `summary`, the report `callscope summary` prints.

Every figure is an Ibis aggregate over `calls`/`legs`; the CLI only renders the result.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from callscope.metrics.agents import offered_legs, rang_no_answer
from callscope.metrics.contacts import contacts
from callscope.metrics.report import MetricFilter, Report
from callscope.metrics.scope import agents_table, build, make_scope, query, scoped_calls, share
from callscope.metrics.service import inbound, service_aggregates
from callscope.settings import Settings
from callscope.store import Store

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
        lg = offered_legs(scope)
        at = lg.group_by("agent").aggregate(
            offered=lg.count(), rang_no_answer=rang_no_answer(lg).sum()
        )
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
