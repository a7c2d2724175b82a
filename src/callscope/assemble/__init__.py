"""Raw records of every source -> calls, legs and agent states (design.md 3).

The assembler is a pipeline of SQL steps run in the engine, so a ten-million-row import has no
Python loop over rows, and a live intake can run the very same steps over the few raw records of
the calls it just closed. Re-assembling a call replaces it: the calls in scope are deleted and
written anew, which is what makes re-imports and late-arriving files converge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from callscope.assemble.agents import agent_id_sql, load_agent_aliases, resolved_raw_sql
from callscope.assemble.calls import calls_sql
from callscope.assemble.legs import legs_sql
from callscope.assemble.numbers import normalise_numbers
from callscope.settings import Settings
from callscope.sources.base import Source
from callscope.store.rung import last_agent_rung_sql

CALL_FACT_COLUMNS = (
    "tenant, call_key, source, priority, started_at, ended_at, caller, callee, line, "
    "origin_agent, queue, end_stage, hangup_side, ivr_path, recording, exit_reason, "
    "queue_entered_at"
)
LEG_FACT_COLUMNS = (
    "tenant, call_key, source, priority, leg_group, destination_kind, agent, extension, queue, "
    "ring_started_at, answered_at, ended_at, talk_s, result, hangup_side"
)
AGENT_EVENT_COLUMNS = "tenant, agent, state, reason, started_at, ended_at, source"


@dataclass
class AssembleResult:
    calls: int
    legs: int


def facts_of(source: Source, settings: Settings) -> dict[str, str]:
    method: Any = source.facts_sql
    try:
        result: dict[str, str] = method(settings)
    except TypeError:
        result = method()
    return result


def _union(parts: list[str], columns: str, empty: str) -> str:
    """The sources' facts under the typed empty template, matched by column name: a source
    written before a column was added to the contract yields NULL there instead of failing."""
    body = " UNION ALL BY NAME ".join(f"SELECT * FROM ({p})" for p in [empty, *parts])
    return f"SELECT {columns} FROM ({body})"


def build_facts(
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[Source],
    settings: Settings,
    raw_of: dict[str, str],
) -> None:
    """Temp tables asm_call_facts / asm_leg_facts from each source's facts over `raw_of[name]`
    (a subquery selecting that source's raw rows in scope)."""
    call_parts: list[str] = []
    leg_parts: list[str] = []
    for source in sources:
        if source.name not in raw_of:
            continue
        facts = facts_of(source, settings)
        raw = f"({raw_of[source.name]})"
        if "call_facts" in facts:
            call_parts.append(facts["call_facts"].replace("{raw}", raw))
        if "leg_facts" in facts:
            leg_parts.append(facts["leg_facts"].replace("{raw}", raw))
    empty_calls = (
        "SELECT NULL::VARCHAR AS tenant, NULL::VARCHAR AS call_key, NULL::VARCHAR AS source,"
        " 0 AS priority, NULL::TIMESTAMP AS started_at, NULL::TIMESTAMP AS ended_at,"
        " NULL::VARCHAR AS caller,"
        " NULL::VARCHAR AS callee, NULL::VARCHAR AS line, NULL::VARCHAR AS origin_agent,"
        " NULL::VARCHAR AS queue, NULL::VARCHAR AS end_stage, NULL::VARCHAR AS hangup_side,"
        " NULL::VARCHAR AS ivr_path, NULL::VARCHAR AS recording, NULL::VARCHAR AS exit_reason,"
        " NULL::TIMESTAMP AS queue_entered_at WHERE false"
    )
    empty_legs = (
        "SELECT NULL::VARCHAR AS tenant, NULL::VARCHAR AS call_key, NULL::VARCHAR AS source,"
        " 0 AS priority, NULL::VARCHAR AS leg_group, NULL::VARCHAR AS destination_kind,"
        " NULL::VARCHAR AS agent,"
        " NULL::VARCHAR AS extension, NULL::VARCHAR AS queue, NULL::TIMESTAMP AS ring_started_at,"
        " NULL::TIMESTAMP AS answered_at, NULL::TIMESTAMP AS ended_at, NULL::DOUBLE AS talk_s,"
        " NULL::VARCHAR AS result, NULL::VARCHAR AS hangup_side WHERE false"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE asm_call_facts AS "
        + _union(call_parts, CALL_FACT_COLUMNS, empty_calls)
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE asm_leg_facts AS "
        + _union(leg_parts, LEG_FACT_COLUMNS, empty_legs)
    )


def assemble(
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[Source],
    settings: Settings,
    raw_of: dict[str, str],
    replace_keys: str | None,
    scope: str | None = None,
) -> AssembleResult:
    """Assemble the calls whose raw rows `raw_of` selects and write them to calls/legs.

    `replace_keys` is a query of the call ids (and their aliases) whose stored rows are replaced;
    None means the store holds no calls of the tenant yet, so nothing needs deleting. `scope`
    names a table of keys (column k): facts of calls outside it are dropped (a source without
    `key_sql` describes all its rows).
    """
    load_agent_aliases(con, settings)
    covers = [(s.name, g) for s in sources for g in sorted(s.covers)]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE asm_source_covers (source VARCHAR, leg_group VARCHAR)"
    )
    if covers:
        con.executemany("INSERT INTO asm_source_covers VALUES (?, ?)", covers)
    build_facts(con, sources, settings, raw_of)
    if scope is not None:
        for table in ("asm_call_facts", "asm_leg_facts"):
            con.execute(
                f"""DELETE FROM {table} f WHERE coalesce(
                        (SELECT k.call_key FROM key_links k
                         WHERE k.tenant = f.tenant AND k.alias_key = f.call_key), f.call_key)
                    NOT IN (SELECT k FROM {scope})"""
            )
    present = [s for s in sources if s.name in raw_of]
    agent_id = agent_id_sql("f.agent", "f.extension")
    con.execute(legs_sql(agent_id, one_source=len(present) == 1))
    con.execute("DROP TABLE asm_leg_facts")
    con.execute(calls_sql(settings, one_row_per_call=len(present) == 1 and _one_row_per_call(con)))
    con.execute("DROP TABLE asm_call_facts")
    normalise_numbers(
        con,
        "SELECT external_raw FROM asm_calls",
        settings.region,
        settings.internal_number_max_digits,
    )
    # The calls this batch replaces, as they were: a kept figure of their customer's day (the
    # first call of the day, metrics.first_calls) must be redone even when a call comes back
    # under another number.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE asm_replaced AS"
        " SELECT tenant, call_id, external_number, started_at FROM calls"
        + ("" if replace_keys is None else f" WHERE (tenant, call_id) IN ({replace_keys})")
        + ("" if replace_keys is not None else " LIMIT 0")
    )
    if replace_keys is not None:
        con.execute(f"DELETE FROM legs WHERE (tenant, call_id) IN ({replace_keys})")
        con.execute(f"DELETE FROM calls WHERE (tenant, call_id) IN ({replace_keys})")
    con.execute(
        """
        INSERT INTO calls BY NAME
        SELECT c.call_id, c.tenant, c.direction, c.started_at, c.ended_at, c.caller, c.callee,
               p.e164 AS external_number, c.line, c.first_answered_at, c.answered_by, c.wait_s,
               c.talk_s, c.max_talk_s, c.outcome, c.end_stage, c.queue, c.ivr_path,
               c.hangup_side, c.recording, c.source, c.disposition, c.queue_entered_at,
               r.last_agent_rung  -- migration 9: a fact of the call's legs, written whole
        FROM asm_calls c
        LEFT JOIN phone_numbers p ON p.region = ? AND p.raw = c.external_raw
        LEFT JOIN ("""
        + last_agent_rung_sql("asm_legs")
        + """) r ON r.tenant = c.tenant AND r.call_id = c.call_id
        """,
        [settings.region],
    )
    # Each leg carries the facts of its call the legs-side reports filter and count by
    # (migration 6): a leg without a call here has none, as it has no call to join.
    con.execute(
        """
        INSERT INTO legs BY NAME
        SELECT l.call_id, l.tenant, l.leg_no, l.destination_kind, l.agent, l.extension, l.queue,
               l.ring_started_at, l.answered_at, l.ended_at, l.ring_s, l.talk_s, l.result,
               l.hangup_side, l.source,
               c.direction AS call_direction, c.started_at AS call_started_at,
               c.first_answered_at AS call_first_answered_at, c.max_talk_s AS call_max_talk_s,
               CASE WHEN l.destination_kind = 'agent' AND l.agent IS NOT NULL THEN
                   row_number() OVER (PARTITION BY l.tenant, l.call_id, l.agent,
                                      l.destination_kind ORDER BY l.leg_no) = 1
               END AS agent_first_leg  -- migration 8: a call's legs are written whole
        FROM asm_legs l
        LEFT JOIN asm_calls c ON c.tenant = l.tenant AND c.call_id = l.call_id
        """
    )
    calls = con.execute("SELECT count(*) FROM asm_calls").fetchone()
    legs = con.execute("SELECT count(*) FROM asm_legs").fetchone()
    con.execute("DROP TABLE asm_calls; DROP TABLE asm_legs")
    return AssembleResult(int(calls[0]) if calls else 0, int(legs[0]) if legs else 0)


