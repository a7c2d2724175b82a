"""Who an agent is: the PBX writes an extension, a queue member name or `Agent/NNNN`; the
`[agents]` table of the config says they are the same person (keyed by extension)."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from callscope.settings import Settings


def load_agent_aliases(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Temp table agent_alias(alias, agent): every name the config gives an agent -> its id."""
    aliases = settings.agent_aliases()
    alias, agent = list(aliases), list(aliases.values())
    con.register(
        "agent_alias_arrow",
        pa.table(
            {"alias": alias, "agent": agent},
            schema=pa.schema([("alias", pa.string()), ("agent", pa.string())]),
        ),
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE agent_alias AS "
        "SELECT DISTINCT ON (alias) alias, agent FROM agent_alias_arrow"
    )
    con.unregister("agent_alias_arrow")


def agent_id_sql(agent: str, extension: str) -> str:
    """The agent id for a leg: a configured alias of the name or extension, else the
    extension, else the name as written (Agent/1001 keeps its number)."""
    return f"""coalesce(
        (SELECT a.agent FROM agent_alias a WHERE a.alias = {agent}),
        (SELECT a.agent FROM agent_alias a WHERE a.alias = {extension}),
        {extension},
        nullif(regexp_extract({agent}, '^(?:[A-Za-z0-9_]+/)([^-@;/\\s]+)', 1), ''),
        {agent})"""


def resolved_raw_sql(raw: str, raw_columns: str, agent_sql: str | None = None) -> str:
    """A source's raw rows with the column `agent` holding the agent id instead of the name the
    PBX wrote, for its agent events SQL: a state ends at the same agent's next event, and "101"
    and "Anna Petrova" are one agent when the config says so (a pause written under one name
    and its end under the other is one pause, not a pause that never ends). `agent_sql` names
    the agent in a raw that has no `agent` column (AMI: a header of the event)."""
    resolved = agent_id_sql("r.agent", "NULL::VARCHAR")
    if agent_sql is None:
        names = {column.split()[0] for column in raw_columns.split(",")}
        if "agent" not in names:
            raise ValueError(f"raw columns without `agent` and no agent_sql: {raw_columns}")
        return f"SELECT * REPLACE ({resolved} AS agent) FROM ({raw}) r"
    named = f"SELECT *, {agent_sql} AS agent FROM ({raw})"
    return f"SELECT * REPLACE ({resolved} AS agent) FROM ({named}) r"
