"""Writing the fast path's calls through DuckDB: Master.csv (one cdr_csv row per call, the
answering agent's leg or the stage where the call ended) and the truth as Parquet, in chunks so
ten million calls never sit in memory at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from callscope.simulate.fast import Calibration, fast_calls
from callscope.simulate.profile import Profile

CDR_SQL = """
SELECT '' AS accountcode, number AS src,
    CASE WHEN queue IS NOT NULL THEN exten WHEN end_stage = 'after_hours' THEN 's'
         WHEN end_stage = 'invalid_destination' THEN 'i' ELSE 's' END AS dst,
    CASE WHEN queue IS NOT NULL THEN 'queues' WHEN end_stage = 'after_hours' THEN 'afterhours'
         ELSE 'ivr-main' END AS dcontext,
    '"" <' || number || '>' AS clid,
    'Local/' || did || '@from-trunk-' || lpad(printf('%x', seq * 2), 8, '0') || ';2' AS channel,
    CASE WHEN answered_by IS NOT NULL
         THEN 'Local/' || answered_by || '@agents-'
              || lpad(printf('%x', seq * 2 + 1), 8, '0') || ';1'
         ELSE '' END AS dstchannel,
    CASE WHEN queue IS NOT NULL THEN 'Queue' WHEN end_stage = 'ivr' THEN 'BackGround'
         ELSE 'Hangup' END AS lastapp,
    coalesce(queue, '') AS lastdata,
    strftime(to_timestamp(start), '%Y-%m-%d %H:%M:%S') AS "start",
    strftime(to_timestamp(start), '%Y-%m-%d %H:%M:%S') AS answer,
    strftime(to_timestamp(start + duration_s), '%Y-%m-%d %H:%M:%S') AS "end",
    duration_s::BIGINT AS duration, duration_s::BIGINT AS billsec,
    CASE WHEN answered_by IS NOT NULL OR queue IS NULL THEN 'ANSWERED' ELSE 'NO ANSWER' END
        AS disposition,
    'DOCUMENTATION' AS amaflags, start || '.' || (seq * 2 + 1) AS uniqueid, did AS userfield,
    '' AS peeraccount, start || '.' || (seq * 2) AS linkedid, seq AS "sequence"
FROM chunk
"""
QUOTED = (
    "accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, "
    '"start", answer, "end", disposition, amaflags, uniqueid, userfield, peeraccount, linkedid'
)


def chunks(
    profile: Profile, cal: Calibration, start: date, days: int, seed: int, chunk_days: int
) -> Iterator[dict[str, np.ndarray]]:
    customers = 0
    for i, offset in enumerate(range(0, days, chunk_days)):
        span = min(chunk_days, days - offset)
        cols = fast_calls(
            profile, cal, start + timedelta(days=offset), span, seed * 100_003 + i, customers
        )
        customers = int(cols["customer"].max(initial=customers - 1)) + 1
        yield cols


def write_fast(
    profile: Profile,
    cal: Calibration,
    start: date,
    days: int,
    seed: int,
    out: Path,
    chunk_days: int = 60,
) -> int:
    """Write Master.csv and truth.parquet; returns the number of calls."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{profile.timezone}'")
    case = (
        "CASE queue "
        + " ".join(f"WHEN '{g.name}' THEN '{g.exten}'" for g in profile.groups)
        + " END"
    )
    dids = np.asarray([line.did for line in profile.lines], dtype=object)
    prefix = profile.number_prefix
    width = profile.number_digits - len(prefix.lstrip("+"))
    total, parts = 0, []
    with (out / "Master.csv").open("wb") as cdr:
        for n, cols in enumerate(chunks(profile, cal, start, days, seed, chunk_days)):
            size = cols["start"].size
            seq = np.arange(total, total + size, dtype=np.int64)
            table = pa.table(
                {
                    "seq": seq,
                    "start": cols["start"],
                    "did": dids[cols["line"]],
                    "number": pa.array(cols["customer"]).cast(pa.string()),
                    **{
                        k: pa.array(cols[k], from_pandas=True)
                        for k in ("queue", "end_stage", "disposition", "answered_by", "ivr_path")
                    },
                    **{
                        k: cols[k]
                        for k in ("wait_s", "talk_s", "duration_s", "answered", "sale", "revenue")
                    },
                }
            )
            con.register("raw_chunk", table)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE chunk AS SELECT * REPLACE ("
                f"'{prefix}' || lpad(number, {width}, '0') AS number), "
                f"{case} AS exten FROM raw_chunk"
            )
            part = out / f"Master.part{n}.csv"
            con.execute(f"COPY ({CDR_SQL}) TO '{part}' (HEADER false, FORCE_QUOTE ({QUOTED}))")
            cdr.write(part.read_bytes())
            part.unlink()
            truth = out / f"truth.part{n}.parquet"
            con.execute(
                "COPY (SELECT start || '.' || (seq * 2) AS call_id, to_timestamp(start)::TIMESTAMP"
                " AS started_at, number AS external_number, did AS line, queue, ivr_path,"
                " CASE WHEN answered > 0 THEN 'answered' ELSE 'missed' END AS outcome,"
                " disposition, end_stage, answered_by, wait_s, talk_s, sale > 0 AS sale, revenue"
                f" FROM chunk) TO '{truth}' (FORMAT parquet)"
            )
            parts.append(truth)
            total += size
    con.close()
    return total
