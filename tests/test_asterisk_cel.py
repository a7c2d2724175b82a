"""Asterisk CEL: its column layouts, the legs and calls it describes, and what it rejects.

CEL is the most exact source of legs, so its facts are checked call by call against the scripted
truth of a real Asterisk run, and on pasted rows of the situations that make CEL hard: ring-all,
blind transfer (one call, more legs), a failed outbound call.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from callscope.assemble import facts_of
from callscope.errors import InputFormatError
from callscope.importer import import_files
from callscope.settings import Settings
from callscope.sources.asterisk_cel import AsteriskCel
from callscope.sources.asterisk_cel_layout import detect_layout
from callscope.store import Store
from callscope.testing import StagedFile


def write(tmp: Path, text: str, name: str = "cel.csv") -> Path:
    """Pasted rows as a file: the indentation of the triple-quoted literal removed."""
    path = tmp / name
    lines = [line.strip() for line in text.strip("\n").splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cel_facts(path: Path, settings: Settings) -> duckdb.DuckDBPyConnection:
    """Stage one file and keep each CEL facts view as a table, as the assembler reads them."""
    staged = StagedFile(AsteriskCel(), path, timezone=settings.timezone, settings=settings)
    for view, sql in facts_of(staged.source, settings).items():
        staged.con.execute(f"CREATE TABLE {view} AS {sql.replace('{raw}', 'raw')}")
    return staged.con


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


LEGS = """
    SELECT call_key, leg_group, destination_kind, agent, extension, queue, result,
           round(epoch(coalesce(answered_at, ended_at) - ring_started_at), 3) AS ring_s,
           round(talk_s, 3) AS talk_s, hangup_side
    FROM leg_facts ORDER BY call_key, ring_started_at, agent
