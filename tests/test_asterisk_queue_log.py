"""Asterisk queue_log: what app_queue's lines say about queue legs, queue calls and agents.

Most tests stage pasted lines with the source alone (DuckDB in memory, the facts SQL run over the
staged rows), so each one reads as "these lines mean these facts". The real samples are checked
for exact row and reject counts, and the real Asterisk 22 run against its scripted ground truth.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from callscope.errors import InputFormatError
from callscope.importer import import_files
from callscope.settings import Settings
from callscope.sources.asterisk_queue_log import AsteriskQueueLog
from callscope.store import Store
from callscope.testing import StagedFile

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "pbx-samples"
REAL = SAMPLES / "asterisk-real"
VENDOR = SAMPLES / "asterisk-queue-log"
SOURCE = AsteriskQueueLog()


def at(epoch: float) -> datetime:
    """A queue_log epoch as the naive UTC timestamp the facts hold."""
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


class Staged(StagedFile):
    """queue_log lines staged alone, read back as facts."""

    def facts(self, view: str, order: str = "1") -> list[dict[str, Any]]:
        return super().facts(view, order)

    def legs(self) -> list[tuple[Any, ...]]:
        """(agent, result, ring start, answered, ended, talk) in ring order."""
        return [
            (f["agent"], f["result"], f["ring_started_at"], f["answered_at"], f["ended_at"],
             f["talk_s"])
            for f in self.facts("leg_facts", "ended_at, ring_started_at, agent")
        ]  # fmt: skip

    def rejects(self) -> list[tuple[Any, ...]]:
        return self.con.execute(
            "SELECT line_no, field, raw, reason FROM stage_rejects ORDER BY line_no"
        ).fetchall()

    def count(self) -> int:
        row = self.con.execute("SELECT count(*) FROM raw_ql").fetchone()
        return int(row[0]) if row else 0


def stage_file(path: Path, timezone: str = "Europe/Moscow") -> Staged:
    return Staged(
        SOURCE, path, timezone=timezone, tenant="t1", raw="raw_ql", display_name=str(path),
        settings=Settings(timezone=timezone),
    )  # fmt: skip


def stage(tmp_path: Path, text: str, name: str = "queue_log", tz: str = "Europe/Moscow") -> Staged:
    lines = [line.strip() for line in text.strip("\n").splitlines()]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return stage_file(path, tz)


def test_ring_all_answered_by_the_second_member(tmp_path: Path) -> None:
    staged = stage(tmp_path, """
        1700000000|1700000000.10|sales|NONE|ENTERQUEUE||+79001112233|1
        1700000006|1700000000.10|sales|Anna Petrova|RINGCANCELED|5800
        1700000006|1700000000.10|sales|Viktor Orlov|RINGCANCELED|5800
        1700000006|1700000000.10|sales|Boris Smirnov|CONNECT|6|1700000000.11|6
        1700000041|1700000000.10|sales|Boris Smirnov|COMPLETECALLER|6|35|1
    """)  # fmt: skip
    cancelled = "cancelled_answered_elsewhere"
    assert staged.legs() == [
        ("Anna Petrova", cancelled, at(1700000000.2), None, at(1700000006), 0.0),
        ("Viktor Orlov", cancelled, at(1700000000.2), None, at(1700000006), 0.0),
        ("Boris Smirnov", "answered", at(1700000000), at(1700000006), at(1700000041), 35.0),
    ]
    (call,) = staged.facts("call_facts")
    assert call["call_key"] == "1700000000.10"
    assert (call["started_at"], call["ended_at"]) == (at(1700000000), at(1700000041))
    assert (call["caller"], call["queue"], call["end_stage"], call["hangup_side"]) == (
        "+79001112233", "sales", "agent", "caller"
    )  # fmt: skip
    (answered,) = [f for f in staged.facts("leg_facts") if f["result"] == "answered"]
    assert (answered["leg_group"], answered["destination_kind"], answered["priority"]) == (
        "queue", "agent", 2
    )  # fmt: skip
    assert answered["hangup_side"] == "caller"


def test_events_of_one_second_count_in_file_order(tmp_path: Path) -> None:
    """queue_log times are whole seconds: a caller who finds `sales` empty and is sent on to
    `support` in the same second entered `sales` first (never whichever row a thread saw first)."""
    staged = stage(tmp_path, """
        1700000200|1700000200.30|sales|NONE|ENTERQUEUE||+79001112233|1
        1700000200|1700000200.30|sales|NONE|EXITEMPTY|1|1|0
        1700000200|1700000200.30|support|NONE|ENTERQUEUE||+79001112244|1
        1700000230|1700000200.30|support|NONE|ABANDON|1|1|30
    """)  # fmt: skip
    (call,) = staged.facts("call_facts")
    assert (call["caller"], call["queue"]) == ("+79001112233", "sales")
    assert call["exit_reason"] == "abandoned"


def test_ring_no_answer_is_in_milliseconds_and_a_member_channel_gives_the_extension(
    tmp_path: Path,
) -> None:
    staged = stage(tmp_path, """
        1700000100|1700000100.20|support|NONE|ENTERQUEUE||+79001112233|1
        1700000115|1700000100.20|support|PJSIP/101|RINGNOANSWER|15000
        1700000132|1700000100.20|support|Local/102@from-queue/n|RINGNOANSWER|14500
        1700000140|1700000100.20|support|SIP/103-0a1b2c3d|CONNECT|40|1700000134.21|6
        1700000150|1700000100.20|support|SIP/103-0a1b2c3d|COMPLETEAGENT|40|10|1
        1700000151|1700000100.20|support|Agent/1001|RINGNOANSWER|0
    """)  # fmt: skip
    legs = staged.facts("leg_facts", "ended_at")
    assert [(f["agent"], f["extension"], f["result"]) for f in legs] == [
        ("PJSIP/101", "101", "no_answer"),
        ("Local/102@from-queue/n", "102", "no_answer"),
        ("SIP/103-0a1b2c3d", "103", "answered"),
        ("Agent/1001", None, "no_answer"),
    ]
    assert [(f["ring_started_at"], f["ended_at"]) for f in legs[:2]] == [
        (at(1700000100), at(1700000115)),
        (at(1700000117.5), at(1700000132)),
    ]
    assert (legs[2]["ring_started_at"], legs[2]["talk_s"], legs[2]["hangup_side"]) == (
        at(1700000134), 10.0, "agent"
    )  # fmt: skip
    (call,) = staged.facts("call_facts")
    assert (call["ended_at"], call["hangup_side"]) == (at(1700000151), "agent")


def test_caller_who_gives_up_while_members_ring_abandons_in_the_queue(tmp_path: Path) -> None:
    staged = stage(tmp_path, """
        1795370182|1795370180.17|sales|NONE|ENTERQUEUE||+79175678901|1
        1795370197|1795370180.17|sales|Anna Petrova|RINGNOANSWER|15000
        1795370207|1795370180.17|sales|Anna Petrova|RINGCANCELED|8232
        1795370207|1795370180.17|sales|NONE|ABANDON|1|1|25
    """)  # fmt: skip
    assert [(a, r, start, end) for a, r, start, _, end, _ in staged.legs()] == [
        ("Anna Petrova", "no_answer", at(1795370182), at(1795370197)),
        ("Anna Petrova", "caller_hung_up", at(1795370198.768), at(1795370207)),
    ]
    (call,) = staged.facts("call_facts")
    assert (call["end_stage"], call["hangup_side"], call["ended_at"]) == (
        "queue", "caller", at(1795370207)
    )  # fmt: skip


def test_queue_timeout_and_exit_key_stop_the_ringing_without_an_answer(tmp_path: Path) -> None:
    staged = stage(tmp_path, """
        1700000200|1700000200.1|support|NONE|ENTERQUEUE||+79001112233|1
        1700000230|1700000200.1|support|Galina Volkova|RINGCANCELED|4000
        1700000230|1700000200.1|support|NONE|EXITWITHTIMEOUT|1|1|30
        1700000300|1700000300.1|support|NONE|ENTERQUEUE||+79001112244|1
        1700000309|1700000300.1|support|Galina Volkova|RINGCANCELED|3000
        1700000309|1700000300.1|support|NONE|EXITWITHKEY|5|1|1|9
        1700000400|1700000400.1|support|NONE|ENTERQUEUE||+79001112255|1
        1700000401|1700000400.1|support|NONE|EXITEMPTY|1|1|1
    """)  # fmt: skip
    assert [(a, r) for a, r, *_ in staged.legs()] == [
        ("Galina Volkova", "no_answer"),
        ("Galina Volkova", "caller_hung_up"),
    ]
    calls = staged.facts("call_facts", "call_key")
    assert [(c["call_key"], c["end_stage"], c["hangup_side"]) for c in calls] == [
        ("1700000200.1", "queue", None),
        ("1700000300.1", "queue", None),
        ("1700000400.1", "queue", None),
    ]


def test_a_transfer_ends_the_agents_talk_and_keeps_the_call(tmp_path: Path) -> None:
    staged = stage(tmp_path, """
        1795370357|1795370355.81|sales|NONE|ENTERQUEUE||+79811234509|1
        1795370357|1795370355.81|NONE|NONE|DID|74951234567
        1795370360|1795370355.81|sales|Anna Petrova|CONNECT|3|1795370357.82|3
        1795370372|1795370355.81|sales|Anna Petrova|BLINDTRANSFER|103|xfer|3|12|1
        1700000010|1700000000.1|sales|Boris Smirnov|CONNECT|4|1700000006.2|2
        1700000031|1700000000.1|sales|Boris Smirnov|ATTENDEDTRANSFER|BRIDGE|b7c1|4|20|1
        1700001010|1700001000.1|sales|Boris Smirnov|CONNECT|4|1700001006.2|2
        1700001036|1700001000.1|sales|Boris Smirnov|ATTENDEDTRANSFER|LINK|Local/1@a;1|Local/1@a;2|4|25|1
        1700002010|1700002000.1|sales|Boris Smirnov|CONNECT|4|1700002006.2|2
        1700002041|1700002000.1|sales|Boris Smirnov|TRANSFER|200|from-internal|4|30|1
    """)  # fmt: skip
    legs = staged.facts("leg_facts", "answered_at")
    assert [(f["call_key"], f["talk_s"], f["hangup_side"]) for f in legs] == [
        ("1700000000.1", 20.0, None),
        ("1700001000.1", 25.0, None),
        ("1700002000.1", 30.0, None),
        ("1795370355.81", 12.0, None),
    ]
    transferred = staged.facts("call_facts", "call_key")[-1]
    assert (transferred["line"], transferred["callee"], transferred["hangup_side"]) == (
        "74951234567", "74951234567", None
    )  # fmt: skip
    assert (transferred["end_stage"], transferred["ended_at"]) == ("agent", at(1795370372))


def test_agent_dump_and_incompatible_channels_are_legs_nobody_talked_on(tmp_path: Path) -> None:
    staged = stage(tmp_path, """
        1700000000|1700000000.1|sales|NONE|ENTERQUEUE||+79001112233|1
        1700000005|1700000000.1|sales|Anna Petrova|AGENTDUMP
        1700000009|1700000000.1|sales|Boris Smirnov|SYSCOMPAT
        1700000010|1700000000.1|sales|NONE|ABANDON|1|1|10
    """)  # fmt: skip
    assert [(a, r, end, talk) for a, r, _, _, end, talk in staged.legs()] == [
        ("Anna Petrova", "rejected", at(1700000005), 0.0),
        ("Boris Smirnov", "unavailable", at(1700000009), 0.0),
    ]


def test_a_static_member_has_pause_intervals_with_their_reason(tmp_path: Path) -> None:
    staged = stage(tmp_path, """
        1700000000|NONE|sales|Anna Petrova|PAUSE|lunch
        1700000000|NONE|support|Anna Petrova|PAUSE|lunch
        1700001800|NONE|sales|Anna Petrova|UNPAUSE|
        1700001800|NONE|support|Anna Petrova|UNPAUSE|
        1700003600|NONE|NONE|Anna Petrova|PAUSEALL|
        1700004000|NONE|NONE|Anna Petrova|UNPAUSEALL|
        1700005000|NONE|sales|Anna Petrova|PAUSE|dnd
    """)  # fmt: skip
    events = staged.facts("agent_events", "started_at")
    assert [(e["agent"], e["state"], e["reason"], e["started_at"], e["ended_at"]) for e in events] == [
        ("Anna Petrova", "paused", "lunch", at(1700000000), at(1700001800)),
        ("Anna Petrova", "paused", None, at(1700003600), at(1700004000)),
        ("Anna Petrova", "paused", "dnd", at(1700005000), None),
    ]  # fmt: skip
    assert {e["source"] for e in events} == {"asterisk-queue-log"}


def test_a_dynamic_member_is_offline_between_removal_and_the_next_add(tmp_path: Path) -> None:
    staged = stage(tmp_path, """
        1700000000|MANAGER|sales|Local/104@agents|ADDMEMBER|
        1700000000|MANAGER|support|Local/104@agents|ADDMEMBER|
        1700000600|NONE|sales|Local/104@agents|PAUSE|break
        1700000900|NONE|sales|Local/104@agents|UNPAUSE|
        1700003600|MANAGER|sales|Local/104@agents|REMOVEMEMBER|
        1700003700|MANAGER|support|Local/104@agents|REMOVEMEMBER|
        1700007200|MANAGER|support|Local/104@agents|ADDMEMBER|
        1700000000|NONE|NONE|Agent/1001|AGENTLOGIN|PJSIP/1001-00000001
        1700009000|NONE|NONE|Agent/1001|AGENTLOGOFF|PJSIP/1001-00000001|9000
    """)  # fmt: skip
    events = staged.facts("agent_events", "agent, started_at")
    assert [(e["agent"], e["state"], e["reason"], e["started_at"], e["ended_at"]) for e in events] == [
        ("Agent/1001", "available", None, at(1700000000), at(1700009000)),
        ("Agent/1001", "offline", None, at(1700009000), None),
        ("Local/104@agents", "available", None, at(1700000000), at(1700000600)),
        ("Local/104@agents", "paused", "break", at(1700000600), at(1700000900)),
        ("Local/104@agents", "available", None, at(1700000900), at(1700003700)),
        ("Local/104@agents", "offline", None, at(1700003700), at(1700007200)),
        ("Local/104@agents", "available", None, at(1700007200), None),
    ]  # fmt: skip


def test_a_callback_agents_login_written_twice_is_one_timeline(tmp_path: Path) -> None:
    staged = stage(tmp_path, """
        1543598990|1543598985.25|IT|Local/1127@callback-agent|ADDMEMBER
        1543598990|1543598985.25|NONE|Agent/1127|AGENTCALLBACKLOGIN|hint:1127@default
        1543614691|MANAGER|IT|Local/1127@callback-agent|ADDMEMBER
        1543626734|1543626728.50|IT|Local/1127@callback-agent|REMOVEMEMBER
        1543626734|1543626728.50|NONE|Agent/1127|AGENTCALLBACKLOGOFF|hint:1127@default|27744
    """)  # fmt: skip
    events = staged.facts("agent_events", "started_at")
    assert [(e["agent"], e["state"], e["started_at"], e["ended_at"]) for e in events] == [
        ("Agent/1127", "available", at(1543598990), at(1543626734)),
        ("Agent/1127", "offline", at(1543626734), None),
    ]


def test_bad_lines_are_rejects_that_name_the_field_and_the_rest_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_bytes(
        b"garbage\r\n"
        b"\r\n"
        b"17000x0001|1700000001.1|sales|NONE|ENTERQUEUE||+79001112233|1\r\n"
        b"1700000002|1700000001.1|sales\r\n"
        b"1700000003|1700000001.1|sales|NONE|CALLERONHOLD|x\r\n"
        b"1700000004|1700000001.1|sales|NONE|CUSTOM|1|2|3|4|5|6|7|8\r\n"
        b"|1700000001.1|sales|NONE|ABANDON|1|1|4"
    )
    staged = stage_file(path)
    assert staged.rejects() == [
        (1, "time", "garbage",
         "time 'garbage' is neither epoch seconds nor a YYYY-MM-DD HH:MM:SS local time"),
        (3, "time", "17000x0001|1700000001.1|sales|NONE|ENTERQUEUE||+79001112233|1",
         "time '17000x0001' is neither epoch seconds nor a YYYY-MM-DD HH:MM:SS local time"),
        (4, "event", "1700000002|1700000001.1|sales",
         "event field is missing (expected time|callid|queue|agent|event|data...)"),
        (7, "time", "|1700000001.1|sales|NONE|ABANDON|1|1|4", "time field is missing"),
    ]  # fmt: skip
    assert staged.result.rows_read == 6  # every line but the blank one
    rows = staged.con.execute(
        "SELECT row_no, event, data1, data5, data_more FROM raw_ql ORDER BY row_no"
    ).fetchall()
    assert rows == [
        (5, "CALLERONHOLD", "x", None, None),
        (6, "CUSTOM", "1", "5", "6|7|8"),
    ]


def test_the_same_line_has_the_same_record_key_in_any_file(tmp_path: Path) -> None:
    line = "1700000000|1700000000.10|sales|NONE|ENTERQUEUE||+79001112233|1"
    first = stage(tmp_path, f"1700000000|NONE|NONE|NONE|QUEUESTART|\n{line}", name="a")
    second = stage(tmp_path, f"{line}\n1700000001|1700000000.10|sales|NONE|ABANDON|1|1|1", "b")
    keys = "SELECT record_key FROM raw_ql WHERE event = 'ENTERQUEUE'"
    assert first.con.execute(keys).fetchall() == second.con.execute(keys).fetchall()
    all_keys = "SELECT count(DISTINCT record_key) FROM raw_ql"
    assert first.con.execute(all_keys).fetchone() == (2,)


def test_a_realtime_table_export_with_one_data_column_and_local_times(tmp_path: Path) -> None:
    staged = stage(tmp_path, """
        id,time,callid,queuename,agent,event,data
        1,2026-11-22 20:55:22.250000,1795370120.1,support,NONE,ENTERQUEUE,|+79161234567|1
        2,2026-11-22 20:55:26,1795370120.1,support,Galina Volkova,CONNECT,4|1795370122.2|4
        3,2026-11-22 20:56:06,1795370120.1,support,Galina Volkova,COMPLETEAGENT,4|40|1
        4,yesterday,1795370120.1,support,Galina Volkova,COMPLETEAGENT,4|40|1
    """, name="queue_log.csv")  # fmt: skip
    assert staged.result.notes == [
        "layout: queue_log table (id, time, callid, queuename, agent, event, data)"
    ]
    assert [r[:2] for r in staged.rejects()] == [(5, "time")]
    assert staged.legs() == [
        ("Galina Volkova", "answered", at(1795370122), at(1795370126), at(1795370166), 40.0)
    ]
    (call,) = staged.facts("call_facts")
    assert (call["started_at"], call["caller"]) == (at(1795370122.25), "+79161234567")


def test_a_table_export_with_data1_to_data5_and_epoch_times(tmp_path: Path) -> None:
    staged = stage(tmp_path, """
        time;callid;queuename;agent;event;data1;data2;data3;data4;data5
        1795370125;1795370123.5;sales;NONE;ENTERQUEUE;;+79262345678;1;;
        1795370131;1795370123.5;sales;Boris Smirnov;CONNECT;6;1795370125.8;6;;
        1795370166;1795370123.5;sales;Boris Smirnov;COMPLETEAGENT;6;35;1;;
    """, name="queue_log.csv")  # fmt: skip
    assert staged.rejects() == []
    assert staged.legs() == [
        ("Boris Smirnov", "answered", at(1795370125), at(1795370131), at(1795370166), 35.0)
    ]


def test_a_table_export_without_an_event_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="no time column"):
        stage(tmp_path, "callid,queuename,agent,event\n1.1,q,NONE,ENTERQUEUE", name="x.csv")
    with pytest.raises(InputFormatError, match="not an Asterisk queue_log"):
        stage(tmp_path, "hello world\n", name="y.txt")


def test_sniff_knows_the_file_and_the_table_and_nothing_else() -> None:
    native = (REAL / "queue_log").read_text(encoding="utf-8")
    table = (VENDOR / "voipreports1_queue_log_table.csv").read_text(encoding="utf-8")[:4000]
    master = (REAL / "Master.csv").read_text(encoding="utf-8")
    assert SOURCE.sniff(native) >= 0.9
    assert SOURCE.sniff(table) >= 0.9
    assert SOURCE.sniff(master) == 0.0
    assert SOURCE.sniff("") == 0.0


@pytest.mark.parametrize(
    ("path", "timezone", "layout", "counts"),
    [
        (REAL / "queue_log", "Europe/Moscow", "native", (49, 0, 13, 22, 0)),
        (VENDOR / "voipreports1_queue_log_table.csv", "America/New_York", "table",
         (1000, 0, 108, 453, 24)),
        (VENDOR / "voipreports1_queue_log.derived.txt", "UTC", "native",
         (1000, 0, 108, 453, 24)),
    ],
)  # fmt: skip
def test_every_real_sample_stages_whole(
    path: Path, timezone: str, layout: str, counts: tuple[int, ...]
) -> None:
    staged = stage_file(path, timezone)
    assert layout in staged.result.notes[0]
    measured = (
        staged.count(),
        len(staged.rejects()),
        len(staged.facts("call_facts")),
        len(staged.facts("leg_facts")),
        len(staged.facts("agent_events")),
    )
    assert measured == counts
    assert staged.result.rows_read == counts[0]


def test_the_vendor_table_keeps_caller_ring_and_talk_in_its_own_columns() -> None:
    staged = stage_file(VENDOR / "voipreports1_queue_log_table.csv", "America/New_York")
    legs = [f for f in staged.facts("leg_facts", "ended_at") if f["call_key"] == "1543602660.197"]
    assert [(f["agent"], f["result"]) for f in legs] == [
        ("Agent/1141", "no_answer"),
        ("Agent/1127", "no_answer"),
        ("Agent/1141", "no_answer"),
        ("Agent/1127", "no_answer"),
        ("Agent/1141", "no_answer"),
        ("Agent/1127", "answered"),
    ]
    assert (legs[0]["ring_started_at"], legs[0]["ended_at"]) == (at(1543602677), at(1543602687))
    assert (legs[-1]["answered_at"], legs[-1]["talk_s"]) == (at(1543602753), 847.0)
    (call,) = [c for c in staged.facts("call_facts") if c["call_key"] == "1543602660.197"]
    entered = staged.con.execute(
        "SELECT data1 FROM raw_ql WHERE callid = '1543602660.197' AND event = 'ENTERQUEUE'"
    ).fetchone()
    assert entered is not None and (call["caller"], call["hangup_side"]) == (entered[0], "caller")
    # the derived native file lost htime: the same rings end on time but their start is unknown
    derived = stage_file(VENDOR / "voipreports1_queue_log.derived.txt", "UTC")
    rings = [f for f in derived.facts("leg_facts") if f["result"] == "no_answer"]
    assert {f["ring_started_at"] for f in rings} == {None}


GROUND_RESULT = {
    "answered": "answered",
    "no_answer": "no_answer",
    "cancelled": "cancelled_answered_elsewhere",
    "caller_hung_up": "caller_hung_up",
}


def test_queue_legs_of_the_real_asterisk_run_match_its_ground_truth() -> None:
    truth = json.loads((REAL / "ground-truth.json").read_text(encoding="utf-8"))
    staged = stage_file(REAL / "queue_log")
    calls = {c["call_key"]: c for c in staged.facts("call_facts")}
    inbound = [c for c in truth["calls"] if c["direction"] == "inbound"]
    by_caller: dict[str, dict[str, Any]] = {}
    for key, call in calls.items():
        # queue_log's callid is the trunk channel's uniqueid: find the call by number and time
        (match,) = [
            c for c in inbound
            if c["customer_number"] == call["caller"]
            and 0 <= (call["started_at"] - at(c["start_epoch"])).total_seconds() < 30
        ]  # fmt: skip
        by_caller[key] = match
    queue_calls = [c for c in inbound if "queue" in (c["path"] or "")]
    assert sorted(c["call_id"] for c in by_caller.values()) == sorted(
        c["call_id"] for c in queue_calls
    )
    matched = 0
    for leg in staged.facts("leg_facts"):
        expected = by_caller[leg["call_key"]]
        name = leg["agent"]
        end = leg["answered_at"] or leg["ended_at"]
        ring_s = (end - leg["ring_started_at"]).total_seconds()
        candidates = [
            r for r in expected["agents_rung"]
            if r["agent_name"] == name and GROUND_RESULT[r["result"]] == leg["result"]
            and abs(r["ring_s"] - ring_s) <= 1
        ]  # fmt: skip
        assert candidates, (expected["call_id"], name, leg["result"], ring_s)
        if leg["result"] == "answered":
            (talk,) = [t for t in expected["talk_segments"] if t["agent_name"] == name]
            assert abs(talk["talk_s"] - leg["talk_s"]) <= 1
        matched += 1
    assert matched == 22
    # every leg but the ring-all legs cancelled by another's answer (those are not logged) and
    # the transfer target (a Dial, not a queue ring) is in queue_log
    logged = sum(
        1 for c in queue_calls for i, r in enumerate(c["agents_rung"])
        if r["result"] != "cancelled"
        and not (c["transferred_to"] and i == len(c["agents_rung"]) - 1)
    )  # fmt: skip
    assert logged == 22
    outcomes = {
        by_caller[k]["call_id"]: (c["end_stage"], c["hangup_side"]) for k, c in calls.items()
    }
    assert outcomes["A05"] == ("queue", "caller")
    assert outcomes["A12"] == ("agent", "caller")
    assert outcomes["A17"] == ("agent", None)


@pytest.mark.parametrize("files", [("Master.csv", "queue_log"), ("queue_log", "Master.csv")])
def test_imported_with_the_cdr_the_queue_legs_replace_the_cdr_rows_of_the_same_rings(
    store: Store, real_settings: Settings, files: tuple[str, ...]
) -> None:
    for name in files:  # one file per import: the later one re-assembles the calls it touches
        summary = import_files(store, [REAL / name], settings=real_settings)
        assert summary.rejects == 0
    rows = store.con.execute(
        """SELECT source, count(*) FROM legs
           WHERE call_id IN (SELECT call_id FROM calls WHERE queue IS NOT NULL) GROUP BY 1"""
    ).fetchall()
    assert dict(rows)["asterisk-queue-log"] == 22
    assert summary.total_calls == 29
    a16 = store.con.execute(
        """SELECT agent, result, ring_s, talk_s, source FROM legs
           WHERE call_id = '1795370306.74' ORDER BY leg_no"""
    ).fetchall()
    assert a16 == [
        ("104", "no_answer", 15.0, 0.0, "asterisk-queue-log"),
        ("105", "answered", 5.0, 20.0, "asterisk-queue-log"),
    ]


@pytest.mark.parametrize(
    ("name", "new", "duplicates"),
    [
        ("voipreports1_queue_log_table.csv", 1000, 0),
        ("voipreports1_queue_log.derived.txt", 986, 14),
    ],
)
def test_the_vendor_samples_import_into_the_same_calls_legs_and_agent_states(
    store: Store, name: str, new: int, duplicates: int
) -> None:
    cfg = Settings(timezone="America/New_York", region="US")
    summary = import_files(store, [VENDOR / name], settings=cfg)
    (result,) = summary.files
    assert (result.format, result.records_read, result.records_new) == (
        "asterisk-queue-log", 1000, new
    )  # fmt: skip
    # the derived file lost the table's uid, so the vendor's twice-written OUT* lines are twins
    reasons = store.con.execute("SELECT reason FROM rejects").fetchall()
    assert len(reasons) == duplicates and all(r.startswith("duplicate of line") for (r,) in reasons)
    assert (summary.total_calls, summary.legs, summary.agent_states) == (108, 453, 24)