def _one_row_per_call(con: duckdb.DuckDBPyConnection) -> bool:
    """No two facts rows describe the same call (after key links), so merging is not needed."""
    row = con.execute(
        """SELECT count(*) = count(DISTINCT (f.tenant, coalesce(k.call_key, f.call_key)))
           FROM asm_call_facts f
           LEFT JOIN key_links k ON k.tenant = f.tenant AND k.alias_key = f.call_key"""
    ).fetchone()
    return bool(row and row[0])


def rebuild_agent_states(
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[Source],
    settings: Settings,
    tenant: str,
    raw_tables: dict[str, str],
    agents: dict[str, list[str]] | None = None,
) -> int:
    """agent_states of a tenant from every source's agent events, rebuilt whole (they are few
    next to calls, and a pause may start in one file and end in the next). A source's SQL sees
    the agent id in its raw column `agent` (`resolved_raw_sql`), so its intervals are the
    agent's, whatever name the PBX wrote each event under.

    `agents` (the live intake, between whole rebuilds): per source, the names (as its raw
    column `agent` has them) of the agents whose events changed. Only that source's rows of
    those agents - every name that resolves to the same agent included - are rebuilt, from all
    their events; other sources' rows are left as they are. These are the rows a whole
    rebuild gives for a source whose agent events are computed per agent over that agent's
    events alone: a whole rebuild cost the live intake 160-200 ms a pass at 60,000 agent
    events."""
    load_agent_aliases(con, settings)
    if agents is None:
        con.execute("DELETE FROM agent_states WHERE tenant = ?", [tenant])
    for source in sources:
        facts = facts_of(source, settings)
        if "agent_events" not in facts or source.name not in raw_tables:
            continue
        raw = resolved_raw_sql(
            f"SELECT * FROM {raw_tables[source.name]} WHERE tenant = '{_q(tenant)}'",
            source.raw_columns,
            getattr(source, "agent_sql", None),
        )
        if agents is not None:
            if source.name not in agents:
                continue
            con.execute(
                "CREATE OR REPLACE TEMP TABLE agent_scope AS SELECT DISTINCT"
                f" {agent_id_sql('n.name', 'NULL::VARCHAR')} AS agent"
                " FROM (SELECT unnest($1::VARCHAR[]) AS name) n",
                [agents[source.name]],
            )
            con.execute(
                "DELETE FROM agent_states WHERE tenant = ? AND source = ?"
                " AND agent IN (SELECT agent FROM agent_scope)",
                [tenant, source.name],
            )
            raw = f"SELECT * FROM ({raw}) WHERE agent IN (SELECT agent FROM agent_scope)"
        sql = facts["agent_events"].replace("{raw}", f"({raw})")
        con.execute(f"INSERT INTO agent_states SELECT {AGENT_EVENT_COLUMNS} FROM ({sql})")
    row = con.execute("SELECT count(*) FROM agent_states WHERE tenant = ?", [tenant]).fetchone()
    return int(row[0]) if row else 0


def _q(text: str) -> str:
    return text.replace("'", "''")