"""

# --- the real Asterisk 22 run (ground truth scripted per call) --------------------------------

RESULTS = {"cancelled": "cancelled_answered_elsewhere"}
HUNG_UP = {"customer": "caller", "agent": "agent", "pbx": None}
END_STAGE = {
    "answered": "agent", "answered_transferred": "agent", "agent_quick_hangup": "agent",
    "short_call": "agent", "abandoned_in_ivr": "ivr", "invalid_option": "invalid_destination",
    "abandoned_in_queue": "queue", "after_hours": "after_hours", "voicemail": "voicemail",
    "abandoned_while_ringing": "ring_group",
}  # fmt: skip
OUTBOUND = {"outbound_answered": "answered", "outbound_no_answer": "no_answer",
            "outbound_busy": "busy"}  # fmt: skip


def _mismatches(
    call: dict[str, Any], facts: dict[str, Any], legs: list[dict[str, Any]]
) -> list[str]:
    """Every way our facts of one call differ from its scripted truth (empty = all agree)."""
    out: list[str] = []
    agent_legs = [leg for leg in legs if leg["destination_kind"] == "agent"]
    if call["direction"] == "outbound":
        far = [leg for leg in legs if leg["destination_kind"] == "external"]
        want = [(OUTBOUND[call["outcome"]], call["far_end_ring_s"], call["talk_s_total"])]
        got = [(leg["result"], leg["ring_s"], leg["talk_s"]) for leg in far]
        if (
            agent_legs
            or len(got) != 1
            or got[0][0] != want[0][0]
            or any(abs(g - w) > 1 for g, w in zip(got[0][1:], want[0][1:], strict=True))
        ):
            out.append(f"far end {got} != {want}")
        if (facts["origin_agent"], facts["callee"]) != (call["agent"], call["dialed_number"]):
            out.append(f"origin {facts['origin_agent']}/{facts['callee']}")
        return out
    want_rung = [(a["agent"], RESULTS.get(a["result"], a["result"])) for a in call["agents_rung"]]
    got_rung = [(leg["agent"], leg["result"]) for leg in agent_legs]
    if got_rung != want_rung:
        out.append(f"rung {got_rung} != {want_rung}")
    for leg, truth in zip(agent_legs, call["agents_rung"], strict=False):
        if abs(leg["ring_s"] - truth["ring_s"]) > 1:
            out.append(f"{leg['agent']} rang {leg['ring_s']} s, truth {truth['ring_s']} s")
    want_talk: dict[str, float] = {}
    for seg in call["talk_segments"]:
        want_talk[seg["agent"]] = want_talk.get(seg["agent"], 0) + seg["talk_s"]
    got_talk: dict[str, float] = {}
    for leg in agent_legs:
        if leg["talk_s"] > 0:
            got_talk[leg["agent"]] = got_talk.get(leg["agent"], 0) + leg["talk_s"]
    if set(got_talk) != set(want_talk) or any(
        abs(got_talk[a] - want_talk[a]) > 1 for a in want_talk
    ):
        out.append(f"talk {got_talk} != {want_talk}")
    expected = (call["customer_number"], call["line_did"], None, END_STAGE[call["outcome"]],
                HUNG_UP[call["hung_up_by"]])  # fmt: skip
    got = (facts["caller"], facts["line"], facts["origin_agent"], facts["end_stage"],
           facts["hangup_side"])  # fmt: skip
    if got != expected:
        out.append(f"call facts {got} != {expected}")
    return out


def test_cel_alone_reproduces_every_call_of_the_real_asterisk_run(
    shared: Path, real_settings: Settings
) -> None:
    sample = shared / "pbx-samples" / "asterisk-real"
    truth = json.loads((sample / "ground-truth.json").read_text(encoding="utf-8"))["calls"]
    con = cel_facts(sample / "cel.csv", real_settings)
    facts = {f["call_key"]: f for f in rows(con, "SELECT * FROM call_facts")}
    legs = rows(con, LEGS)
    assert len(truth) == len(facts) == 29
    wrong = {
        call["call_id"]: problems
        for call in truth
        if (problems := _mismatches(
            call, facts[call["asterisk_linkedid"]],
            [leg for leg in legs if leg["call_key"] == call["asterisk_linkedid"]],
        ))
    }  # fmt: skip
    assert wrong == {}


def test_real_run_imported_from_cel_alone_gives_the_published_summary(
    store: Store, shared: Path, real_settings: Settings
) -> None:
    path = shared / "pbx-samples" / "asterisk-real" / "cel.csv"
    summary = import_files(store, [path], settings=real_settings)
    (result,) = summary.files
    assert (result.format, result.records_new, result.rejects, result.calls) == (
        "asterisk-cel", 801, 0, 29,
    )  # fmt: skip
    outcomes = dict(
        store.con.execute(
            "SELECT direction || ':' || outcome, count(*) FROM calls GROUP BY ALL"
        ).fetchall()
    )
    assert outcomes == {
        "inbound:answered": 11, "inbound:missed": 11,
        "outbound:answered": 5, "outbound:no_answer": 1, "outbound:busy": 1,
    }  # fmt: skip
    # queue_log names the caller's ;2 channel; its uniqueid must lead to the call
    (call_key,) = store.con.execute(
        "SELECT call_key FROM key_links WHERE alias_key = '1795370120.1'"
    ).fetchone() or (None,)
    assert call_key == "1795370120.0"


def test_a_grown_cel_log_converges_to_the_whole_import(
    store: Store, shared: Path, real_settings: Settings, tmp_path: Path
) -> None:
    """Calls still ringing when the log was first read are completed by the later import."""
    lines = (shared / "pbx-samples" / "asterisk-real" / "cel.csv").read_text().splitlines()
    log = tmp_path / "cel.csv"
    log.write_text("\n".join(lines[:400]) + "\n")
    import_files(store, [log], settings=real_settings)
    log.write_text("\n".join(lines) + "\n")
    grown = import_files(store, [log], settings=real_settings)
    assert grown.files[0].records_new == 401
    after_growth = _tables(store)
    store.con.execute("DELETE FROM calls; DELETE FROM legs")
    store.con.execute("DELETE FROM raw_asterisk_cel_v1; DELETE FROM imports")
    import_files(store, [log], settings=real_settings)
    assert _tables(store) == after_growth


def _tables(store: Store) -> tuple[list[tuple[Any, ...]], ...]:
    return tuple(
        store.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("calls", "legs")
    )


# --- pasted scenarios ---------------------------------------------------------------------------

# Advanced field list, epoch times, SIP phones: queue `sales` rings 101-103, 102 answers at 6 s.
RING_ALL = '''
"CHAN_START","1700000000.000000","","+79990000001","74950000000","from-pstn","PJSIP/trunk-00000001","","","3","","1700000000.1","1700000000.1","","",""
"ANSWER","1700000000.010000","","+79990000001","74950000000","from-pstn","PJSIP/trunk-00000001","Answer","","3","","1700000000.1","1700000000.1","","",""
"APP_START","1700000000.020000","","+79990000001","600","queues","PJSIP/trunk-00000001","Queue","sales,t","3","","1700000000.1","1700000000.1","","",""
"CHAN_START","1700000000.030000","","101","101","from-internal","PJSIP/101-00000002","","","3","","1700000000.2","1700000000.1","","",""
"CHAN_START","1700000000.031000","","102","102","from-internal","PJSIP/102-00000003","","","3","","1700000000.3","1700000000.1","","",""
"CHAN_START","1700000000.032000","","103","103","from-internal","PJSIP/103-00000004","","","3","","1700000000.4","1700000000.1","","",""
"ANSWER","1700000006.031000","","+79990000001","600","from-internal","PJSIP/102-00000003","AppQueue","(Outgoing Line)","3","","1700000000.3","1700000000.1","","",""
"HANGUP","1700000006.032000","","+79990000001","600","from-internal","PJSIP/101-00000002","AppQueue","(Outgoing Line)","3","","1700000000.2","1700000000.1","","","{""hangupcause"":26,""hangupsource"":"""",""dialstatus"":""""}"
"CHAN_END","1700000006.032000","","+79990000001","600","from-internal","PJSIP/101-00000002","AppQueue","(Outgoing Line)","3","","1700000000.2","1700000000.1","","",""
"HANGUP","1700000006.033000","","+79990000001","600","from-internal","PJSIP/103-00000004","AppQueue","(Outgoing Line)","3","","1700000000.4","1700000000.1","","","{""hangupcause"":26,""hangupsource"":"""",""dialstatus"":""""}"
"CHAN_END","1700000006.033000","","+79990000001","600","from-internal","PJSIP/103-00000004","AppQueue","(Outgoing Line)","3","","1700000000.4","1700000000.1","","",""
"BRIDGE_ENTER","1700000006.040000","","+79990000001","600","from-internal","PJSIP/102-00000003","AppQueue","(Outgoing Line)","3","","1700000000.3","1700000000.1","","","{""bridge_id"":""b1""}"
"BRIDGE_ENTER","1700000006.041000","","+79990000001","600","queues","PJSIP/trunk-00000001","Queue","sales,t","3","","1700000000.1","1700000000.1","PJSIP/102-00000003","","{""bridge_id"":""b1""}"
"BRIDGE_EXIT","1700000041.040000","","+79990000001","600","from-internal","PJSIP/102-00000003","AppQueue","(Outgoing Line)","3","","1700000000.3","1700000000.1","PJSIP/trunk-00000001","","{""bridge_id"":""b1""}"
"HANGUP","1700000041.041000","","+79990000001","600","from-internal","PJSIP/102-00000003","AppQueue","(Outgoing Line)","3","","1700000000.3","1700000000.1","","","{""hangupcause"":16,""hangupsource"":""PJSIP/102-00000003"",""dialstatus"":""""}"
"CHAN_END","1700000041.041000","","+79990000001","600","from-internal","PJSIP/102-00000003","AppQueue","(Outgoing Line)","3","","1700000000.3","1700000000.1","","",""
"BRIDGE_EXIT","1700000041.042000","","+79990000001","600","queues","PJSIP/trunk-00000001","Queue","sales,t","3","","1700000000.1","1700000000.1","","","{""bridge_id"":""b1""}"
"HANGUP","1700000041.043000","","+79990000001","h","queues","PJSIP/trunk-00000001","","","3","","1700000000.1","1700000000.1","","","{""hangupcause"":16,""hangupsource"":""PJSIP/102-00000003"",""dialstatus"":""""}"
"CHAN_END","1700000041.043000","","+79990000001","h","queues","PJSIP/trunk-00000001","","","3","","1700000000.1","1700000000.1","","",""
"LINKEDID_END","1700000041.043000","","+79990000001","h","queues","PJSIP/trunk-00000001","","","3","","1700000000.1","1700000000.1","","",""
'''


def test_ring_all_answered_by_the_second_agent(tmp_path: Path, settings: Settings) -> None:
    con = cel_facts(write(tmp_path, RING_ALL), settings)
    assert [(r["agent"], r["leg_group"], r["queue"], r["result"], r["ring_s"], r["talk_s"],
             r["hangup_side"]) for r in rows(con, LEGS)] == [
        ("101", "queue", "sales", "cancelled_answered_elsewhere", 6.002, 0.0, None),
        ("102", "queue", "sales", "answered", 6.0, 35.0, "agent"),
        ("103", "queue", "sales", "cancelled_answered_elsewhere", 6.001, 0.0, None),
    ]  # fmt: skip
    (call,) = rows(con, "SELECT * FROM call_facts")
    assert (call["call_key"], call["caller"], call["line"], call["origin_agent"]) == (
        "1700000000.1", "+79990000001", "74950000000", None,
    )  # fmt: skip
    assert (call["queue"], call["end_stage"], call["hangup_side"]) == ("sales", "agent", "agent")


# Classic 19-field template, local wall-clock times (Moscow): Dial(PJSIP/101) answers, 101
# blind-transfers the caller to 103, who talks 20 s. Still one call (one linkedid).
BLIND_TRANSFER = '''
"CHAN_START","2026-01-12 10:00:00.000000","","+79990000002","","","74950000000","74950000000","from-pstn","PJSIP/trunk-00000010","","","3","","1768201200.10","1768201200.10","","",""
"APP_START","2026-01-12 10:00:00.100000","","+79990000002","","","74950000000","74950000000","from-pstn","PJSIP/trunk-00000010","Dial","PJSIP/101,30","3","","1768201200.10","1768201200.10","","",""
"CHAN_START","2026-01-12 10:00:00.200000","","101","","","","101","from-internal","PJSIP/101-00000011","","","3","","1768201200.11","1768201200.10","","",""
"ANSWER","2026-01-12 10:00:04.200000","","101","","","","101","from-internal","PJSIP/101-00000011","AppDial","(Outgoing Line)","3","","1768201200.11","1768201200.10","","",""
"ANSWER","2026-01-12 10:00:04.210000","","+79990000002","","","74950000000","74950000000","from-pstn","PJSIP/trunk-00000010","Dial","PJSIP/101,30","3","","1768201200.10","1768201200.10","","",""
"BRIDGE_ENTER","2026-01-12 10:00:04.220000","","101","","","","","from-internal","PJSIP/101-00000011","AppDial","(Outgoing Line)","3","","1768201200.11","1768201200.10","","","{""bridge_id"":""b2""}"
"BRIDGE_ENTER","2026-01-12 10:00:04.230000","","+79990000002","","","74950000000","74950000000","from-pstn","PJSIP/trunk-00000010","Dial","PJSIP/101,30","3","","1768201200.10","1768201200.10","PJSIP/101-00000011","","{""bridge_id"":""b2""}"
"BLINDTRANSFER","2026-01-12 10:00:16.220000","","101","","","","","from-internal","PJSIP/101-00000011","AppDial","(Outgoing Line)","3","","1768201200.11","1768201200.10","","","{""extension"":""103"",""context"":""from-internal""}"
"BRIDGE_EXIT","2026-01-12 10:00:16.230000","","+79990000002","","","74950000000","103","from-internal","PJSIP/trunk-00000010","Dial","PJSIP/101,30","3","","1768201200.10","1768201200.10","PJSIP/101-00000011","","{""bridge_id"":""b2""}"
"BRIDGE_EXIT","2026-01-12 10:00:16.240000","","101","","","","","from-internal","PJSIP/101-00000011","AppDial","(Outgoing Line)","3","","1768201200.11","1768201200.10","","","{""bridge_id"":""b2""}"
"HANGUP","2026-01-12 10:00:16.250000","","101","","","","","from-internal","PJSIP/101-00000011","AppDial","(Outgoing Line)","3","","1768201200.11","1768201200.10","","","{""hangupcause"":16,""hangupsource"":"""",""dialstatus"":""""}"
"CHAN_END","2026-01-12 10:00:16.250000","","101","","","","","from-internal","PJSIP/101-00000011","AppDial","(Outgoing Line)","3","","1768201200.11","1768201200.10","","",""
"APP_START","2026-01-12 10:00:16.260000","","+79990000002","","","74950000000","103","from-internal","PJSIP/trunk-00000010","Dial","PJSIP/103,30","3","","1768201200.10","1768201200.10","","",""
"CHAN_START","2026-01-12 10:00:16.270000","","103","","","","103","from-internal","PJSIP/103-00000012","","","3","","1768201216.12","1768201200.10","","",""
"ANSWER","2026-01-12 10:00:18.270000","","103","","","","103","from-internal","PJSIP/103-00000012","AppDial","(Outgoing Line)","3","","1768201216.12","1768201200.10","","",""
"BRIDGE_ENTER","2026-01-12 10:00:18.280000","","103","","","","","from-internal","PJSIP/103-00000012","AppDial","(Outgoing Line)","3","","1768201216.12","1768201200.10","","","{""bridge_id"":""b3""}"
"BRIDGE_ENTER","2026-01-12 10:00:18.290000","","+79990000002","","","74950000000","103","from-internal","PJSIP/trunk-00000010","Dial","PJSIP/103,30","3","","1768201200.10","1768201200.10","PJSIP/103-00000012","","{""bridge_id"":""b3""}"
"BRIDGE_EXIT","2026-01-12 10:00:38.280000","","103","","","","","from-internal","PJSIP/103-00000012","AppDial","(Outgoing Line)","3","","1768201216.12","1768201200.10","","","{""bridge_id"":""b3""}"
"HANGUP","2026-01-12 10:00:38.290000","","103","","","","","from-internal","PJSIP/103-00000012","AppDial","(Outgoing Line)","3","","1768201216.12","1768201200.10","","","{""hangupcause"":16,""hangupsource"":""PJSIP/103-00000012"",""dialstatus"":""""}"
"BRIDGE_EXIT","2026-01-12 10:00:38.300000","","+79990000002","","","74950000000","103","from-internal","PJSIP/trunk-00000010","Dial","PJSIP/103,30","3","","1768201200.10","1768201200.10","","","{""bridge_id"":""b3""}"
"HANGUP","2026-01-12 10:00:38.310000","","+79990000002","","","74950000000","h","from-internal","PJSIP/trunk-00000010","","","3","","1768201200.10","1768201200.10","","","{""hangupcause"":16,""hangupsource"":""PJSIP/103-00000012"",""dialstatus"":""ANSWER""}"
"LINKEDID_END","2026-01-12 10:00:38.310000","","+79990000002","","","74950000000","h","from-internal","PJSIP/trunk-00000010","","","3","","1768201200.10","1768201200.10","","",""
'''


def test_blind_transfer_keeps_one_call_with_one_more_leg(
    tmp_path: Path, settings: Settings
) -> None:
    con = cel_facts(write(tmp_path, BLIND_TRANSFER), settings)
    assert [(r["call_key"], r["agent"], r["leg_group"], r["result"], r["ring_s"], r["talk_s"])
            for r in rows(con, LEGS)] == [
        ("1768201200.10", "101", "dial", "answered", 4.0, 12.02),
        ("1768201200.10", "103", "dial", "answered", 2.0, 20.0),
    ]  # fmt: skip
    (call,) = rows(con, "SELECT * FROM call_facts")
    # 10:00 in Moscow is 07:00 UTC; the call ends when its last channel does
    assert (str(call["started_at"]), str(call["ended_at"])) == (
        "2026-01-12 07:00:00", "2026-01-12 07:00:38.310000",
    )  # fmt: skip
    assert (call["line"], call["end_stage"], call["hangup_side"]) == (
        "74950000000",
        "agent",
        "agent",
    )
    assert sorted(r[0] for r in con.execute("SELECT alias_key FROM key_links").fetchall()) == [
        "1768201200.10", "1768201200.11", "1768201216.12",
    ]  # fmt: skip


# A CEL table export (header, id, second-resolution times): 105 dials out, the far end is busy.
OUTBOUND_BUSY = '''
id,eventtype,eventtime,cid_name,cid_num,cid_ani,cid_rdnis,cid_dnid,exten,context,channame,appname,appdata,amaflags,accountcode,uniqueid,linkedid,peer,userdeftype,extra
71,CHAN_START,2026-01-12 11:00:00,Dmitry,105,,,,89990000003,from-internal,PJSIP/105-00000020,,,3,,1768204800.20,1768204800.20,,,
72,APP_START,2026-01-12 11:00:00,Dmitry,105,105,,89990000003,s,macro-dialout-trunk,PJSIP/105-00000020,Dial,"PJSIP/89990000003@trunk,300",3,,1768204800.20,1768204800.20,,,
73,CHAN_START,2026-01-12 11:00:00,,,,,,s,from-pstn,PJSIP/trunk-00000021,,,3,,1768204800.21,1768204800.20,,,
74,HANGUP,2026-01-12 11:00:01,,89990000003,,,,s,from-pstn,PJSIP/trunk-00000021,AppDial,(Outgoing Line),3,,1768204800.21,1768204800.20,,,"{""hangupcause"":17,""hangupsource"":""PJSIP/trunk-00000021"",""dialstatus"":""""}"
75,CHAN_END,2026-01-12 11:00:01,,89990000003,,,,s,from-pstn,PJSIP/trunk-00000021,AppDial,(Outgoing Line),3,,1768204800.21,1768204800.20,,,
76,APP_END,2026-01-12 11:00:01,Dmitry,105,105,,89990000003,s,macro-dialout-trunk,PJSIP/105-00000020,Dial,"PJSIP/89990000003@trunk,300",3,,1768204800.20,1768204800.20,,,
77,HANGUP,2026-01-12 11:00:01,Dmitry,105,105,,89990000003,h,macro-dialout-trunk,PJSIP/105-00000020,,,3,,1768204800.20,1768204800.20,,,"{""hangupcause"":17,""hangupsource"":""dialplan/builtin"",""dialstatus"":""BUSY""}"
78,LINKEDID_END,2026-01-12 11:00:01,Dmitry,105,105,,89990000003,h,macro-dialout-trunk,PJSIP/105-00000020,,,3,,1768204800.20,1768204800.20,,,
'''


def test_outbound_call_to_a_busy_number(tmp_path: Path, settings: Settings) -> None:
    con = cel_facts(write(tmp_path, OUTBOUND_BUSY), settings)
    assert [(r["destination_kind"], r["agent"], r["result"], r["talk_s"])
            for r in rows(con, LEGS)] == [("external", None, "busy", 0.0)]  # fmt: skip
    (call,) = rows(con, "SELECT * FROM call_facts")
    assert (call["caller"], call["callee"], call["line"], call["origin_agent"]) == (
        "105", "89990000003", None, "105",
    )  # fmt: skip
    assert (call["end_stage"], call["hangup_side"]) == ("external", None)


# --- the FreePBX database export ------------------------------------------------------------------


def test_freepbx_cel_table_stages_whole_and_gives_one_call_per_linkedid(
    shared: Path, settings: Settings
) -> None:
    path = shared / "pbx-samples" / "asterisk-cel" / "freepbx2024_cel.csv"
    con = cel_facts(path, settings)
    assert con.execute("SELECT count(*) FROM raw").fetchone() == (4100,)
    assert con.execute("SELECT count(*) FROM stage_rejects").fetchone() == (0,)
    assert con.execute(
        "SELECT count(*), count(DISTINCT call_key), count(*) FILTER (WHERE started_at > ended_at)"
        " FROM call_facts"
    ).fetchone() == (397, 397, 0)
    # every channel (863 CHAN_START, 863 uniqueids) leads to its call
    assert con.execute("SELECT count(DISTINCT alias_key) FROM key_links").fetchone() == (863,)
    # internal phones placed some calls; the rest came in over the trunks
    origins = {r[0] for r in con.execute("SELECT origin_agent FROM call_facts").fetchall()}
    assert origins == {None, "200", "201", "202", "203", "205"}


# --- layouts and bad lines ----------------------------------------------------------------------

ADVANCED_LINE = RING_ALL.strip().splitlines()[0]


def test_layouts_are_told_apart_by_content() -> None:
    assert detect_layout(ADVANCED_LINE, "f").name.startswith("cel_custom advanced")
    classic = BLIND_TRANSFER.strip().splitlines()[0]
    assert detect_layout(classic, "f").fields[16:] == ("peer", "userdeftype", "extra")
    fields = classic.split(",")
    with_userfield = ",".join([*fields[:17], '"sales"', *fields[17:]])
    assert detect_layout(with_userfield, "f").fields[16:] == (
        "peer", "userfield", "userdeftype", "extra",
    )  # fmt: skip
    header = detect_layout(OUTBOUND_BUSY.strip(), "f")
    assert (header.header, header.fields[0]) == (True, "event_id")
    # a log rotated mid-line starts with a fragment; the next line decides
    assert detect_layout('Line;1","",""\n' + ADVANCED_LINE + "\n", "f").fields == (
        detect_layout(ADVANCED_LINE, "f").fields
    )
    with pytest.raises(InputFormatError, match="not an Asterisk CEL file"):
        detect_layout('"","+7999","600","from-pstn"\n', "Master.csv")


def test_auto_detection_prefers_cel_for_cel_lines() -> None:
    assert AsteriskCel().sniff(ADVANCED_LINE) >= 0.9
    assert AsteriskCel().sniff("accountcode,src,dst\n") == 0.0


def test_truncated_and_malformed_lines_are_rejects_naming_the_line(
    tmp_path: Path, settings: Settings
) -> None:
    lines = RING_ALL.strip().splitlines()
    lines[4] = ",".join(lines[4].split(",")[:6])  # wrong column count in the middle
    lines[6] = lines[6].replace("1700000006.031000", "17000000O6")  # a time that is not one
    text = "\n".join(lines[:-1]) + "\n" + lines[-1][:90]  # the writer died mid-line
    con = cel_facts(write(tmp_path, text), settings)
    found = con.execute(
        "SELECT line_no, field, reason FROM stage_rejects ORDER BY line_no"
    ).fetchall()
    assert [(line, field) for line, field, _ in found] == [
        (5, "channame"), (7, "eventtime"), (20, "appname"),
    ]  # fmt: skip
    assert found[0][2].startswith("too few fields")
    assert "'17000000O6'" in found[1][2]
    assert "unterminated quote" in found[2][2]
    assert con.execute("SELECT count(*) FROM raw").fetchone() == (17,)
