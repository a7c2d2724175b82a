"""FreeSWITCH CDRs: what mod_cdr_csv lines and mod_json_cdr documents say about calls and legs.

Pasted records are staged with the source alone (DuckDB in memory, the facts SQL run over the
staged rows), so each test reads "these CDRs mean these facts". The real samples are checked
for exact counts, and once through the whole import pipeline.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from callscope.errors import InputFormatError
from callscope.importer import import_files
from callscope.settings import Settings
from callscope.sources.freeswitch import FreeswitchCdr
from callscope.store import Store
from callscope.testing import StagedFile, write_text

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "pbx-samples" / "freeswitch-cdr"
SOURCE = FreeswitchCdr()
A = "aaaaaaaa-0000-4000-8000-00000000000a"
B = "bbbbbbbb-0000-4000-8000-00000000000b"
B2 = "bbbbbbbb-0000-4000-8000-0000000000b2"


def stage_file(path: Path, timezone: str = "Europe/Moscow") -> StagedFile:
    return StagedFile(SOURCE, path, timezone=timezone)


def stage_text(tmp_path: Path, text: str, name: str = "Master.csv") -> StagedFile:
    return stage_file(write_text(tmp_path / name, text))


def test_csv_a_and_b_leg_are_one_call_and_the_b_leg_is_the_agent_leg(tmp_path: Path) -> None:
    # cdr_csv with legs="ab", stock "example" template: the caller's channel, then the agent's.
    staged = stage_text(
        tmp_path,
        f"""
        "Ivan","+15550100","5550199","public","2024-03-01 10:00:00","2024-03-01 10:00:02","2024-03-01 10:01:10","70","68","NORMAL_CLEARING","{A}","{B}","","PCMA","PCMA"
        "Ivan","+15550100","101","default","2024-03-01 10:00:03","2024-03-01 10:00:09","2024-03-01 10:01:10","67","61","NORMAL_CLEARING","{B}","","","PCMA","PCMA"
        """,
    )
    assert staged.rejects() == []
    [call] = staged.facts("call_facts")
    assert call["call_key"] == A
    assert (call["caller"], call["callee"], call["line"], call["origin_agent"]) == (
        "+15550100", "5550199", "5550199", None,
    )  # fmt: skip
    assert call["started_at"] == datetime(2024, 3, 1, 7, 0, 0)  # Moscow time -> UTC
    assert call["end_stage"] == "agent"
    [leg] = staged.facts("leg_facts")
    assert (leg["agent"], leg["destination_kind"], leg["result"], leg["talk_s"]) == (
        "101", "agent", "answered", 61.0,
    )  # fmt: skip
    assert (leg["ring_started_at"], leg["answered_at"]) == (
        datetime(2024, 3, 1, 7, 0, 3), datetime(2024, 3, 1, 7, 0, 9),
    )  # fmt: skip
    assert [(k["alias_key"], k["call_key"]) for k in staged.facts("key_links")] == [(B, A)]


@pytest.mark.parametrize(
    ("cause", "result"),
    [
        ("NO_ANSWER", "no_answer"),
        ("USER_BUSY", "busy"),
        ("CALL_REJECTED", "rejected"),
        ("NO_USER_RESPONSE", "unavailable"),
        ("USER_NOT_REGISTERED", "unavailable"),
        ("ORIGINATOR_CANCEL", "caller_hung_up"),
        ("LOSE_RACE", "cancelled_answered_elsewhere"),
        ("PICKED_OFF", "cancelled_answered_elsewhere"),
    ],
)
def test_hangup_cause_of_an_unanswered_extension_call(
    tmp_path: Path, cause: str, result: str
) -> None:
    staged = stage_text(
        tmp_path,
        f'"101","101","102","default","2024-03-01 10:00:00","","2024-03-01 10:00:20","20","0","{cause}","{A}","","101","",""',
    )
    [call] = staged.facts("call_facts")
    assert (call["caller"], call["origin_agent"], call["callee"], call["line"]) == (
        "101", "101", "102", None,
    )  # fmt: skip
    [leg] = staged.facts("leg_facts")
    assert (leg["agent"], leg["result"], leg["answered_at"], leg["talk_s"]) == (
        "102", result, None, None,
    )  # fmt: skip


def test_an_outside_callers_unbridged_row_is_the_call_not_a_leg(tmp_path: Path) -> None:
    # No bleg_uuid: the PBX answered the caller itself (IVR, voicemail, closed-hours message),
    # or the caller gave up before anyone answered. Nobody answered; no leg to the DID.
    staged = stage_text(
        tmp_path,
        f"""
        "","+15550100","5550199","public","2024-03-01 10:00:00","2024-03-01 10:00:00","2024-03-01 10:00:40","40","40","NORMAL_CLEARING","{A}","","","PCMA","PCMA"
        "","+15550111","5550199","public","2024-03-01 11:00:00","","2024-03-01 11:00:25","25","0","ORIGINATOR_CANCEL","{B}","","","PCMA","PCMA"
        "","+15550122","101","public","2024-03-01 12:00:00","","2024-03-01 12:00:30","30","0","NO_ANSWER","{B2}","","","PCMA","PCMA"
        """,
    )
    calls = {c["call_key"]: c for c in staged.facts("call_facts")}
    assert [(calls[k]["line"], calls[k]["end_stage"], calls[k]["exit_reason"]) for k in (A, B)] == [
        ("5550199", "ivr", None),  # answered by the PBX, never bridged
        ("5550199", None, "abandoned"),  # hung up unanswered, nothing says where
    ]
    # An extension on the row (the call rang 101) is a leg to that person.
    legs = [(x["call_key"], x["agent"], x["result"]) for x in staged.facts("leg_facts")]
    assert legs == [(B2, "101", "no_answer")]


def test_unbridged_outside_calls_through_the_import(store: Store, tmp_path: Path) -> None:
    path = write_text(
        tmp_path / "Master.csv",
        f"""
        "","+15550100","5550199","public","2024-03-01 10:00:00","2024-03-01 10:00:00","2024-03-01 10:00:40","40","40","NORMAL_CLEARING","{A}","","","PCMA","PCMA"
        "","+15550111","5550199","public","2024-03-01 11:00:00","","2024-03-01 11:00:25","25","0","ORIGINATOR_CANCEL","{B}","","","PCMA","PCMA"
        """,
    )
    import_files(store, [path], fmt="freeswitch-cdr", settings=Settings(timezone="UTC"))
    rows = store.con.execute(
        "SELECT direction, outcome, answered_by, end_stage, disposition FROM calls"
    ).fetchall()
    assert set(rows) == {
        ("inbound", "missed", None, "ivr", "abandoned"),
        ("inbound", "missed", None, None, "abandoned"),
    }


def test_a_custom_template_with_last_app_tells_the_voicemail(tmp_path: Path) -> None:
    staged = stage_text(
        tmp_path,
        f"""
        caller_id_number,destination_number,start_stamp,answer_stamp,end_stamp,billsec,hangup_cause,uuid,bleg_uuid,last_app
        +15550100,5550199,2024-03-01 10:00:00,2024-03-01 10:00:20,2024-03-01 10:01:00,40,NORMAL_CLEARING,{A},,voicemail
        """,
    )
    [call] = staged.facts("call_facts")
    assert call["end_stage"] == "voicemail"
    assert staged.facts("leg_facts") == []


def test_sql_template_statements_are_read(tmp_path: Path) -> None:
    staged = stage_text(
        tmp_path,
        f"""
        INSERT INTO cdr VALUES ("Ivan","+15550100","101","default","2024-03-01 10:00:00","2024-03-01 10:00:05","2024-03-01 10:02:05","125","120","NORMAL_CLEARING","{A}","", "");
        """,
        name="Master.sql",
    )
    assert staged.rejects() == []
    [leg] = staged.facts("leg_facts")
    assert (leg["agent"], leg["result"], leg["talk_s"]) == ("101", "answered", 120.0)


def test_spreadsheet_timestamps_and_an_app_destination(tmp_path: Path) -> None:
    # Re-saved by a spreadsheet: no quotes, `YYYY/M/D H:MM`; "&" = originate into an application.
    staged = stage_text(
        tmp_path,
        f"Outbound Call,1002,&,default,2020/2/10 22:41,2020/2/10 22:41,2020/2/10 22:41,11,9,"
        f"NORMAL_CLEARING,{A},,1002,PCMU,PCMU",
    )
    [call] = staged.facts("call_facts")
    assert (call["started_at"], call["caller"], call["callee"]) == (
        datetime(2020, 2, 10, 19, 41), "1002", None,
    )  # fmt: skip
    assert staged.facts("leg_facts") == []  # an application is not a leg to a person


def test_unreadable_lines_are_rejects_naming_the_field(tmp_path: Path) -> None:
    staged = stage_text(
        tmp_path,
        f"""
        "Ivan","+15550100","101","default","yesterday","","2024-03-01 10:01:10","70","0","NO_ANSWER","{A}","","","",""
        "Ivan","+15550100","101","default","2024-03-01 10:00:00","","2024-03-01 10:01:10","70","0","NO_ANSWER","","","","",""
        "Ivan","+15550100","101","default","2024-03-01 10:00:00","","2024-03-01 10:01:10","seventy","0","NO_ANSWER","{B}","","","",""
        "Ivan","+15550100","101","default"
        "Ivan","+15550100","101","default","2024-03-01 10:00:00","","2024-03-01 10:00:30","30","0","NO_ANSWER","{B2}","","","",""
        """,
    )
    assert staged.rejects() == [
        (1, "start_stamp", "start_stamp 'yesterday' is not a time"),
        (2, "uuid", "uuid is empty"),
        (3, "duration", "duration 'seventy' is not a whole number of seconds"),
        (4, "start_stamp", "too few fields (start_stamp): "
         "Expected Number of Columns: 15 Found: 4"),
    ]  # fmt: skip
    assert [c["call_key"] for c in staged.facts("call_facts")] == [B2]
    assert staged.result.rows_read == 5


def test_unknown_csv_layout_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="7 fields per line"):
        stage_text(tmp_path, "a,b,c,d,e,f,g")


JSON_A = (
    '{"core-uuid":"c0","channel_data":{"direction":"inbound"},"variables":{"direction":"inbound",'
    f'"uuid":"{A}","bridge_uuid":"{B}","caller_id_name":"Ivan%20Petrov",'
    '"caller_id_number":"%2B15550100","start_stamp":"2024-03-01%2010%3A00%3A00",'
    '"start_epoch":"1709276400","answer_epoch":"1709276402","bridge_epoch":"1709276409",'
    '"end_epoch":"1709276470","duration":"70","billsec":"68","hangup_cause":"NORMAL_CLEARING",'
    '"sip_hangup_disposition":"recv_bye","last_app":"bridge","last_arg":"user%2F101%40pbx.local",'
    '"bridge_channel":"sofia%2Finternal%2F101%40192.0.2.10"},"callflow":['
    '{"caller_profile":{"caller_id_number":"+15550100","destination_number":"101"}},'
    '{"caller_profile":{"caller_id_number":"+15550100","destination_number":"5550199"}}]}'
)
JSON_B = (
    '{"variables":{"direction":"outbound",'
    f'"uuid":"{B}","originating_leg_uuid":"{A}","signal_bond":"{A}",'
    '"start_epoch":"1709276403","answer_epoch":"1709276409","end_epoch":"1709276470",'
    '"duration":"67","billsec":"61","hangup_cause":"NORMAL_CLEARING",'
    '"sip_hangup_disposition":"send_bye","channel_name":"sofia%2Finternal%2F101%40192.0.2.10"},'
    '"callflow":[{"caller_profile":{"caller_id_number":"+15550100","destination_number":"101"}}]}'
)
JSON_B2 = (
    '{"variables":{"direction":"outbound",'
    f'"uuid":"{B2}","originating_leg_uuid":"{A}",'
    '"start_epoch":"1709276403","answer_epoch":"0","end_epoch":"1709276409",'
    '"duration":"6","billsec":"0","hangup_cause":"LOSE_RACE"},'
    '"callflow":[{"caller_profile":{"caller_id_number":"+15550100","destination_number":"102"}}]}'
)


def test_json_lines_ring_all_one_call_legs_from_b_channels(tmp_path: Path) -> None:
    staged = stage_text(tmp_path, "\n".join([JSON_A, JSON_B, JSON_B2]), name="cdr.json")
    assert staged.rejects() == []
    [call] = staged.facts("call_facts")
    assert (call["call_key"], call["caller"], call["callee"], call["line"]) == (
        A, "+15550100", "5550199", "5550199",
    )  # URL-encoded variables decoded; the DID from the first call-flow profile  # fmt: skip
    assert (call["end_stage"], call["hangup_side"]) == ("agent", "caller")
    legs = {leg["agent"]: leg for leg in staged.facts("leg_facts")}
    assert legs["101"]["result"] == "answered"
    assert legs["101"]["talk_s"] == 61.0
    assert legs["101"]["hangup_side"] == "caller"  # the agent's channel sent the BYE
    assert legs["102"]["result"] == "cancelled_answered_elsewhere"
    assert {(k["alias_key"], k["call_key"]) for k in staged.facts("key_links")} == {(B, A), (B2, A)}


def test_a_leg_alone_gives_the_bridged_leg(tmp_path: Path) -> None:
    staged = stage_text(tmp_path, JSON_A, name="a.json")
    [leg] = staged.facts("leg_facts")
    assert (leg["agent"], leg["answered_at"], leg["talk_s"]) == (
        "101", datetime(2024, 3, 1, 7, 0, 9), 61.0,
    )  # answered when bridged (07:00:09), not when the PBX answered (07:00:02)  # fmt: skip
    assert leg["hangup_side"] == "caller"  # the caller's channel received the BYE


def test_broken_json_line_is_a_reject(tmp_path: Path) -> None:
    staged = stage_text(tmp_path, "\n".join([JSON_A, JSON_B[:40], JSON_B2]), name="cdr.json")
    assert staged.rejects() == [(2, "raw", "not a JSON object (mod_json_cdr)")]
    assert len(staged.facts("call_facts")) == 1


def test_sniff_tells_freeswitch_records_from_others() -> None:
    assert SOURCE.sniff(JSON_A) > 0.9
    assert (
        SOURCE.sniff(
            f'"Ivan","1","2","d","2024-03-01 10:00:00","","","1","0","X","{A}","","","",""'
        )
        > 0.5
    )
    asterisk = '"","101","102","from-internal","""Anna"" <101>","PJSIP/101-1","PJSIP/102-2","Dial",'
    assert SOURCE.sniff(asterisk) == 0.0


