"""Mapped CSV: a mapping file turns any call-history export into call and leg facts.

Pasted exports are staged with the source alone (DuckDB in memory, the facts SQL over the staged
rows). The bank's real nine months are read whole and checked against the published counts and
against totals computed here, independently, from the file itself.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from callscope.errors import ConfigError, InputFormatError
from callscope.importer import import_files
from callscope.settings import Settings
from callscope.sources.base import StageContext
from callscope.sources.mapped_csv import MappedCsv
from callscope.sources.mapping import load_mapping
from callscope.sources.staging import STAGE_REJECTS_DDL
from callscope.store import Store
from callscope.testing import StagedFile, write_text

REPO = Path(__file__).resolve().parents[1]
BANK_MAPPING = REPO / "mappings" / "anonymous-bank.toml"
BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "anonymous-bank"
BANK_CSV = BANK / "anonymous_bank_1999_9months.csv.gz"


def write(tmp_path: Path, name: str, text: str) -> Path:
    return write_text(tmp_path / name, text)


def stage_mapped(path: Path, mapping: Path, timezone: str = "Europe/Moscow") -> StagedFile:
    return StagedFile(MappedCsv(mapping=mapping), path, timezone=timezone)


BANK_HEADER = (
    "vru+line,call_id,customer_id,priority,type,date,vru_entry,vru_exit,vru_time,q_start,q_exit,"
    "q_time,outcome,ser_start,ser_exit,ser_time,server"
)


def test_bank_rows_served_abandoned_in_queue_and_in_vru_phantom_and_midnight(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "bank.csv",
        f"""
        {BANK_HEADER}
        AA0101,33118,27997683,2,PS,990101,6:55:20,6:55:26,6,6:55:26,6:55:43,17,AGENT,6:55:43,6:56:37,54,MICHAL
        AA0101,33116,9664491,2,PS,990101,0:00:31,0:00:36,5,0:00:36,0:03:09,153,HANG,0:00:00,0:00:00,0,NO_SERVER
        AA0101,33117,0,0,PS,990101,0:34:12,0:34:23,11,0:00:00,0:00:00,0,HANG,0:00:00,0:00:00,0,NO_SERVER
        AA0101,33120,0,0,PS,990101,8:00:00,8:00:05,5,8:00:05,8:00:30,25,PHANTOM,0:00:00,0:00:00,0,NO_SERVER
        AA0102,1000,123,1,NE,990105,23:58:00,23:58:10,10,23:58:10,0:00:40,150,AGENT,0:00:39,0:05:00,261,DANA
        """,
    )
    staged = stage_mapped(path, BANK_MAPPING)
    assert staged.rejects() == []
    assert staged.result.rows_read == 5
    assert any("1 rows mapped to outcome 'ignore'" in n for n in staged.result.notes)
    calls = {c["call_key"]: c for c in staged.facts("call_facts")}
    assert sorted(calls) == [
        "990101-AA0101-33116", "990101-AA0101-33117", "990101-AA0101-33118", "990105-AA0102-1000",
    ]  # the PHANTOM row is kept raw but makes no call  # fmt: skip
    served = calls["990101-AA0101-33118"]
    assert (served["caller"], served["line"], served["queue"], served["end_stage"]) == (
        "customer:27997683", "AA0101", "PS", "agent",
    )  # fmt: skip
    assert served["started_at"] == datetime(1999, 1, 1, 4, 55, 20)  # Israel, UTC+2 in winter
    in_queue, in_vru = calls["990101-AA0101-33116"], calls["990101-AA0101-33117"]
    assert (in_queue["end_stage"], in_queue["hangup_side"]) == ("queue", "caller")
    assert (in_vru["end_stage"], in_vru["caller"]) == ("ivr", None)  # customer_id 0 = unknown
    assert in_queue["ended_at"] == datetime(1998, 12, 31, 22, 3, 9)  # q_exit, no service
    legs = {leg["call_key"]: leg for leg in staged.facts("leg_facts")}
    assert sorted(legs) == ["990101-AA0101-33118", "990105-AA0102-1000"]
    assert (legs["990101-AA0101-33118"]["agent"], legs["990101-AA0101-33118"]["talk_s"]) == (
        "MICHAL",
        54.0,
    )
    night = legs["990105-AA0102-1000"]
    assert (night["answered_at"], night["ended_at"]) == (
        datetime(1999, 1, 5, 22, 0, 39), datetime(1999, 1, 5, 22, 5, 0),
    )  # service began after midnight: the next day, not 24 hours earlier  # fmt: skip
    assert calls["990105-AA0102-1000"]["ended_at"] == datetime(1999, 1, 5, 22, 5, 0)


CLOUD_MAPPING = """
name = "cloud-pbx-history"
kind = "leg"
time_format = "%d.%m.%Y %H:%M:%S"

