"""Asterisk queue_log: the queue's own account of who was rung, for how long, and who talked.

CDR and CEL see a queue call as channels; only app_queue knows that a member rang for 15 s and
timed out, or that the talk after CONNECT lasted 35 s while the CDR's billsec also counts the
IVR. That makes queue_log the best source of queue legs, though not of every leg: Asterisk does
not log each cancelled ring-all leg, so the assembler merges these legs with CDR legs of the same
agent whose ring intervals overlap instead of letting them cover the queue group wholesale.

Two layouts, told apart by content: the native file (`epoch|callid|queue|agent|event|data...`,
any number of data fields) and a CSV export of a queue_log database table with a header row
(stock realtime `time, callid, queuename, agent, event, data | data1..data5`, or the vendor
layout `uid, date_time, callid, queue_name, type, event, param1..3, entpos, expos, htime, ttime,
time`). The vendor table puts the caller number where stock Asterisk writes durations and keeps
the ring milliseconds and talk seconds in `htime`/`ttime`, so those are kept as raw columns.
"""

from __future__ import annotations

import re
from typing import ClassVar

import duckdb

from callscope.errors import InputFormatError
from callscope.sources.base import StageContext, StageResult
from callscope.sources.staging import collect_csv_rejects, line_number_sql

# One column per physical line: a delimiter that never occurs keeps blank lines and lines with
# any number of fields, so the row ordinal is the line number that rejects must name.
_NO_DELIM = "\x1f\x1e\x1d\x1c"
_NATIVE_LINE = re.compile(r"^\s*\d{9,13}(\.\d+)?\|[^|]*\|[^|]*\|[^|]*\|[A-Za-z_]+")
_DATA_FIELDS = 5
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S",
    "%d.%m.%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S",
)  # fmt: skip
# Header aliases, best first: the vendor's `date_time` is epoch UTC, its `time` local text.
_ALIASES: dict[str, tuple[str, ...]] = {
    "row_id": ("uid", "id"),
    "time_txt": ("date_time", "time", "timestamp", "datetime", "eventtime", "event_time"),
    "callid": ("callid", "call_id", "uniqueid"),
    "queue": ("queuename", "queue_name", "queue"),
    "agent": ("agent", "membername", "member", "type"),
    "event": ("event", "verb"),
    "entpos": ("entpos",),
    "expos": ("expos",),
    "htime": ("htime",),
    "ttime": ("ttime",),
}
_RAW = ["callid", "queue", "agent", "event", *(f"data{i}" for i in range(1, 6)), "data_more"]
_RAW += ["row_id", "entpos", "expos", "htime", "ttime"]

# Why the queue let an unanswered caller go (callscope.assemble.calls: disposition). Stock
# app_queue only sets QUEUESTATUS for a caller refused at the door; patched builds (Wazo/XiVO)
# and dialplans using QueueLog() write JOINEMPTY, JOINUNAVAIL, FULL and CLOSED events.
EXIT_REASONS = {
    "ABANDON": "abandoned", "EXITWITHTIMEOUT": "timeout", "EXITWITHKEY": "exit_key",
    "EXITEMPTY": "leave_empty", "JOINEMPTY": "join_empty", "JOINUNAVAIL": "join_empty",
    "FULL": "full", "CLOSED": "after_hours",
}  # fmt: skip
_EXIT_CASE = f"CASE event {' '.join(f'WHEN {k!r} THEN {v!r}' for k, v in EXIT_REASONS.items())} END"
CALL_EVENTS = (
    "ENTERQUEUE", "CONNECT", "COMPLETEAGENT", "COMPLETECALLER", "RINGNOANSWER", "RINGCANCELED",
    "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER", "DID", "AGENTDUMP", "SYSCOMPAT",
    *EXIT_REASONS,
)  # fmt: skip
_JOIN = ("ADDMEMBER", "AGENTLOGIN", "AGENTCALLBACKLOGIN")
_LEAVE = ("REMOVEMEMBER", "AGENTLOGOFF", "AGENTCALLBACKLOGOFF")
_PAUSE = ("PAUSE", "PAUSEALL")
_UNPAUSE = ("UNPAUSE", "UNPAUSEALL")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_quote(v) for v in values) + ")"


