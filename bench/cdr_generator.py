"""Synthetic Asterisk cdr_csv Master.csv files for the import benchmark.

The rows are produced inside DuckDB (`range()` plus `hash()`-based pseudo-random columns) and
written by its CSV writer, so ten million rows take seconds instead of the minutes a Python loop
would need. The layout and quoting copy what a real Asterisk 12+ `cdr_csv` with `newcdrcolumns`
writes (see ../shared/data/pbx-samples/asterisk-real/Master.csv): no header, 21 columns, every
text field in double quotes (an empty one as `""`), duration / billsec / sequence bare, and an
unanswered leg's `answer` as a bare empty field.

The traffic is shaped like a contact centre's, so that the importer does the work it does in
production: ring-all queue calls (one CDR row per member rung, one ANSWERED, the others NO
ANSWER, all sharing the call's linkedid), ring groups that fall back to voicemail, direct
extension calls, calls that end in the IVR or after hours, outbound calls through a PJSIP trunk
and internal calls. About 3 % of the row count are distinct customers (Russian mobile numbers in
`+79…`, `89…` and `79…` forms), calling repeatedly with a skew towards regulars, so callbacks of
missed calls occur naturally. Everything is a function of (seed, row count): the same seed gives
the same bytes with the same DuckDB version.

    python bench/cdr_generator.py bench/out/cdr_1m.csv --rows 1000000 --seed 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

DEFAULT_SEED = 20240108
CALLS_PER_DAY = 12_000  # a 100-seat contact centre; 10M rows span about a year
FIRST_DAY = "2024-01-08"  # a Monday; Europe/Moscow has no DST since 2014
UTC_OFFSET_S = 3 * 3600  # file times are naive Moscow time, uniqueids are UTC epochs
CUSTOMER_SHARE = 0.03  # distinct customer numbers per row written

COLUMNS: tuple[str, ...] = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
    "peeraccount",
    "linkedid",
    "sequence",
)
# written bare; `answer` is quoted when set and a bare empty field when NULL, like cdr_csv
BARE_COLUMNS = frozenset({"duration", "billsec", "sequence"})

_FEMALE = ["Anna", "Galina", "Elena", "Olga", "Irina", "Tatiana", "Maria", "Svetlana", "Yulia",
           "Natalia"]  # fmt: skip
_MALE = ["Boris", "Viktor", "Dmitry", "Igor", "Pavel", "Sergey", "Alexey", "Nikolai", "Oleg",
         "Roman"]  # fmt: skip
_SURNAME = ["Petrov", "Smirnov", "Orlov", "Volkov", "Kozlov", "Ivanov", "Sokolov", "Popov",
            "Lebedev", "Novikov", "Morozov", "Pavlov", "Fedorov", "Egorov", "Belov", "Zaitsev",
            "Kuznetsov", "Frolov", "Nikitin"]  # fmt: skip
_QUEUES = ["sales", "support", "billing", "retention", "delivery", "vip", "corporate",
           "returns", "sales-spb", "support-spb", "partners", "tech"]  # fmt: skip
_LINES = ["74951234567", "74957654321", "78005553535", "78127654321", "74993332211"]


def _sql_list(items: list[str]) -> str:
    return "[" + ", ".join(f"'{item}'" for item in items) + "]"


def _calls_sql(seed: int, n_calls: int, n_customers: int) -> str:
    """One row per call with every call-level choice; `k` is the number of CDR rows it makes."""
    return f"""
    CREATE OR REPLACE TEMP TABLE gen_calls AS
    WITH base AS (
        SELECT
            c,
            rnd(c, {seed}, 'kind') AS u_kind,
            rnd(c, {seed}, 'k') AS u_k,
            rnd(c, {seed}, 'who') AS u_who,
            rnd(c, {seed}, 'ans') AS u_ans,
            rnd(c, {seed}, 'talk') AS u_talk,
            rnd(c, {seed}, 'ring') AS u_ring,
            rnd(c, {seed}, 'form') AS u_form,
            rnd(c, {seed}, 'grp') AS u_grp,
            rnd(c, {seed}, 'agent') AS u_agent,
            rnd(c, {seed}, 'line') AS u_line,
            c // {CALLS_PER_DAY} AS day_no,
            (c % {CALLS_PER_DAY}) / {CALLS_PER_DAY}.0 AS day_pos
        FROM range({n_calls}) t(c)
    ), shaped AS (
        SELECT *,
            CASE
                WHEN u_kind < 0.38 THEN 'queue'
                WHEN u_kind < 0.50 THEN 'ringgroup'
                WHEN u_kind < 0.58 THEN 'direct'
                WHEN u_kind < 0.63 THEN 'ivr'
                WHEN u_kind < 0.88 THEN 'outbound'
                ELSE 'internal'
            END AS kind,
            -- squared uniform: a few regulars call often, most customers once or twice
            floor(rnd(c, {seed}, 'cust') * rnd(c, {seed}, 'cust2') * {n_customers})::BIGINT
                AS cust,
            -- 08:00-21:00 with a morning and an afternoon peak, monotone so the file is in
            -- start order within a day
            day_no * 86400 + 28800
                + floor(46800 * (day_pos - 0.06 * sin(4 * pi() * day_pos) / (4 * pi())))::BIGINT
                AS start_s,
            least(3600, 5 + floor(-ln(1 - u_talk) * 110))::BIGINT AS talk_s
        FROM base
    )
    SELECT *,
        CASE kind
            WHEN 'queue' THEN 2 + floor(u_k * 4)::BIGINT
            WHEN 'ringgroup' THEN 2 + floor(u_k * 3)::BIGINT
            ELSE 1
        END AS n_ring,
        -- a ring group nobody answered falls back to voicemail unless the caller left first
        n_ring + CASE WHEN kind = 'ringgroup' AND u_ans >= 0.72 AND u_ring < 0.8 THEN 1 ELSE 0
            END AS k,
        -- the customer's number: a bijection of the customer index, so distinct customers
        -- have distinct numbers; the form varies per call as trunks present it differently
        lpad(((cust * 982451653 + {seed % 1_000_000_007}) % 1000000000)::VARCHAR, 9, '0')
            AS mobile9,
        {_sql_list(_LINES)}[1 + floor(u_line * u_line * {len(_LINES)})::BIGINT] AS did,
        TIMESTAMP '{FIRST_DAY}' + to_seconds(start_s) AS t0,
        epoch(TIMESTAMP '{FIRST_DAY}' + to_seconds(start_s))::BIGINT - {UTC_OFFSET_S} AS epoch0
    FROM shaped
    """


def _rows_sql(seed: int) -> str:
    """One row per CDR: the call's legs unnested, each leg's columns derived from its call."""
    surname = f"{_sql_list(_SURNAME)}[1 + ((ag * 13) % {len(_SURNAME)})]"
    name = (
        f"CASE WHEN ag % 2 = 0 THEN {_sql_list(_FEMALE)}[1 + ((ag // 2) % {len(_FEMALE)})] || ' ' "
        f"|| {surname} || 'a' ELSE {_sql_list(_MALE)}[1 + ((ag // 2) % {len(_MALE)})] || ' ' "
        f"|| {surname} END"
    )
    chan = "lower(format('{:08x}', (c * 8 + {j}) % 4294967296))"
    return f"""
    WITH legs AS (
        SELECT g.*, unnest(range(k)) AS leg FROM gen_calls g
    ), leg_cols AS (
        SELECT *,
            CASE
                WHEN kind = 'queue' THEN
                    101 + (floor(u_grp * 12)::BIGINT) * 8 + (floor(u_agent * 8)::BIGINT + leg) % 8
                WHEN kind = 'ringgroup' THEN
                    101 + (floor(u_grp * 10)::BIGINT * 9 + leg) % 99
                ELSE 101 + floor(u_agent * 99)::BIGINT
            END AS ag,
            -- which leg answers (queue / ring group); >= k means nobody did
            CASE WHEN u_ans < 0.72 THEN floor(u_who * n_ring)::BIGINT ELSE 99 END
                AS answered_leg,
            2 + floor(u_ring * 13)::BIGINT AS ring_s,
            CASE
                WHEN u_form < 0.62 THEN '+79' || mobile9
                WHEN u_form < 0.93 THEN '89' || mobile9
                WHEN u_form < 0.997 THEN '79' || mobile9
                ELSE 'anonymous'
            END AS cust_num,
            (c * 8) AS chan_base,
            (c * 8 + 1) AS seq_base
        FROM legs
    ), shaped AS (
        SELECT *,
            CASE
                WHEN kind = 'ringgroup' AND leg = k - 1 AND answered_leg = 99 AND u_ring < 0.8
                    THEN 'vm'
                ELSE kind
            END AS row_kind,
            -- the second member of an internal call, never the caller
            101 + (floor(u_agent * 99)::BIGINT + 1 + floor(u_who * 97)::BIGINT) % 99 AS ag2,
            leg = answered_leg AS is_answered
        FROM leg_cols
    ), timed AS (
        SELECT *,
            CASE row_kind
                WHEN 'queue' THEN 3 + floor(u_k * 20)::BIGINT + (CASE WHEN leg > 0
                    THEN (leg * 7) % 3 ELSE 0 END)
                WHEN 'vm' THEN 20
                ELSE 0
            END AS off_s,
            CASE
                WHEN row_kind = 'queue' AND answered_leg = 99 THEN 4 + floor(u_talk * 50)::BIGINT
                WHEN row_kind = 'queue' AND is_answered THEN ring_s + talk_s
                WHEN row_kind = 'queue' THEN ring_s
                WHEN row_kind = 'ringgroup' AND answered_leg = 99 THEN
                    CASE WHEN u_ring < 0.8 THEN 20 ELSE 3 + floor(u_talk * 16)::BIGINT END
                WHEN row_kind = 'ringgroup' AND is_answered THEN ring_s + talk_s
                WHEN row_kind = 'ringgroup' THEN ring_s
                WHEN row_kind = 'vm' THEN 6 + floor(u_talk * 40)::BIGINT
                WHEN row_kind = 'ivr' THEN 3 + floor(u_talk * 25)::BIGINT
                WHEN row_kind IN ('direct', 'outbound', 'internal') THEN
                    CASE WHEN u_ans < 0.68 THEN ring_s + talk_s
                         WHEN u_ans < 0.9 THEN 15 + floor(u_ring * 16)::BIGINT
                         ELSE 1 + floor(u_ring * 4)::BIGINT END
            END AS dur_s,
            CASE
                WHEN row_kind IN ('queue', 'vm', 'ivr') THEN 'ANSWERED'
                WHEN row_kind = 'ringgroup' THEN
                    CASE WHEN is_answered THEN 'ANSWERED' ELSE 'NO ANSWER' END
                WHEN u_ans < 0.68 THEN 'ANSWERED'
                WHEN u_ans < 0.9 THEN 'NO ANSWER'
                WHEN row_kind = 'outbound' AND u_ans > 0.985 THEN 'FAILED'
                ELSE 'BUSY'
            END AS disp0
        FROM shaped
    ), cols AS (
        SELECT *,
            -- a ring-all member that did not pick up is still "answered" by the queue app
            CASE WHEN row_kind = 'queue' AND NOT is_answered THEN 'NO ANSWER' ELSE disp0 END
                AS disposition,
            t0 + to_seconds(off_s) AS leg_start,
            CASE
                WHEN row_kind IN ('queue', 'vm', 'ivr') THEN 0
                WHEN disp0 = 'ANSWERED' THEN ring_s
            END AS answer_off,
            'PJSIP/trunk-' || {chan.replace("{j}", "0")} AS trunk_chan,
            'PJSIP/' || ag || '-' || {chan.replace("{j}", "1 + leg")} AS agent_chan,
            {name} AS agent_name
        FROM timed
    )
    SELECT
        '' AS accountcode,
        CASE WHEN row_kind IN ('outbound', 'internal') THEN ag::VARCHAR ELSE cust_num END
            AS src,
        CASE row_kind
            WHEN 'queue' THEN (600 + floor(u_grp * 12)::BIGINT)::VARCHAR
            WHEN 'ringgroup' THEN (700 + floor(u_grp * 10)::BIGINT)::VARCHAR
            WHEN 'vm' THEN 'vmu' || (700 + floor(u_grp * 10)::BIGINT)
            WHEN 'direct' THEN ag::VARCHAR
            WHEN 'ivr' THEN CASE WHEN u_grp >= 0.7 AND u_grp < 0.85 THEN 'i' ELSE 's' END
            WHEN 'outbound' THEN CASE WHEN u_form < 0.7 THEN '89' ELSE '+79' END || mobile9
            ELSE ag2::VARCHAR
        END AS dst,
        CASE row_kind
            WHEN 'queue' THEN 'ext-queues'
            WHEN 'ringgroup' THEN 'ext-group'
            WHEN 'vm' THEN 'vm'
            WHEN 'direct' THEN 'from-did-direct'
            WHEN 'ivr' THEN CASE WHEN u_grp < 0.85 THEN 'ivr-main' ELSE 'afterhours' END
            WHEN 'outbound' THEN 'outbound'
            ELSE 'internal'
        END AS dcontext,
        CASE
            WHEN row_kind IN ('outbound', 'internal') THEN '"' || agent_name || '" <' || ag || '>'
            WHEN cust_num = 'anonymous' THEN '"Anonymous" <anonymous>'
            WHEN u_line < 0.5 THEN '"" <' || cust_num || '>'
            ELSE '"' || cust_num || '" <' || cust_num || '>'
        END AS clid,
        CASE WHEN row_kind IN ('outbound', 'internal') THEN
            'PJSIP/' || ag || '-' || {chan.replace("{j}", "0")} ELSE trunk_chan END AS channel,
        CASE row_kind
            WHEN 'vm' THEN ''
            WHEN 'ivr' THEN ''
            WHEN 'outbound' THEN 'PJSIP/trunk-' || {chan.replace("{j}", "1")}
            WHEN 'internal' THEN 'PJSIP/' || ag2 || '-' || {chan.replace("{j}", "1")}
            ELSE agent_chan
        END AS dstchannel,
        CASE row_kind
            WHEN 'queue' THEN 'Queue'
            WHEN 'vm' THEN 'VoiceMail'
            WHEN 'ivr' THEN CASE WHEN u_grp < 0.7 THEN 'BackGround' WHEN u_grp < 0.85
                THEN 'Hangup' ELSE 'Playback' END
            ELSE 'Dial'
        END AS lastapp,
        CASE row_kind
            WHEN 'queue' THEN {_sql_list(_QUEUES)}[1 + floor(u_grp * 12)::BIGINT] || ',t,,,300'
            WHEN 'ringgroup' THEN array_to_string(list_transform(range(n_ring),
                m -> 'PJSIP/' || (101 + (floor(u_grp * 10)::BIGINT * 9 + m) % 99)), '&')
                || ',20,tr'
            WHEN 'vm' THEN (700 + floor(u_grp * 10)::BIGINT) || '@default,u'
            WHEN 'direct' THEN 'PJSIP/' || ag || ',30,tr'
            WHEN 'ivr' THEN CASE WHEN u_grp < 0.7 THEN 'custom/ivr-greeting' WHEN u_grp < 0.85
                THEN '' ELSE 'custom/closed' END
            WHEN 'outbound' THEN 'PJSIP/' || CASE WHEN u_form < 0.7 THEN '89' ELSE '+79' END
                || mobile9 || '@trunk,60,T'
            ELSE 'PJSIP/' || ag2 || ',30,tr'
        END AS lastdata,
        leg_start::VARCHAR AS start,
        (leg_start + to_seconds(answer_off))::VARCHAR AS answer,
        (leg_start + to_seconds(dur_s))::VARCHAR AS "end",
        dur_s AS duration,
        CASE WHEN answer_off IS NULL THEN 0 ELSE dur_s - answer_off END AS billsec,
        disposition,
        'DOCUMENTATION' AS amaflags,
        epoch0 || '.' || chan_base AS uniqueid,
        CASE WHEN row_kind IN ('outbound', 'internal') THEN '' ELSE did END AS userfield,
        '' AS peeraccount,
        epoch0 || '.' || chan_base AS linkedid,
        seq_base + leg AS sequence
    FROM cols
    """


def _connect(threads: int | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    # uniform in [0, 1) from a 64-bit hash: the only source of randomness
    con.execute("CREATE TEMP MACRO rnd(a, b, t) AS (hash(a, b, t) % 1000000007) / 1000000007.0")
    return con


def generate(path: Path, rows: int, *, seed: int = DEFAULT_SEED, threads: int | None = None) -> int:
    """Write exactly `rows` CDR rows to `path` (overwritten); returns the row count written."""
    if rows <= 0:
        raise ValueError("rows must be positive")
    path.parent.mkdir(parents=True, exist_ok=True)
    n_customers = max(500, int(rows * CUSTOMER_SHARE))
    n_calls = rows // 2 + 64  # a call makes 2.2 rows on average; doubled below if short
    quoted = ", ".join(f'"{c}"' for c in COLUMNS if c not in BARE_COLUMNS)
    con = _connect(threads)
    try:
        while True:
            con.execute(_calls_sql(seed, n_calls, n_customers))
            total = con.execute("SELECT sum(k) FROM gen_calls").fetchone()
            if total is not None and int(total[0]) >= rows:
                break
            n_calls *= 2
        # the rows come out in call order (range scan, unnest and projections keep insertion
        # order), so LIMIT takes the first `rows` rows and the bytes depend on the seed only
        con.execute(
            f"COPY (SELECT * FROM ({_rows_sql(seed)}) LIMIT {rows}) TO '{path}' "
            f"(FORMAT csv, HEADER false, QUOTE '\"', ESCAPE '\"', FORCE_QUOTE ({quoted}))"
        )
    finally:
        con.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="Master.csv to write")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    generate(args.out, args.rows, seed=args.seed, threads=args.threads)
    took = time.perf_counter() - began
    size_mb = args.out.stat().st_size / 1e6
    print(f"{args.out}: {args.rows:,} rows, {size_mb:,.1f} MB in {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
