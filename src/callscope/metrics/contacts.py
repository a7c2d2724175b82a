"""Missed contacts and their resolution (design.md 4), as one Ibis expression.

Per customer number, calls are ordered in time and every successful contact (an answered call,
either way) closes a segment: the missed calls of one segment are one contact, the success that
closes it is its resolution, the unconnected outbound calls inside it are callback attempts.
That is a running sum over a window and equi-joins, so it runs in the engine at any size.

A contact is read over the number's whole history (a chain of misses that began long before a
period is one contact, dated by its first miss). The store keeps these rows in the table
`contacts`, refreshed at import (`callscope.metrics.contacts_table`); reports read that table
when it was built under the same settings, else this expression, which gives the same rows.
"""

from __future__ import annotations

from datetime import timedelta

import ibis
import ibis.expr.types as ir

from callscope.metrics import contacts_table
from callscope.metrics.scope import Scope, agents_table, answered, calendar, tenant_calls

STATUSES = ("called_back", "recalled_by_customer", "attempted", "open")
COLOURS = ("red", "yellow", "green")


def customer_events(scope: Scope, numbers: ir.Table | None = None) -> ir.Table:
    """Calls with a customer number (inbound from it, outbound to it), each tagged miss,
    success or attempt, with `seg`: how many successes that number had up to this call. The
    numbers are those of `numbers` (a table with `external_number`), else those with a missed
    call in the scope's period; each with its whole history."""
    s = scope.settings
    c = tenant_calls(scope)
    c = c.filter(c.external_number.notnull() & c.direction.isin(["inbound", "outbound"]))
    if numbers is not None:
        c = c.filter(c.external_number.isin(numbers.external_number))
    else:
        if scope.flt.numbers:
            c = c.filter(scope.among(c.external_number, "numbers", lambda s: s.numbers()))
        # Only numbers with a missed call in the period can have a contact there: the window
        # below then sorts their calls alone.
        m = c
        if scope.start is not None:
            m = m.filter(m.started_at >= scope.since())
        if scope.end is not None:
            m = m.filter(m.started_at < scope.until())
        m = m.filter((m.direction == "inbound") & ~answered(m, s))
        c = c.filter(c.external_number.isin(m.external_number))
    ok = answered(c, s)
    ev = c.select(
        "call_id",
        "external_number",
        "direction",
        "started_at",
        "answered_by",
        "end_stage",
        "line",
        "queue",
        # A callback resolves when the customer picks up; a customer's own call when it starts.
        resolves_at=ibis.cases(
            ((c.direction == "outbound") & c.first_answered_at.notnull(), c.first_answered_at),
            else_=c.started_at,
        ),
        is_miss=(c.direction == "inbound") & ~ok,
        is_success=ok,
        is_try=(c.direction == "outbound") & ~ok,
    )
    seg = ev.is_success.cast("int64").cumsum(
        group_by=ev.external_number, order_by=[ev.started_at, ev.call_id]
    )
    return ev.mutate(seg=seg)


def by_time(at: ir.TimestampValue, *ids: ir.Value) -> ir.StructValue:
    """An ordering key for argmin / argmax: the time, then ids for events at the same time.
    NULL when the time is (such rows are passed over, as with the time alone)."""
    key = ibis.struct({"at": at, **{f"id{i}": v for i, v in enumerate(ids)}})
    return ibis.cases((at.notnull(), key), else_=ibis.null(key.type()))


