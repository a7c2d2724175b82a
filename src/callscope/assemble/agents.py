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
