"""Any one-row-per-call or one-row-per-leg CSV export, read through a mapping file.

The mapping (callscope.sources.mapping, docs/mapping.md) names the columns; this source reads
the file with DuckDB's CSV reader, keeps every row as JSON (`raw`) beside the canonical fields
the mapping derives, and describes calls and legs from those canonical fields only. The facts
SQL therefore needs no mapping: one raw table serves every export, whatever its vendor.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import ClassVar

import duckdb

from callscope.errors import ConfigError, InputFormatError
from callscope.settings import Settings
from callscope.sources.base import StageContext, StageResult
from callscope.sources.mapping import (
    DURATION_FIELDS,
    EXIT_OUTCOMES,
    FIELDS,
    TIME_FIELDS,
    VOCABULARY,
    WRAP_HOURS,
    FieldSql,
    Mapping,
    load_mapping,
    quote_ident,
    quote_literal,
)
from callscope.sources.staging import first_lines, read_csv_with_rejects

_COUNTER = itertools.count(1)
AUTO_DELIMITERS = (",", ";", "\t", "|")


def _delimiter(mapping: Mapping, path: Path) -> str:
    if mapping.csv.delimiter != "auto":
        return mapping.csv.delimiter
    lines = first_lines(path, mapping.csv.skip + 1)
    head = lines[-1] if lines else ""
    return max(AUTO_DELIMITERS, key=head.count)


def _reader_options(mapping: Mapping, delimiter: str) -> dict[str, str]:
    csv = mapping.csv
    options = {
        "delim": quote_literal(delimiter),
        "header": "true" if csv.header else "false",
        "skip": str(csv.skip),
        "quote": quote_literal(csv.quote),
        "auto_detect": "false" if csv.columns else "true",
    }
    if not csv.quote:
        options["escape"] = "''"
    if csv.columns:
        options["columns"] = (
            "{" + ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in csv.columns) + "}"
        )
    return options


class MappedCsv:
    """The mapped-csv format: rows of any export, described by a mapping file."""

    name: ClassVar[str] = "mapped-csv"
    raw_table: ClassVar[str] = "raw_mapped_csv_v1"
    priority: ClassVar[int] = 1
    covers: ClassVar[frozenset[str]] = frozenset({"queue", "dial"})
    raw_columns: ClassVar[str] = (
        "kind VARCHAR, call_key VARCHAR, started_at TIMESTAMP, answered_at TIMESTAMP, "
        "ended_at TIMESTAMP, ring_started_at TIMESTAMP, caller VARCHAR, callee VARCHAR, "
        "line VARCHAR, direction VARCHAR, agent VARCHAR, extension VARCHAR, queue VARCHAR, "
        "wait_s DOUBLE, talk_s DOUBLE, outcome VARCHAR, result VARCHAR, end_stage VARCHAR, "
        "hangup_side VARCHAR, ivr_path VARCHAR, recording VARCHAR, mapping VARCHAR, raw VARCHAR"
    )

    def __init__(self, mapping: Path | None = None) -> None:
        self.mapping = mapping

    def sniff(self, head: str) -> float:
        """Never chosen by --format auto (without its mapping no export can be read), but any
        text is acceptable when the user names this format and a mapping explicitly."""
        return 0.01 if head.strip() else 0.0

    def _mapping_path(self, ctx: StageContext) -> Path:
        path = getattr(ctx, "mapping", None) or self.mapping
        if path is None:
            raise ConfigError(
                "the mapped-csv format needs a mapping file (--mapping FILE, see docs/mapping.md)"
            )
        return Path(path)

    def stage(self, con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
        mapping_path = self._mapping_path(ctx)
        mapping = load_mapping(mapping_path)
        n = next(_COUNTER)
        src, text, out = f"__mc_src_{n}", f"__mc_text_{n}", f"stage_mapped_csv_{n}"
        delimiter = _delimiter(mapping, ctx.path)
        options = _reader_options(mapping, delimiter)
        refused = read_csv_with_rejects(con, ctx.path, src, options, ctx.display_name)
        names = [r[0] for r in con.execute(f"DESCRIBE {src}").fetchall()][2:]
        self._check_columns(mapping, names, mapping_path, ctx.display_name)
        self._check_sql(con, mapping, src, mapping_path, ctx.display_name)

        sql = FieldSql(mapping, mapping.csv.trim)
        raw = "to_json({" + ", ".join(f"{quote_literal(c)}: {quote_ident(c)}" for c in names) + "})"
        line = (
            "concat_ws("
            + quote_literal(delimiter)
            + ", "
            + ", ".join(f"coalesce({quote_ident(c)}, '')" for c in names)
            + ")"
        )
        texts = ", ".join(f"{sql.text(f)} AS {quote_ident('t_' + f)}" for f in FIELDS)
        typed = ", ".join(
            f"{sql.typed(f, quote_ident('t_' + f))} AS {quote_ident('v_' + f)}" for f in FIELDS
        )
        wrapped = ", ".join(
            f"CASE WHEN v_{f} < v_started_at - INTERVAL {WRAP_HOURS} HOUR "
            f"THEN v_{f} + INTERVAL 1 DAY ELSE v_{f} END AS v_{f}"
            for f in sorted(TIME_FIELDS)
            if sql.wraps(f)
        )
        problem_field, problem_reason = self._problems(sql)
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {text} AS
            WITH t AS (SELECT __row_no, __line_no, {raw} AS __raw, {line} AS __line, {texts}
                       FROM {src}),
            v AS (SELECT *, {typed} FROM t),
            w AS (SELECT * {f"REPLACE ({wrapped})" if wrapped else ""} FROM v)
            SELECT *, {problem_field} AS __bad, {problem_reason} AS __why FROM w
            """
        )
        con.execute(
            f"INSERT INTO stage_rejects SELECT __line_no, __bad, __line, __why FROM {text} "
            "WHERE __bad IS NOT NULL ORDER BY __row_no"
        )
        zone = quote_literal(mapping.timezone or ctx.timezone)
        columns = []
        for f in FIELDS:
            value = f"v_{f}"
            if f in TIME_FIELDS:
                value = f"CAST((({value} AT TIME ZONE {zone}) AT TIME ZONE 'UTC') AS TIMESTAMP)"
            columns.append(f"{value} AS {f}")
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {out} AS
            SELECT {quote_literal(mapping.kind)} AS kind, {", ".join(columns)},
                   {quote_literal(mapping.name or mapping_path.stem)} AS mapping, __raw AS raw,
                   hash(__raw) AS record_key, __row_no AS row_no
            FROM {text} WHERE __bad IS NULL ORDER BY __row_no
            """
        )
        counts = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE __bad IS NOT NULL), "
            f"count(*) FILTER (WHERE __bad IS NULL AND v_outcome = 'ignore') FROM {text}"
        ).fetchone()
        parsed, bad, ignored = (int(c) for c in counts) if counts else (0, 0, 0)
        con.execute(f"DROP TABLE IF EXISTS {src}; DROP TABLE IF EXISTS {text}")
        notes = [f"mapping {mapping_path} ({mapping.kind} rows)"]
        if ignored:
            notes.append(f"{ignored} rows mapped to outcome 'ignore': kept raw, no facts")
        if bad:
            notes.append(
                f"{bad} rows rejected by the mapping (a required field is empty or unreadable)"
            )
        return StageResult(table=out, rows_read=parsed + refused, notes=notes)

    @staticmethod
    def _check_columns(
        mapping: Mapping, names: list[str], mapping_path: Path, display: str
    ) -> None:
        for column, field in mapping.referenced_columns().items():
            if column not in names:
                raise InputFormatError(
                    f"{display}: no column {column!r} (named by fields.{field} in {mapping_path}); "
                    f"the file has: {', '.join(names)}"
                )

    @staticmethod
    def _check_sql(
        con: duckdb.DuckDBPyConnection, mapping: Mapping, src: str, mapping_path: Path, display: str
    ) -> None:
        for field, spec in mapping.fields.items():
            for alt in spec.first if spec.first is not None else [spec]:
                if alt.sql is None:
                    continue
                try:
                    con.execute(f"SELECT ({alt.sql}) FROM {src} LIMIT 0")
                except duckdb.BinderException as exc:
                    raise InputFormatError(
                        f"{display}: fields.{field} in {mapping_path} does not fit the file: "
                        f"{str(exc).splitlines()[0]}"
                    ) from exc
                except duckdb.Error as exc:
                    raise ConfigError(
                        f"{mapping_path}: fields.{field}: not valid SQL: {str(exc).splitlines()[0]}"
                    ) from exc

    @staticmethod
    def _problems(sql: FieldSql) -> tuple[str, str]:
        """SQL for the first unusable field of a row (its name) and a reason a person can act on."""
        checks: list[tuple[str, str, str]] = [
            ("call_key", "t_call_key IS NULL", "'call_key is empty'"),
            ("started_at", "t_started_at IS NULL", "'started_at is empty'"),
        ]
        for f in FIELDS:
            t, v = f"t_{f}", f"v_{f}"
            if f in TIME_FIELDS:
                formats = quote_literal(", ".join(sql.formats(f)))
                checks.append(
                    (f, f"{t} IS NOT NULL AND {v} IS NULL",
                     f"'{f}: ''' || {t} || ''' is not a time (formats: ' || {formats} || ')'")
                )  # fmt: skip
            elif f in DURATION_FIELDS:
                checks.append(
                    (f, f"{t} IS NOT NULL AND {v} IS NULL",
                     f"'{f}: ''' || {t} || ''' is not a number of seconds or [H:]MM:SS'")
                )  # fmt: skip
            elif f in VOCABULARY:
                allowed = ", ".join(quote_literal(x) for x in VOCABULARY[f])
                checks.append(
                    (f, f"{t} IS NOT NULL AND {t} NOT IN ({allowed})",
                     f"'{f}: ''' || {t} || ''' is not one of {', '.join(VOCABULARY[f])}; "
                     f"map it under [values.{f}]'")
                )  # fmt: skip
        field = "CASE " + " ".join(f"WHEN {c} THEN '{f}'" for f, c, _ in checks) + " END"
        reason = "CASE " + " ".join(f"WHEN {c} THEN {r}" for _, c, r in checks) + " END"
        return field, reason

    def facts_sql(self, settings: Settings | None = None) -> dict[str, str]:
        return {"call_facts": CALL_FACTS, "leg_facts": LEG_FACTS}


_EXITS = ", ".join(f"'{o}'" for o in EXIT_OUTCOMES)

# One row per record_key (the same row imported twice counts once), rows mapped to 'ignore' out.
_ROWS = """
rows AS (
    SELECT * FROM (
        SELECT *, row_number() OVER (
            PARTITION BY tenant, record_key ORDER BY import_id, row_no) AS k
        FROM {raw}
    ) WHERE k = 1 AND outcome IS DISTINCT FROM 'ignore'
)"""

CALL_FACTS = f"""
WITH {_ROWS},
calls AS (
    SELECT tenant, call_key,
        min(started_at) AS started_at,
        max(greatest(ended_at, answered_at, started_at)) AS ended_at,
        min_by(caller, started_at) FILTER (WHERE caller IS NOT NULL) AS caller,
        min_by(callee, started_at) FILTER (WHERE callee IS NOT NULL) AS callee,
        min_by(line, started_at) FILTER (WHERE line IS NOT NULL) AS line,
        min_by(CASE WHEN direction IN ('outbound', 'internal')
                    THEN coalesce(extension, agent, caller) END, started_at)
            FILTER (WHERE direction IS NOT NULL) AS origin_agent,
        min_by(queue, started_at) FILTER (WHERE queue IS NOT NULL) AS queue,
        max_by(end_stage, started_at) FILTER (WHERE end_stage IS NOT NULL) AS end_stage,
        coalesce(bool_or(outcome = 'answered' OR result = 'answered'), false) AS answered,
        max_by(outcome, started_at) FILTER (WHERE outcome IS NOT NULL) AS last_outcome,
        coalesce(bool_or(agent IS NOT NULL OR extension IS NOT NULL), false) AS rang_agent,
        coalesce(bool_or(wait_s > 0 OR queue IS NOT NULL), false) AS queued,
        max_by(hangup_side, started_at) FILTER (WHERE hangup_side IS NOT NULL) AS hangup_side,
        min_by(ivr_path, started_at) FILTER (WHERE ivr_path IS NOT NULL) AS ivr_path,
        min_by(recording, started_at) FILTER (WHERE recording IS NOT NULL) AS recording
    FROM rows GROUP BY tenant, call_key
)
SELECT tenant, call_key, 'mapped-csv' AS source, 1 AS priority, started_at, ended_at,
    caller, callee, line, origin_agent, queue,
    coalesce(end_stage, CASE
        WHEN answered THEN 'agent'
        WHEN last_outcome = 'abandoned' THEN
            CASE WHEN rang_agent THEN 'ring_group' WHEN queued THEN 'queue' ELSE 'ivr' END
        WHEN last_outcome IN ('no_answer', 'busy') THEN
            CASE WHEN queued THEN 'queue' ELSE 'ring_group' END
        WHEN last_outcome IN ('voicemail', 'after_hours', 'invalid_destination') THEN last_outcome
        WHEN last_outcome = 'external_forward' THEN 'external'
        WHEN last_outcome IN ('timeout', 'exit_key', 'join_empty', 'leave_empty', 'full',
                              'callback_requested') THEN 'queue'
    END) AS end_stage,
    coalesce(hangup_side, CASE WHEN NOT answered AND last_outcome = 'abandoned' THEN 'caller' END)
        AS hangup_side,
    ivr_path, recording,
    CASE WHEN NOT answered AND last_outcome IN ({_EXITS}) THEN last_outcome END AS exit_reason,
    NULL::TIMESTAMP AS queue_entered_at
