"""Incremental assembly: finished calls move from the inbox to raw records and to calls/legs.

A call is handed to the assembler when it is over (every AMI channel seen has hung up; a generic
`call.ended` event arrived) or when it has been silent for `live.call_timeout_s`. Until then it
lives only on the agent board: metrics and the missed-call tracker never see a half-assembled
call. Events that belong to no call (agent pauses, device states) are moved at once.

The move is the batch import's own step (`ingest_staged`: keep new raw rows by record_key,
re-assemble exactly the calls they touch), so a live day and an import of the same PBX's logs
give the same calls. A late event of a call already assembled is moved the same way and the call
is re-assembled, replacing the old rows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import duckdb

from callscope import importer
from callscope.assemble import rebuild_agent_states
from callscope.live.inbox import TABLE as INBOX
from callscope.live.inbox import attach_inbox
from callscope.settings import Settings
from callscope.sources import get_source
from callscope.sources.asterisk_ami import STAGE_SELECT as AMI_STAGE
from callscope.sources.base import Source
from callscope.sources.webhook_events import STAGE_SELECT as WEBHOOK_STAGE
from callscope.store import Store

AMI = "asterisk-ami"
WEBHOOK = "webhook-events"
STAGE = {AMI: AMI_STAGE, WEBHOOK: WEBHOOK_STAGE}

# When a call's events are complete, per source, as SQL over its inbox rows grouped by call_key.
FINISHED = {
    AMI: """count(DISTINCT payload ->> 'Uniqueid') FILTER (WHERE (payload ->> 'Event') = 'Hangup')
            >= greatest(count(DISTINCT payload ->> 'Uniqueid')
                        FILTER (WHERE (payload ->> 'Event') = 'Newchannel'), 1)
            -- stragglers (BridgeDestroy, Cdr) of a call already moved: after 30 s of quiet
            OR (count(*) FILTER (WHERE (payload ->> 'Event') = 'Newchannel') = 0
                AND max(received_at) < now()::TIMESTAMP - INTERVAL 30 SECOND)""",
    WEBHOOK: "bool_or((payload ->> 'type') = 'call.ended')",
}
# Whether an agent talked in the call: calls without are moved first (`step(first=True)`),
# as only they can be missed calls someone is waiting to hear about. A hint for the order of
# work, not the missed rule: the metric layer decides on the assembled calls.
TALKED = {
    AMI: "bool_or((payload ->> 'Event') = 'BridgeEnter')",
    WEBHOOK: "bool_or((payload ->> 'type') = 'call.answered')",
}
# A webhook call that ended with nobody talking waits `hold` seconds after its `call.ended`
# for a `call.answered` sent late (a retry, another connection): assembled at once it would
# be a missed call for a moment, and its customer's manager would be told.
HELD = {
    WEBHOOK: f"""NOT {TALKED[WEBHOOK]} AND coalesce(max(received_at) FILTER (
        WHERE (payload ->> 'type') = 'call.ended') > now()::TIMESTAMP - to_seconds($3), false)""",
}


# The agents whose agent events a batch of the source's staged rows holds, where agent_states
# can be rebuilt per agent (`assemble.rebuild_agent_states(agents=...)`: agent events computed
# per agent - the id its raw `agent` resolves to - alone). Other sources rebuild it whole.
AGENTS_OF = {
    WEBHOOK: "SELECT DISTINCT agent FROM live_stage"
    " WHERE event_type = 'agent.state' AND agent IS NOT NULL",
}


@dataclass
class Moved:
    """What one pass moved: events, the calls (re-)assembled, and agent events: of sources
    rebuilt whole (`agent_events`) or per agent (`agents`, names by source). `cut`: the pass
    was cut short (`Cut`) and left the rest in the inbox."""

    events: int = 0
    calls: list[str] = field(default_factory=list)
    agent_events: bool = False
    agents: dict[str, set[str]] = field(default_factory=dict)
    cut: bool = False

    def add(self, more: Moved) -> Moved:
        self.events += more.events
        self.calls.extend(more.calls)
        self.agent_events = self.agent_events or more.agent_events
        for name, agents in more.agents.items():
            self.agents.setdefault(name, set()).update(agents)
        self.cut = more.cut
        return self


class Cut:
    """The transaction of a bulk pass, which a call ended unanswered may cut short: a missed
    call waited for the pass in flight on the one store connection (half of its notification
    time at the p99 in bench/live.py). `interrupt()` (any thread) stops the statement running
    (DuckDB's interrupt); the transaction rolls back and its events stay in the inbox for the
    next pass, as after a crash. Only inside the transaction (`importer.ingest_staged` opens
    the window after BEGIN and closes it before COMMIT or ROLLBACK, under the same lock as the
    interrupt), so a COMMIT or ROLLBACK is never what is interrupted. A pass `armed` but not
    in its transaction yet (staging) is cut as its transaction opens; an interrupt that falls
    between two statements is lost and the pass just finishes."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._lock = threading.Lock()
        self._armed = self._open = self._pending = False
        self.fired = False

    def arm(self, armed: bool) -> None:
        with self._lock:
            self._armed, self._pending, self.fired = armed, False, False

    def open(self) -> None:
        with self._lock:
            if self._pending:
                self.fired = True
                raise InterruptedError("cut short before its first statement")
            self._open = True

    def close(self) -> None:
        with self._lock:
            self._open = False

    def interrupt(self) -> bool:
        with self._lock:
            if self._open and not self.fired:
                self._con.interrupt()
                self.fired = True
            elif self._armed and not self._open:
                self._pending = True
            return self.fired or self._pending


class Driver:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.tenant = settings.tenant
        attach_inbox(store)
        for name in STAGE:
            importer.ensure_raw_table(store.con, get_source(name))
        # Agent events moved since agent_states were last rebuilt. True at start (a whole
        # rebuild): a crash between a move and its rebuild must not leave them stale until
        # the next agent event. `agents_due`: agents whose rows alone are due, by source.
        self.agent_states_due = True
        self.agents_due: dict[str, set[str]] = {}
        self.cut = Cut(store.con)

    def step(
        self,
        *,
        flush: bool = False,
        first: bool = False,
        hold_s: float = 0.0,
        agent_states: bool = True,
        cuttable: bool = False,
    ) -> Moved:
        """Move every finished call (all pending calls when `flush`, e.g. at the end of a
        replay or before shutting down; only finished calls nobody talked in when `first`),
        except calls ended unanswered less than `hold_s` ago (`HELD`). `agent_states=False`
        leaves their rebuild to a later `rebuild_agent_states()`. `cuttable`: `self.cut` may
        stop the pass (`Moved.cut`; the sources not moved yet wait for the next one)."""
        moved = Moved()
        # Only the sources with events waiting: three statements saved per idle source.
        waiting = self.store.con.execute(
            f"SELECT DISTINCT source FROM {INBOX} WHERE tenant = ?", [self.tenant]
        ).fetchall()
        self.cut.arm(cuttable)
        try:
            for name in STAGE:
                if (name,) in waiting and not moved.cut:
                    self._move(get_source(name), moved, flush, first, hold_s, cuttable)
        finally:
            self.cut.arm(False)
        self.agent_states_due = self.agent_states_due or moved.agent_events
        for name, agents in moved.agents.items():
            self.agents_due.setdefault(name, set()).update(agents)
        if agent_states:
            self.rebuild_agent_states()
        return moved

    def rebuild_agent_states(self) -> bool:
        """agent_states from the agent events kept, if events moved since the last rebuild:
        whole, as the import does (`assemble.rebuild_agent_states`: 160-200 ms at 60,000
        events, growing with the history), at start and after agent events of a source not
        in AGENTS_OF; else only the rows of the agents whose events moved. The service runs
        it after a missed call's pass, not before."""
        if not self.agent_states_due and not self.agents_due:
            return False
        sources = importer.stored_sources(self.store.con)
        rebuild_agent_states(
            self.store.con,
            sources,
            self.settings,
            self.tenant,
            {s.name: s.raw_table for s in sources},
            None if self.agent_states_due else {k: sorted(v) for k, v in self.agents_due.items()},
        )
        self.agent_states_due = False
        self.agents_due = {}
        return True

    def _move(
        self, source: Source, moved: Moved, flush: bool, first: bool, hold_s: float, cuttable: bool
    ) -> None:
        con = self.store.con
        timeout = float(self.settings.live.call_timeout_s)
        finished = "true" if flush else FINISHED[source.name]
        untalked = f"AND NOT ({TALKED[source.name]})" if first else ""
        held = HELD.get(source.name) if hold_s > 0 and not flush else None
        if held:
            untalked += f" AND NOT ({held})"
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE live_ready AS
            SELECT call_key FROM {INBOX}
            WHERE tenant = $1 AND source = $2 AND call_key IS NOT NULL
            GROUP BY call_key
            HAVING ({finished}
                    OR max(received_at) < now()::TIMESTAMP - to_seconds({timeout})) {untalked}
            """,
            [self.tenant, source.name, *([hold_s] if held else [])],
        )
        loose = "" if first else "call_key IS NULL OR "
        where = (
            f"tenant = $1 AND source = $2 AND ({loose}"
            "call_key IN (SELECT call_key FROM live_ready))"
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE live_stage AS
            SELECT {STAGE[source.name]}, event_key AS record_key, seq AS row_no
            FROM {INBOX} WHERE {where}
            """,
            [self.tenant, source.name],
        )
        # What was staged, in one statement: events, those of no call, the calls, the agents.
        agents = AGENTS_OF.get(source.name)
        row = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE key IS NULL),"
            " (SELECT list(call_key ORDER BY call_key) FROM live_ready),"
            f" ({f'SELECT list(agent) FROM ({agents})' if agents else 'NULL::VARCHAR[]'})"
            f" FROM (SELECT {source.key_sql} AS key FROM live_stage)"  # type: ignore[attr-defined]
        ).fetchone()
        count, without_call = (int(row[0]), int(row[1])) if row else (0, 0)
        if not count or row is None:
            return
        calls = [str(k) for k in row[2] or []]
        if row[3]:
            moved.agents.setdefault(source.name, set()).update(str(a) for a in row[3])
        # The intake keeps writing meanwhile: delete exactly the events staged, not whatever
        # matches the condition by now. A crash between the two steps re-stages events the
        # raw table already keeps, which ingest_staged skips.
        con.execute("CREATE OR REPLACE TEMP TABLE live_moving AS SELECT record_key FROM live_stage")
        try:
            importer.ingest_staged(
                self.store, source, "live_stage", settings=self.settings,
                origin=f"live:{source.name}", cut=self.cut if cuttable else None,
            )  # fmt: skip
        except Exception:
            # (whatever the interrupted statement raised: DuckDB's InterruptException, or an
            # Ibis error around it; the transaction was rolled back either way)
            if not (cuttable and self.cut.fired):
                raise
            moved.cut = True
            return
        con.execute(
            f"DELETE FROM {INBOX} WHERE tenant = $1 AND source = $2"
            " AND event_key IN (SELECT record_key FROM live_moving)",
            [self.tenant, source.name],
        )
        moved.events += count
        moved.calls.extend(calls)
        moved.agent_events = moved.agent_events or (without_call > 0 and agents is None)