def _time_sql(col: str, timezone: str) -> str:
    """Epoch seconds (or milliseconds, as some database tables keep them) are UTC; text is
    local time in the tenant zone."""
    formats = "[" + ", ".join(_quote(f) for f in _TIME_FORMATS) + "]"
    local = f"try_strptime({col}, {formats})"
    return f"""CASE
        WHEN regexp_full_match({col}, '[0-9]{{9,10}}([.][0-9]+)?')
            THEN make_timestamp(CAST(round(CAST({col} AS DOUBLE) * 1000000) AS BIGINT))
        WHEN regexp_full_match({col}, '[0-9]{{12,13}}')
            THEN make_timestamp(CAST({col} AS BIGINT) * 1000)
        ELSE CAST(({local} AT TIME ZONE {_quote(timezone)}) AT TIME ZONE 'UTC' AS TIMESTAMP)
    END"""


class AsteriskQueueLog:
    """The `asterisk-queue-log` format: queue legs, queue call facts and agent pauses/logins."""

    name: ClassVar[str] = "asterisk-queue-log"
    raw_table: ClassVar[str] = "raw_asterisk_queue_log_v1"
    raw_columns: ClassVar[str] = (
        "time TIMESTAMP, callid VARCHAR, queue VARCHAR, agent VARCHAR, event VARCHAR, "
        "data1 VARCHAR, data2 VARCHAR, data3 VARCHAR, data4 VARCHAR, data5 VARCHAR, "
        "data_more VARCHAR, row_id VARCHAR, entpos VARCHAR, expos VARCHAR, htime VARCHAR, "
        "ttime VARCHAR"
    )
    priority: ClassVar[int] = 2
    covers: ClassVar[frozenset[str]] = frozenset()
    key_sql: ClassVar[str] = "coalesce(callid, 'NONE')"  # never NULL: NOT IN (.., NULL) is NULL

    def sniff(self, head: str) -> float:
        lines = [line for line in head.splitlines() if line.strip()][:20]
        if not lines:
            return 0.0
        if _header(lines[0]) is not None:
            return 0.9
        native = sum(1 for line in lines if _NATIVE_LINE.match(line))
        return 0.95 if native >= max(1, len(lines) * 0.8 - 1) else 0.0

    def stage(self, con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
        if not (head := ctx.head):
            with ctx.path.open(encoding="utf-8", errors="replace") as fh:
                head = fh.read(65536)
        lines = [line for line in head.splitlines() if line.strip()][:20] or [""]
        first = lines[0]
        header = _header(first)
        if header is not None:
            select, bad, notes = _read_table(con, ctx, *header)
        elif any(_NATIVE_LINE.match(line) for line in lines):  # a bad first line is a reject
            select, bad, notes = _read_native(con, ctx), 0, ["layout: native queue_log file"]
        else:
            raise InputFormatError(
                f"{ctx.display_name}: not an Asterisk queue_log: the first line is neither "
                f"'epoch|callid|queue|agent|event|...' nor a header with callid and event "
                f"columns: {first.strip()[:80]!r}"
            )
        table = "stage_asterisk_queue_log"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _ql_typed AS
            SELECT *, {_time_sql("time_txt", ctx.timezone)} AS time FROM ({select})""")
        row = con.execute("SELECT count(*) FROM _ql_typed").fetchone()
        con.execute(f"""
            INSERT INTO stage_rejects
            SELECT line_no, 'time', raw, CASE WHEN time_txt IS NULL THEN 'time field is missing'
                ELSE 'time ' || chr(39) || time_txt || chr(39) || ' is neither epoch seconds '
                     || 'nor a YYYY-MM-DD HH:MM:SS local time' END
            FROM _ql_typed WHERE time IS NULL;
            INSERT INTO stage_rejects
            SELECT line_no, 'event', raw, 'event field is missing (expected '
                || 'time|callid|queue|agent|event|data...)'
            FROM _ql_typed WHERE time IS NOT NULL AND event IS NULL;
            CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT time, {", ".join(_RAW)}, hash(time, {", ".join(_RAW)}) AS record_key, row_no
            FROM _ql_typed WHERE time IS NOT NULL AND event IS NOT NULL ORDER BY row_no;
            DROP TABLE _ql_typed; DROP TABLE IF EXISTS _ql_read;
        """)
        return StageResult(table=table, rows_read=(int(row[0]) if row else 0) + bad, notes=notes)

    def facts_sql(self) -> dict[str, str]:
        return {
            "call_facts": _CALL_FACTS,
            "leg_facts": _LEG_FACTS,
            "key_links": "SELECT NULL::VARCHAR AS tenant, NULL::VARCHAR AS alias_key, "
            "NULL::VARCHAR AS call_key WHERE false",
            "agent_events": _AGENT_EVENTS,
        }


def _header(line: str) -> tuple[str, list[str]] | None:
    """(delimiter, lower-case column names) when `line` is a queue_log table's header row."""
    delim = max((",", ";", "\t"), key=line.count)
    names = [n.strip().strip("\"'`").lower() for n in line.strip().split(delim)]
    has_event = any(n in names for n in _ALIASES["event"])
    return (delim, names) if has_event and any(n in names for n in _ALIASES["callid"]) else None


def _read_native(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> str:
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _ql_read AS
        SELECT row_number() OVER () AS line_no, line
        FROM read_csv({_quote(str(ctx.path))}, columns={{'line': 'VARCHAR'}}, header=false,
            delim={_quote(_NO_DELIM)}, quote='', escape='', auto_detect=false, strict_mode=false,
            max_line_size=10000000)""")
    data = ", ".join(f"nullif(f[{i + 5}], '') AS data{i}" for i in range(1, _DATA_FIELDS + 1))
    return f"""
        SELECT line_no, line AS raw, line_no AS row_no, nullif(trim(f[1]), '') AS time_txt,
            nullif(f[2], '') AS callid, nullif(f[3], '') AS queue, nullif(f[4], '') AS agent,
            nullif(trim(f[5]), '') AS event, {data},
            CASE WHEN len(f) > {_DATA_FIELDS + 5} THEN array_to_string(f[{_DATA_FIELDS + 6}:], '|')
            END AS data_more,
            NULL::VARCHAR AS row_id, NULL::VARCHAR AS entpos, NULL::VARCHAR AS expos,
            NULL::VARCHAR AS htime, NULL::VARCHAR AS ttime
        FROM (SELECT line_no, line, string_split(line, '|') AS f FROM _ql_read
              WHERE trim(coalesce(line, '')) <> '')"""


def _read_table(
    con: duckdb.DuckDBPyConnection, ctx: StageContext, delim: str, names: list[str]
) -> tuple[str, int, list[str]]:
    cols = [re.sub(r"\W", "_", n) or f"col{i}" for i, n in enumerate(names)]
    cols = [c if cols.index(c) == i else f"{c}_{i}" for i, c in enumerate(cols)]
    pick = {key: next((f'"{cols[names.index(a)]}"' for a in al if a in names), "NULL")
            for key, al in _ALIASES.items()}  # fmt: skip
    for key in ("time_txt", "event"):
        if pick[key] == "NULL":
            raise InputFormatError(
                f"{ctx.display_name}: the header has no {key.removesuffix('_txt')} column "
                f"(expected one of: {', '.join(_ALIASES[key])})"
            )
    numbered = {int(re.sub(r"\D", "", n)): c for n, c in zip(names, cols, strict=True)
                if re.fullmatch(r"(data|param)\d+", n)}  # fmt: skip
    parts = [f'"{numbered[i]}"' for i in sorted(numbered)]
    if not parts and "data" in names:  # old realtime tables: one `data` column joined with |
        parts = [f"string_split(\"{cols[names.index('data')]}\", '|')[{i}]" for i in range(1, 30)]
    parts += ["NULL"] * (_DATA_FIELDS + 1 - len(parts))
    pick.update({f"data{i + 1}": parts[i] for i in range(_DATA_FIELDS)})
    pick["data_more"] = f"concat_ws('|', {', '.join(parts[_DATA_FIELDS:])})"
    spec = "{" + ", ".join(f"{_quote(c)}: 'VARCHAR'" for c in cols) + "}"
    raw = ", ".join(f"coalesce(\"{c}\", '')" for c in cols)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ql_read AS
        SELECT row_number() OVER () AS row_no, *
        FROM read_csv({_quote(str(ctx.path))}, header=true, delim={_quote(delim)}, quote='"',
            escape='"', columns={spec}, auto_detect=false, null_padding=true,
            nullstr=['', 'NULL', '\\N'], store_rejects=true, rejects_table='_ql_errors',
            rejects_scan='_ql_scans')""")
    bad = collect_csv_rejects(con, "_ql_errors", "_ql_scans")
    select = f"""
        SELECT {line_number_sql("r.row_no", 1)} AS line_no, r.row_no,
            concat_ws({_quote(delim)}, {raw}) AS raw,
            {", ".join(f"nullif(trim({expr}), '') AS {key}" for key, expr in pick.items())}
        FROM _ql_read r"""
    return select, bad, [f"layout: queue_log table ({', '.join(names)})"]


def _sql(text: str) -> str:
    """Event lists are rendered from the tuples above, so SQL and Python name them once."""
    return (
        text.replace("@CALL_EVENTS@", _in(CALL_EVENTS))
        .replace("@EXITS@", _in(tuple(EXIT_REASONS)))
        .replace("@EXIT_CASE@", _EXIT_CASE)
        .replace("@JOIN@", _in(_JOIN))
        .replace("@MEMBERSHIP@", _in(_JOIN + _LEAVE))
        .replace("@AGENT@", _in(tuple(e for e in _JOIN + _LEAVE if e.startswith("AGENT"))))
        .replace("@PAUSE@", _in(_PAUSE))
        .replace("@AGENT_EVENTS@", _in(_JOIN + _LEAVE + _PAUSE + _UNPAUSE))
    )


def _minus(ts: str, seconds: str, sign: str = "-") -> str:
    return f"{ts} {sign} to_microseconds(CAST(round({seconds} * 1000000) AS BIGINT))"


# Durations are read by position as app_queue writes them; the vendor table keeps the caller
# number there instead and the durations in htime (ring ms) / ttime (talk s), and when neither
# holds a number the talk is the time between CONNECT and the event that ended it.
_CALLTIME = """coalesce(try_cast(CASE
        WHEN event IN ('COMPLETEAGENT', 'COMPLETECALLER') THEN data2
        WHEN event IN ('TRANSFER', 'BLINDTRANSFER') THEN data4
        WHEN event = 'ATTENDEDTRANSFER' AND upper(data1) = 'LINK' THEN data5
        WHEN event = 'ATTENDEDTRANSFER' THEN data4 END AS DOUBLE), try_cast(ttime AS DOUBLE))"""
_TECH = "local|pjsip|sip|iax2|dahdi|skinny|mgcp|h323|ooh323|unistim|motif|console|webrtc"

_LEGS_CTE = _sql(f"""
ev AS (
    SELECT tenant, callid, nullif(queue, 'NONE') AS queue, agent, upper(trim(event)) AS event,
        time AS t, data1, data2, data3, data4, data5, htime, ttime, import_id, row_no,
        -- queue_log times are whole seconds: events of one second count in file order (one
        -- BIGINT, as cheap to compare as the time; a struct key doubled these aggregates)
        epoch(time)::BIGINT * 2147483648 + row_no AS ord
    FROM {{raw}}
    WHERE upper(trim(event)) IN @CALL_EVENTS@
      AND callid IS NOT NULL AND upper(callid) NOT IN ('NONE', 'MANAGER', 'REALTIME')
),
calls AS (
    SELECT tenant, callid,
        coalesce(min(t) FILTER (WHERE event = 'ENTERQUEUE'), min(t)) AS started_at,
        max(t) AS last_t,
        arg_min(coalesce(data2, CASE WHEN regexp_full_match(data1, '[+]?[0-9]+') THEN data1 END),
            ord) FILTER (WHERE event = 'ENTERQUEUE') AS caller,
        arg_min(data1, ord) FILTER (WHERE event = 'DID') AS did,
        coalesce(arg_min(queue, ord) FILTER (WHERE event = 'ENTERQUEUE'), arg_min(queue, ord))
            AS queue,
        CASE WHEN bool_or(event = 'CONNECT') THEN 'agent'
             WHEN bool_or(event <> 'DID') THEN 'queue' END AS end_stage,
        arg_max(@EXIT_CASE@, ord) FILTER (WHERE event IN @EXITS@) AS exit_reason,
        min(t) FILTER (WHERE event = 'ENTERQUEUE' OR event IN @EXITS@) AS queue_entered_at,
        arg_max(CASE WHEN event = 'COMPLETEAGENT' THEN 'agent' ELSE 'caller' END, ord)
            FILTER (WHERE event IN ('COMPLETEAGENT', 'COMPLETECALLER', 'ABANDON')) AS hangup_side
    FROM ev GROUP BY tenant, callid
),
ring AS (
    SELECT e.*, CASE
        WHEN e.event = 'RINGNOANSWER' AND try_cast(e.htime AS DOUBLE) IS NOT NULL
            THEN try_cast(e.htime AS DOUBLE) / 1000
        WHEN regexp_full_match(e.data1, '[0-9]{{1,7}}') AND e.data1 IS DISTINCT FROM c.caller
            THEN CAST(e.data1 AS DOUBLE) / 1000 END AS ring_s
    FROM ev e JOIN calls c USING (tenant, callid)
    WHERE e.event IN ('RINGNOANSWER', 'RINGCANCELED')
),
outcome AS (
    SELECT tenant, callid, t, event AS outcome FROM ev
    WHERE event IN ('CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY', 'EXITWITHKEY')
),
seg AS (
    SELECT tenant, callid, agent, queue, event, t, try_cast(data3 AS DOUBLE) AS ringtime,
        lead(event) OVER w AS next_event, lead(t) OVER w AS next_t,
        lead({_CALLTIME}) OVER w AS next_calltime
    FROM ev
    WHERE event IN ('CONNECT', 'COMPLETEAGENT', 'COMPLETECALLER', 'TRANSFER', 'BLINDTRANSFER',
        'ATTENDEDTRANSFER')
    WINDOW w AS (PARTITION BY tenant, callid, agent
        ORDER BY t, event <> 'CONNECT', import_id, row_no)
),
talk AS (
    SELECT *, CASE WHEN next_event <> 'CONNECT'
        THEN coalesce(next_calltime, epoch(next_t) - epoch(t)) END AS talk_s
    FROM seg WHERE event = 'CONNECT'
),
legs AS (
    SELECT r.tenant, r.callid, r.agent, r.queue, {_minus("r.t", "r.ring_s")} AS ring_started_at,
        NULL::TIMESTAMP AS answered_at, r.t AS ended_at, 0.0::DOUBLE AS talk_s,
        CASE WHEN r.event = 'RINGNOANSWER' THEN 'no_answer'
             WHEN o.outcome = 'CONNECT' THEN 'cancelled_answered_elsewhere'
             WHEN o.outcome IN ('EXITWITHTIMEOUT', 'EXITEMPTY') THEN 'no_answer'
             ELSE 'caller_hung_up' END AS result,
        NULL::VARCHAR AS hangup_side
    FROM ring r ASOF LEFT JOIN outcome o
        ON r.tenant = o.tenant AND r.callid = o.callid AND o.t >= r.t - INTERVAL 2 SECOND
    UNION ALL
    SELECT tenant, callid, agent, queue, {_minus("t", "ringtime")}, t, {_minus("t", "talk_s", "+")},
        talk_s, 'answered',
        CASE next_event WHEN 'COMPLETECALLER' THEN 'caller' WHEN 'COMPLETEAGENT' THEN 'agent' END
    FROM talk
    UNION ALL
    SELECT tenant, callid, agent, queue, NULL, NULL, t, 0.0,
        CASE event WHEN 'AGENTDUMP' THEN 'rejected' ELSE 'unavailable' END,
        CASE event WHEN 'AGENTDUMP' THEN 'agent' END
    FROM ev WHERE event IN ('AGENTDUMP', 'SYSCOMPAT')
)""")

_LEG_FACTS = f"""WITH {_LEGS_CTE}
SELECT tenant, callid AS call_key, 'asterisk-queue-log' AS source, 2::INTEGER AS priority,
    'queue' AS leg_group, 'agent' AS destination_kind, agent,
    CASE WHEN regexp_matches(agent, '^({_TECH})/', 'i') THEN regexp_replace(
        regexp_extract(agent, '^[^/]+/([^@;/]+)', 1), '-[0-9a-fA-F]{{6,8}}$', '') END AS extension,
    queue, ring_started_at, answered_at, ended_at, talk_s, result, hangup_side
FROM legs"""

_CALL_FACTS = f"""WITH {_LEGS_CTE}
SELECT c.tenant, c.callid AS call_key, 'asterisk-queue-log' AS source, 2::INTEGER AS priority,
    c.started_at, greatest(c.last_t, l.leg_end) AS ended_at, c.caller, c.did AS callee,
    c.did AS line, NULL::VARCHAR AS origin_agent, c.queue, c.end_stage, c.hangup_side,
    NULL::VARCHAR AS ivr_path, NULL::VARCHAR AS recording, c.exit_reason, c.queue_entered_at
FROM calls c
LEFT JOIN (SELECT tenant, callid, max(ended_at) AS leg_end FROM legs GROUP BY ALL) l
    USING (tenant, callid)"""

# One timeline per agent as written: offline outside membership (once any membership event
# tells), paused between PAUSE and UNPAUSE, available otherwise. Static members (queues.conf)
# log no membership, so for them only the paused intervals are known. A callback agent's login
# is written twice, as AGENTCALLBACKLOGIN of Agent/NNNN and ADDMEMBER of its Local channel with
# the same callid: that pairing names the channel's every membership event after the agent.
_AGENT_EVENTS = _sql("""WITH alias AS (
    SELECT m.tenant, m.agent AS member, any_value(a.agent) AS agent
    FROM {raw} m JOIN {raw} a ON a.tenant = m.tenant AND a.callid = m.callid
        AND a.time BETWEEN m.time - INTERVAL 5 SECOND AND m.time + INTERVAL 5 SECOND
    WHERE upper(trim(m.event)) IN ('ADDMEMBER', 'REMOVEMEMBER') AND upper(trim(a.event)) IN @AGENT@
      AND upper(m.callid) NOT IN ('NONE', 'MANAGER', 'REALTIME')
    GROUP BY ALL
),
ev AS (
    SELECT r.tenant, coalesce(alias.agent, r.agent) AS agent, coalesce(r.queue, '') AS queue,
        upper(trim(r.event)) AS event, r.time AS t, r.data1, r.import_id, r.row_no
    FROM {raw} r LEFT JOIN alias ON alias.tenant = r.tenant AND alias.member = r.agent
    WHERE upper(trim(r.event)) IN @AGENT_EVENTS@ AND r.agent IS NOT NULL
      AND upper(r.agent) <> 'NONE'
),
span AS (
    SELECT tenant, agent, joined, t AS s,
        lead(t) OVER (PARTITION BY tenant, agent, scope ORDER BY t, import_id, row_no) AS e
    FROM (SELECT *, CASE WHEN event LIKE 'AGENT%' THEN '#agent' ELSE queue END AS scope,
              event IN @JOIN@ AS joined
          FROM ev WHERE event IN @MEMBERSHIP@)
),
point AS (
    SELECT p.tenant, p.agent, p.t, p.import_id, p.row_no,
        bool_or(p.event IN @MEMBERSHIP@) OVER (PARTITION BY p.tenant, p.agent
            ORDER BY p.t, p.import_id, p.row_no ROWS UNBOUNDED PRECEDING) AS known,
        p.event IN @PAUSE@ AS paused,
        CASE WHEN p.event IN @PAUSE@ THEN nullif(p.data1, '') END AS reason,
        EXISTS (SELECT 1 FROM span s WHERE s.tenant = p.tenant AND s.agent = p.agent
            AND s.joined AND s.s <= p.t AND (s.e IS NULL OR s.e > p.t)) AS logged_in
    FROM ev p
),
state AS (
    SELECT tenant, agent, t, import_id, row_no,
        CASE WHEN known AND NOT logged_in THEN 'offline' WHEN paused THEN 'paused'
             WHEN known THEN 'available' END AS state,
        CASE WHEN paused AND (logged_in OR NOT known) THEN reason END AS reason
    FROM point
    QUALIFY row_number() OVER (PARTITION BY tenant, agent, t
        ORDER BY import_id DESC, row_no DESC) = 1
),
change AS (
    SELECT * FROM state
    WINDOW w AS (PARTITION BY tenant, agent ORDER BY t)
    QUALIFY lag(state) OVER w IS DISTINCT FROM state OR lag(reason) OVER w IS DISTINCT FROM reason
        OR row_number() OVER w = 1
)
SELECT tenant, agent, state, reason, started_at, ended_at, 'asterisk-queue-log' AS source
FROM (SELECT *, t AS started_at, lead(t) OVER (PARTITION BY tenant, agent ORDER BY t) AS ended_at
      FROM change)
WHERE state IS NOT NULL""")