FROM calls
"""

LEG_FACTS = f"""
WITH {_ROWS},
legs AS (
    SELECT *, coalesce(result, CASE
        WHEN outcome = 'answered' THEN 'answered'
        WHEN outcome = 'busy' THEN 'busy'
        WHEN outcome = 'abandoned' THEN 'caller_hung_up'
        WHEN outcome IS NULL AND (answered_at IS NOT NULL OR talk_s > 0) THEN 'answered'
        ELSE 'no_answer'
    END) AS leg_result
    FROM rows
    WHERE kind = 'leg' OR agent IS NOT NULL OR extension IS NOT NULL
       OR outcome IN ('answered', 'no_answer', 'busy') OR result IS NOT NULL
)
SELECT tenant, call_key, 'mapped-csv' AS source, 1 AS priority,
    CASE WHEN queue IS NOT NULL THEN 'queue' ELSE 'dial' END AS leg_group,
    CASE WHEN outcome = 'voicemail' AND agent IS NULL AND extension IS NULL
         THEN 'voicemail' ELSE 'agent' END AS destination_kind,
    agent, extension, queue,
    coalesce(ring_started_at, CASE WHEN kind = 'leg' THEN started_at END) AS ring_started_at,
    CASE WHEN leg_result = 'answered' THEN answered_at END AS answered_at,
    coalesce(ended_at, answered_at, ring_started_at) AS ended_at,
    CASE WHEN leg_result = 'answered'
         THEN coalesce(talk_s, epoch(ended_at - answered_at)) END::DOUBLE AS talk_s,
    leg_result AS result, hangup_side
FROM legs
"""
