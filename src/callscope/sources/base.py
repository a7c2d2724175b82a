"""What every batch source provides, and the facts tables through which sources meet.

A source parses one file format with DuckDB's CSV reader (no Python loop over rows) into a
staging table of typed raw records; the import keeps those records in the source's own raw table
(`raw_<format>`), rejects go to `rejects`. The source then describes, as SQL over its raw table,
what it knows of each call. Those descriptions are the *facts* below; the assembler
(callscope.assemble) merges the facts of every source of the same PBX into one call.

Facts views (every timestamp is a naive UTC TIMESTAMP, every duration seconds as DOUBLE):

`call_facts`  one row per (source, call_key)
    tenant, call_key, source, priority INT,
    started_at, ended_at, caller VARCHAR (number as written), callee VARCHAR (dialled/DID),
    line VARCHAR (company number), origin_agent VARCHAR (extension that placed the call, if an
    internal phone did), queue VARCHAR, end_stage VARCHAR (EndStage value or NULL when the source
    cannot tell), hangup_side VARCHAR ('caller'|'agent'|NULL), ivr_path VARCHAR, recording VARCHAR,
    exit_reason VARCHAR (why an unanswered caller's call ended, in calls.disposition's words:
    abandoned | timeout | exit_key | join_empty | leave_empty | full | after_hours |
    callback_requested | voicemail | external_forward | invalid_destination; NULL when the
    source cannot tell; docs/import.md), queue_entered_at TIMESTAMP (the caller's queue entry,
    NULL when unknown)

`leg_facts`   one row per leg a source saw
    tenant, call_key, source, priority INT, leg_group VARCHAR (LegGroup),
    destination_kind VARCHAR (DestinationKind), agent VARCHAR (extension, member name or
    Agent/NNNN as the PBX wrote it; the assembler resolves it through [agents]),
    extension VARCHAR, queue VARCHAR, ring_started_at, answered_at, ended_at,
    talk_s DOUBLE, result VARCHAR (LegResult), hangup_side VARCHAR

`key_links`   tenant, alias_key, call_key: another id under which the same call appears
    (Asterisk uniqueid -> linkedid), so queue_log's callid finds the CDR's call.

`agent_events` (optional) tenant, agent, state, reason, started_at, ended_at, source
    Its `{raw}` has the agent id in column `agent` (the assembler resolves the name the PBX
    wrote through [agents] first, so a state ends at the agent's next event under any alias);
    a raw without an `agent` column names it with `agent_sql: ClassVar[str]`.

Which legs win when two sources describe the same call: a source covers the leg groups in
`covers`; a leg is dropped when another source with a higher `priority` that covers the leg's
group has facts for the same call. CEL (all legs, exact bridge times) > queue_log (queue legs,
exact talk) > CDR (all legs, but talk includes IVR/queue time when the PBX answered first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

import duckdb

from callscope.settings import Settings


@dataclass(frozen=True)
class StageContext:
    """What a source needs to parse one file."""

    tenant: str
    timezone: str  # naive local timestamps in the file are in this zone
    settings: Settings
    path: Path  # the file to read (already transcoded to UTF-8 if it was not)
    display_name: str  # how messages name the file (the user's path)
    import_id: int
    head: str = ""  # the file's first 64 KiB, decoded: enough to recognise a column layout
    mapping: Path | None = None  # the mapping file, for mapped-csv


@dataclass
class StageResult:
    """A source's report on one file. `table` holds the typed raw rows (the raw table's
    columns), `rejects` rows (line_no, field, raw, reason) are appended by the source."""

    table: str
    rows_read: int
    notes: list[str] = field(default_factory=list)
    header_lines: int = 0  # lines before the first data row, so rejects point at the right line


class Source(Protocol):
    """A batch input format. Implementations are plain classes with class attributes."""

    name: ClassVar[str]  # --format value, e.g. "asterisk-cdr"
    raw_table: ClassVar[str]  # e.g. "raw_asterisk_cdr"
    raw_columns: ClassVar[str]  # DDL of the raw table's own columns (provenance is added)
    priority: ClassVar[int]
    covers: ClassVar[frozenset[str]]  # LegGroup values this source describes completely
    # Optional: `key_sql: ClassVar[str]`, a SQL expression over the raw columns giving a row's
    # call_key; without it the importer finds the calls a new row touches through its facts.

    def sniff(self, head: str) -> float:
        """How likely (0..1) the first lines of a file are this format; used by --format auto."""
        ...

    def stage(self, con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
        """Parse ctx.path into a temp table named in the result, whose columns are exactly
        `raw_columns` plus `record_key UBIGINT` (content hash, the idempotency key) and
        `row_no BIGINT` (data row ordinal in the file). Bad lines go to temp table `stage_rejects`
        (line_no BIGINT, field VARCHAR, raw VARCHAR, reason VARCHAR), which exists already."""
        ...

    def facts_sql(self) -> dict[str, str]:
        """SQL per facts view name (`call_facts`, `leg_facts`, `key_links`, `agent_events`),
        each a SELECT over `{raw}` (the raw table rows in scope) producing the columns above."""
        ...