[csv]
delimiter = ";"

[fields]
call_key = "Call ID"
started_at = { date = "Date", time = "Time" }
caller = "From"
callee = "To"
agent = "Agent"
wait_s = "Wait"
talk_s = "Duration"
outcome = "Status"
direction = "Type"

[values.outcome]
missed = "no_answer"
"no answer" = "no_answer"

[values.direction]
in = "inbound"
out = "outbound"
"""


def test_one_row_per_leg_export_groups_legs_into_calls(tmp_path: Path) -> None:
    mapping = write(tmp_path, "cloud.toml", CLOUD_MAPPING)
    path = write(
        tmp_path,
        "history.csv",
        """
        Call ID;Date;Time;Type;From;To;Agent;Status;Wait;Duration
        c1;01.03.2024;10:00:00;in;+15550100;5550199;101;missed;00:00:15;0
        c1;01.03.2024;10:00:15;in;+15550100;5550199;102;answered;00:00:20;00:02:05
        c2;01.03.2024;11:00:00;out;101;+15550111;101;answered;0;45
        """,
    )
    staged = stage_mapped(path, mapping)
    assert staged.rejects() == []
    calls = {c["call_key"]: c for c in staged.facts("call_facts")}
    assert (calls["c1"]["started_at"], calls["c1"]["origin_agent"], calls["c1"]["end_stage"]) == (
        datetime(2024, 3, 1, 7, 0, 0), None, "agent",
    )  # fmt: skip
    assert (calls["c2"]["origin_agent"], calls["c2"]["callee"]) == ("101", "+15550111")
    legs = [(g["call_key"], g["agent"], g["result"], g["talk_s"], g["ring_started_at"])
            for g in staged.facts("leg_facts")]  # fmt: skip
    assert legs == [
        ("c1", "101", "no_answer", None, datetime(2024, 3, 1, 7, 0, 0)),
        ("c1", "102", "answered", 125.0, datetime(2024, 3, 1, 7, 0, 15)),  # "00:02:05" = 125 s
        ("c2", "101", "answered", 45.0, datetime(2024, 3, 1, 8, 0, 0)),
    ]


def test_rows_the_mapping_cannot_use_are_rejects_naming_the_field(tmp_path: Path) -> None:
    mapping = write(tmp_path, "cloud.toml", CLOUD_MAPPING)
    path = write(
        tmp_path,
        "history.csv",
        """
        Call ID;Date;Time;Type;From;To;Agent;Status;Wait;Duration
        c1;01.03.2024;10:00:00;in;+15550100;5550199;101;voicemail;0;0
        c2;01.03.2024;25:61:00;in;+15550100;5550199;101;missed;0;0
        ;01.03.2024;10:00:00;in;+15550100;5550199;101;missed;0;0
        c4;01.03.2024;10:00:00;in;+15550100;5550199;101;transferred;0;0
        c5;01.03.2024;10:00:00;in;+15550100;5550199;101;answered;0;long
        c6;01.03.2024;10:00:00;in;+15550100;5550199
        """,
    )
    staged = stage_mapped(path, mapping)
    assert staged.rejects() == [
        (3, "started_at", "started_at: '01.03.2024 25:61:00' is not a time (formats: %d.%m.%Y %H:%M:%S)"),
        (4, "call_key", "call_key is empty"),
        (5, "outcome", "outcome: 'transferred' is not one of answered, abandoned, no_answer, busy, "
         "voicemail, after_hours, invalid_destination, failed, ignore, timeout, exit_key, "
         "join_empty, leave_empty, full, callback_requested, external_forward; "
         "map it under [values.outcome]"),
        (6, "talk_s", "talk_s: 'long' is not a number of seconds or [H:]MM:SS"),
        (7, "Agent", "too few fields (Agent): Expected Number of Columns: 10 Found: 6"),
    ]  # fmt: skip
    assert [(c["call_key"], c["end_stage"]) for c in staged.facts("call_facts")] == [
        ("c1", "voicemail")
    ]
    assert staged.result.rows_read == 6


def test_headerless_file_with_title_lines_and_named_columns(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "m.toml",
        """
        time_format = "%Y-%m-%d %H:%M:%S"
        [csv]
        header = false
        skip = 2
        columns = ["id", "start", "who", "status"]
        [fields]
        call_key = "id"
        started_at = "start"
        caller = "who"
        outcome = "status"
        """,
    )
    path = write(
        tmp_path,
        "calls.csv",
        """
        Call report
        exported 2024-03-02
        x1,2024-03-01 10:00:00,+15550100,answered
        x2,2024-03-01 10:05:00,+15550101,abandoned
        """,
    )
    staged = stage_mapped(path, mapping, timezone="UTC")
    assert staged.rejects() == []
    facts = [(c["call_key"], c["started_at"], c["end_stage"]) for c in staged.facts("call_facts")]
    assert facts == [
        ("x1", datetime(2024, 3, 1, 10, 0), "agent"),
        ("x2", datetime(2024, 3, 1, 10, 5), "ivr"),  # abandoned, never queued
    ]
    assert staged.con.execute("SELECT row_no FROM raw ORDER BY 1").fetchall() == [(1,), (2,)]


def test_a_column_the_file_lacks_is_named(tmp_path: Path) -> None:
    mapping = write(tmp_path, "cloud.toml", CLOUD_MAPPING)
    path = write(tmp_path, "h.csv", "Call ID;Date;Time;From\nc1;01.03.2024;10:00:00;+15550100")
    with pytest.raises(InputFormatError, match=r"no column 'To' \(named by fields.callee"):
        stage_mapped(path, mapping)


def test_sql_over_a_missing_column_is_named(tmp_path: Path) -> None:
    mapping = write(
        tmp_path, "m.toml", '[fields]\ncall_key = { sql = "id || nope" }\nstarted_at = "start"'
    )
    path = write(tmp_path, "h.csv", "id,start\n1,2024-03-01 10:00:00")
    with pytest.raises(InputFormatError, match=r"fields\.call_key .* does not fit the file"):
        stage_mapped(path, mapping)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[fields]\ncall_key = "a"', "field 'started_at' is required"),
        ('[fields]\ncall_key = "a"\nstarted_at = "b"\ncustomer = "c"', "unknown field 'customer'"),
        ('[fields]\ncall_key = { column = "a", sql = "b" }\nstarted_at = "b"',
         "fields.call_key: give exactly one of"),
        ('[fields]\ncall_key = "a"\nstarted_at = { date = "d" }', "needs both `date` and `time`"),
        ('kind = "row"\n[fields]\ncall_key = "a"\nstarted_at = "b"', "kind: Input should be 'call' or 'leg'"),
        ('timezone = "Mars/Olympus"\n[fields]\ncall_key = "a"\nstarted_at = "b"', "unknown time zone"),
        ('[csv]\ndelimiter = "::"\n[fields]\ncall_key = "a"\nstarted_at = "b"', "csv.delimiter"),
        ('[fields]\ncall_key = "a"\nstarted_at = "b"\n[values.outcome]\nOK = "fine"',
         "\\[values.outcome\\] 'OK' = 'fine': must be one of answered"),
        ('[fields\n', "not valid TOML"),
    ],
)  # fmt: skip
def test_mapping_errors_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    path = write(tmp_path, "bad.toml", toml)
    with pytest.raises(ConfigError, match=message):
        load_mapping(path)


def test_without_a_mapping_file_the_format_says_how_to_give_one(tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", "a,b\n1,2")
    con = duckdb.connect()
    con.execute(STAGE_REJECTS_DDL)
    with pytest.raises(ConfigError, match="needs a mapping file"):
        MappedCsv().stage(con, StageContext("t", "UTC", Settings(), path, "h.csv", 1))


def test_shipped_bank_mapping_is_valid() -> None:
    mapping = load_mapping(BANK_MAPPING)
    assert (mapping.kind, mapping.timezone, mapping.csv.delimiter) == (
        "call",
        "Asia/Jerusalem",
        "auto",
    )


# The real bank --------------------------------------------------------------------------------


def bank_months(con: duckdb.DuckDBPyConnection, path: Path, delim: str) -> list[tuple[Any, ...]]:
    """AGENT and HANG rows per month, read straight from the file (not through the mapping)."""
    return con.execute(
        f"""
        SELECT substr(trim(date), 1, 4) AS month, count(*) FILTER (WHERE outcome = 'AGENT'),
               count(*) FILTER (WHERE outcome = 'HANG'), count(*) FILTER (WHERE outcome = 'PHANTOM')
        FROM read_csv('{path}', delim='{delim}', header=true, all_varchar=true, quote='',
                      ignore_errors=true)
        GROUP BY 1 ORDER BY 1
        """
    ).fetchall()


@pytest.mark.slow
def test_bank_nine_months_stage_every_row() -> None:
    staged = stage_mapped(BANK_CSV, BANK_MAPPING)
    assert staged.rejects() == []
    assert staged.result.rows_read == 318_286
    counts = staged.con.execute(
        "SELECT count(*), count(DISTINCT call_key), count(DISTINCT record_key),"
        " count(*) FILTER (WHERE outcome = 'ignore') FROM raw"
    ).fetchone()
    assert counts == (318_286, 318_286, 318_286, 2_658)
    expected = bank_months(staged.con, BANK_CSV, ",")
    facts = staged.con.execute(
        f"""
        WITH c AS ({staged.source.facts_sql()["call_facts"].replace("{raw}", "raw")}),
             l AS ({staged.source.facts_sql()["leg_facts"].replace("{raw}", "raw")})
        SELECT month, answered, abandoned, ignored FROM (
            SELECT substr(c.call_key, 1, 4) AS month,
                   count(*) FILTER (WHERE l.result = 'answered') AS answered,
                   count(*) FILTER (WHERE c.end_stage IN ('ivr', 'queue')) AS abandoned
            FROM c LEFT JOIN l ON l.call_key = c.call_key AND l.result = 'answered' GROUP BY 1
        ) JOIN (SELECT substr(call_key, 1, 4) AS month, count(*) AS ignored FROM raw
                WHERE outcome = 'ignore' GROUP BY 1) USING (month)
        ORDER BY 1
        """
    ).fetchall()
    assert facts == expected
    assert expected[0] == ("9901", 27_060, 4_299, 240)
    assert sum(m[1] for m in expected) == 254_287 and sum(m[2] for m in expected) == 61_341


@pytest.mark.slow
def test_bank_nine_months_through_the_import(store: Store) -> None:
    settings = Settings(timezone="Asia/Jerusalem", region="IL")
    summary = import_files(
        store, [BANK_CSV], fmt="mapped-csv", settings=settings, mapping=BANK_MAPPING
    )
    [result] = summary.files
    assert (result.status, result.records_read, result.records_new, result.rejects) == (
        "imported", 318_286, 318_286, 0,
    )  # fmt: skip
    assert summary.total_calls == 318_286 - 2_658
    by_stage = dict(
        store.con.execute("SELECT end_stage, count(*) FROM calls GROUP BY 1").fetchall()
    )
    assert by_stage == {"agent": 254_287, "queue": 44_678, "ivr": 16_663}
    # The raw July file repeats the CSV's July rows: nothing new, its 5 broken lines rejected.
    again = import_files(
        store, [BANK / "raw" / "1999-07_july.txt.gz"], fmt="mapped-csv", settings=settings,
        mapping=BANK_MAPPING,
    )  # fmt: skip
    assert (again.files[0].records_new, again.files[0].rejects) == (0, 5)


@pytest.mark.parametrize(
    ("month", "rows", "broken_lines"),
    [
        ("1999-07_july", 39_022, [9144, 9238, 12080, 15212, 15390]),
        ("1999-09_september", 31_371, [9666]),
        ("1999-10_october", 34_625, [7315, 14247]),
        ("1999-03_march", 38_801, []),
    ],
)
def test_raw_monthly_files_reject_exactly_the_16_field_lines(
    month: str, rows: int, broken_lines: list[int]
) -> None:
    path = BANK / "raw" / f"{month}.txt.gz"
    staged = stage_mapped(path, BANK_MAPPING)
    rejects = staged.rejects()
    assert [r[0] for r in rejects] == broken_lines
    assert all(
        r[2] == "too few fields (server): Expected Number of Columns: 17 Found: 16" for r in rejects
    )
    assert staged.result.rows_read == rows
    assert staged.con.execute("SELECT count(*) FROM raw").fetchone() == (rows - len(broken_lines),)
    months = bank_months(staged.con, path, "\t")
    answered = staged.con.execute("SELECT count(*) FROM raw WHERE outcome = 'answered'").fetchone()
    assert answered == (months[0][1],)
    # March has " TT" with a leading space (README quirk 2): trimmed, it is the TT queue.
    assert staged.con.execute("SELECT count(*) FROM raw WHERE queue LIKE ' %'").fetchone() == (0,)