def computed(scope: Scope, numbers: ir.Table | None = None) -> ir.Table:
    """Every missed contact of the numbers `customer_events` selects, whenever it began: the
    table's columns (`contacts_table.COLUMNS`), computed from the calls."""
    s = scope.settings
    horizon = timedelta(days=s.metrics.resolution_horizon_days)
    horizon_s = horizon.total_seconds()
    ev = customer_events(scope, numbers)
    key = ["external_number", "seg"]
    miss = ev.filter(ev.is_miss)
    # Calls (legs) that share a start time are told apart by their ids, in the order of the
    # number's window (started_at, call_id): `contact_id` is then one call on every engine and
    # in the kept table alike, not whichever the engine met first.
    in_order = by_time(miss.started_at, miss.call_id)
    grouped = miss.group_by(key).aggregate(
        contact_id=miss.call_id.argmin(in_order),
        first_missed_at=miss.started_at.min(),
        last_missed_at=miss.started_at.max(),
        attempts=miss.count(),
        end_stage=miss.end_stage.argmax(in_order),
        line=miss.line.argmax(in_order),
        queue=miss.queue.argmax(in_order),
        call_ids=miss.call_id.collect(),
    )
    legs = scope.table("legs")
    rung = legs.filter(
        scope.tenant_is(legs.tenant) & (legs.destination_kind == "agent") & legs.agent.notnull()
    )
    ml = miss.select(*key, "call_id").join(rung, "call_id")
    who = ml.group_by(key).aggregate(
        agent=ml.agent.argmax(by_time(ml.ring_started_at, ml.call_id, ml.leg_no)),
        agents_rung=ml.agent.collect(distinct=True).sort(),
    )
    succ = ev.filter(ev.is_success)
    succ = succ.select(
        s_number=succ.external_number,
        s_seg=succ.seg - 1,
        s_start=succ.started_at,
        s_at=succ.resolves_at,
        s_kind=ibis.cases(
            (succ.direction == "inbound", "recalled_by_customer"), else_="called_back"
        ),
        s_agent=succ.answered_by,
        closing_call_id=succ.call_id,
    )
    # Callback attempts: unconnected outbound calls of the contact's segment after its first
    # missed call (an equi-join to the contacts, cheaper than a second window over all calls).
    tried = ev.filter(ev.is_try).select(
        t_number=ev.external_number, t_seg=ev.seg, t_at=ev.started_at, t_call=ev.call_id
    )
    tried = tried.join(
        grouped.select("external_number", "seg", "first_missed_at"),
        [tried.t_number == grouped.external_number, tried.t_seg == grouped.seg],
    )
    tried = tried.filter(tried.t_at > tried.first_missed_at)
    tries = tried.group_by(key).aggregate(
        first_try_at=tried.t_at.min(),
        try_call_id=tried.t_call.argmin(by_time(tried.t_at, tried.t_call)),
    )
    t = grouped.left_join(who, key).drop("external_number_right", "seg_right")
    t = t.left_join(tries, key).drop("external_number_right", "seg_right")
    t = t.left_join(succ, [t.external_number == succ.s_number, t.seg == succ.s_seg]).drop(
        "s_number", "s_seg"
    )
    deadline = t.first_missed_at + ibis.interval(seconds=int(horizon_s))
    resolved = t.s_start.notnull() & (t.s_start <= deadline)
    has_try = t.first_try_at.notnull() & (t.first_try_at <= deadline)
    t = t.mutate(
        status=ibis.cases((resolved, t.s_kind), (has_try, "attempted"), else_="open"),
        resolved_at=ibis.cases((resolved, t.s_at), else_=ibis.null().cast("timestamp")),
        resolved_by_agent=ibis.cases((resolved, t.s_agent), else_=ibis.null().cast("string")),
        attempted_at=ibis.cases((has_try, t.first_try_at), else_=ibis.null().cast("timestamp")),
    )
    t = t.mutate(
        time_to_resolution_s=(
            t.resolved_at.epoch_seconds() - t.first_missed_at.epoch_seconds()
        ).cast("float64")
    )
    teams = agents_table(s).select(a_agent="agent", team="team")
    t = t.left_join(teams, t.agent == teams.a_agent).drop("a_agent")
    t = t.mutate(cal_key=scope.schedule.key_of(t.team))
    t = scope.schedule.working_seconds(
        t, "contact_id", "cal_key", "first_missed_at", "resolved_at", calendar(scope, horizon)
    ).drop("cal_key")
    sla_s = s.metrics.callback_sla_min * 60
    in_sla = t.work_s.notnull() & (t.work_s <= sla_s)
    t = t.mutate(
        within_sla=(t.status == "called_back") & in_sla,
        colour=ibis.cases(
            (t.status == "open", "red"),
            (t.status == "attempted", "yellow"),
            (in_sla, "green"),
            else_="yellow",
        ),
    )
    return t.select(*contacts_table.COLUMNS, "call_ids")


def contacts(scope: Scope, *, period_only: bool = True) -> ir.Table:
    """One row per missed contact: the fields of the `missed` report plus `agent`, `team`,
    `work_s` (working seconds to resolution), `contact_id` (its first call's id) and `seg`.
    From the store's table when it holds this scope's settings, else computed."""
    kept = contacts_table.kept(scope)
    if kept is not None:
        t = kept.select(*contacts_table.COLUMNS)
        if not period_only:
            return t
        if scope.flt.numbers:
            t = t.filter(scope.among(t.external_number, "numbers", lambda s: s.numbers()))
        t = _filtered(scope, t)
        if scope.literal:
            return t
    fresh = computed(scope).select(*contacts_table.COLUMNS)
    if period_only:
        fresh = _filtered(scope, fresh)
    if kept is None:
        return fresh
    return contacts_table.either(scope, t, fresh)


def _filtered(scope: Scope, t: ir.Table) -> ir.Table:
    flt = scope.flt
    if scope.start is not None:
        t = t.filter(t.first_missed_at >= scope.since())
    if scope.end is not None:
        t = t.filter(t.first_missed_at < scope.until())
    if flt.lines:
        t = t.filter(scope.among(t.line, "lines", lambda s: list(s.flt.lines)))
    if flt.queues:
        t = t.filter(scope.among(t.queue, "queues", lambda s: list(s.flt.queues)))
    if scope.agent_set() is not None:
        t = t.filter(scope.in_agents(t.agent))
    return t


def call_contacts(scope: Scope, calls: ir.Table) -> ir.Table:
    """call_id -> the status and colour of the missed contact each (missed) call of `calls`
    belongs to, whenever that contact began."""
    kept = contacts_table.kept(scope)
    if kept is not None:
        links = contacts_table.kept_links(scope)
        links = links.filter(links.call_id.isin(calls.call_id))
        j = links.join(kept, links.contact_id == kept.contact_id)
        from_table = j.select(
            m_call_id=j.call_id,
            contact_id=j.contact_id,
            contact_status=j.status,
            c_colour=j.colour,
        )
        if scope.literal:
            return from_table
    con = computed(scope)
    flat = con.select("contact_id", "status", "colour", m_call_id=con.call_ids.unnest())
    flat = flat.filter(flat.m_call_id.isin(calls.call_id))
    fresh = flat.select("m_call_id", "contact_id", contact_status=flat.status, c_colour=flat.colour)
    if kept is None:
        return fresh
    return contacts_table.either(scope, from_table, fresh)