# Real samples -------------------------------------------------------------------------------


def test_real_cdr_csv_sample_with_a_call_repeated_three_times() -> None:
    staged = stage_file(SAMPLES / "cdr_csv_Master_2020.csv", timezone="Asia/Shanghai")
    assert staged.rejects() == []
    assert staged.result.rows_read == 10
    assert staged.con.execute("SELECT count(DISTINCT record_key) FROM raw").fetchone() == (9,)
    assert any("2 records repeat a channel uuid" in n for n in staged.result.notes)
    calls = {c["call_key"]: c for c in staged.facts("call_facts")}
    assert len(calls) == 8
    repeated = calls["7adced1a-4c7c-11ea-b08c-2bfc2a06d67d"]
    assert (repeated["caller"], repeated["started_at"]) == ("1004", datetime(2020, 2, 11, 3, 13))
    legs = sorted((leg["agent"], leg["result"], leg["talk_s"]) for leg in staged.facts("leg_facts"))
    assert legs == [("1002", "unavailable", None), ("1004", "answered", 32.0)]


@pytest.mark.parametrize(
    ("name", "call_key", "agent", "talk_s"),
    [
        (
            "cgrates_mod_json_cdr_2014.json",
            "86cfd6e2-dbda-45a3-b59d-f683ec368e8b",
            "1002",
            14.519758,
        ),
        (
            "cgrates_mod_json_cdr_2015.json",
            "e3133bf7-dcde-4daf-9663-9a79ffcef5ad",
            "1003",
            65.039704,
        ),
        (
            "cgrates_mod_json_cdr_2018.json",
            "3da8bf84-c133-4959-9e24-e72875cb33a1",
            "1002",
            67.539896,
        ),
    ],
)
def test_real_json_cdr_samples(name: str, call_key: str, agent: str, talk_s: float) -> None:
    staged = stage_file(SAMPLES / name)
    assert staged.rejects() == []
    [call] = staged.facts("call_facts")
    assert (call["call_key"], call["caller"], call["origin_agent"]) == (call_key, "1001", "1001")
    [leg] = staged.facts("leg_facts")
    assert (leg["agent"], leg["result"]) == (agent, "answered")
    assert leg["talk_s"] == pytest.approx(talk_s)
    [link] = staged.facts("key_links")
    assert link["call_key"] == call_key


def test_real_samples_through_the_import(store: Store) -> None:
    paths = [
        *sorted(SAMPLES.glob("cgrates_mod_json_cdr_*.json")),
        SAMPLES / "cdr_csv_Master_2020.csv",
    ]
    summary = import_files(store, paths, fmt="auto", settings=Settings(timezone="Asia/Shanghai"))
    assert [
        (f.format, f.status, f.records_read, f.records_new, f.rejects) for f in summary.files
    ] == [
        ("freeswitch-cdr", "imported", 1, 1, 0),
        ("freeswitch-cdr", "imported", 1, 1, 0),
        ("freeswitch-cdr", "imported", 1, 1, 0),
        ("freeswitch-cdr", "imported", 10, 9, 1),  # the identical copy of line 8
    ]
    assert store.con.execute("SELECT reason FROM rejects").fetchall() == [("duplicate of line 8",)]
    answered = store.con.execute(
        "SELECT answered_by, count(*) FROM calls WHERE outcome = 'answered' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert answered == [("1002", 2), ("1003", 1), ("1004", 1)]
    assert summary.total_calls == 11
