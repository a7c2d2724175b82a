"""calls.disposition: how an unanswered inbound call ended (design.md 4, "Outcome").

Each test pastes the lines a PBX writes for one call and reads the disposition the import gives
it. Answered, outbound and internal calls have none; `abandoned_short` is not stored (the metric
layer derives it from wait_s and its setting).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from callscope.settings import Settings
from callscope.store import Store
from callscope.testing import import_text

REPO = Path(__file__).resolve().parents[1]
BANK_MAPPING = REPO / "mappings" / "anonymous-bank.toml"

# 2026-01-12 10:00:00 Moscow = 07:00:00 UTC: the queue_log epoch of the CDR rows below.
T0 = 1768201200


def dispositions(store: Store) -> list[tuple[object, ...]]:
    return store.con.execute(
        "SELECT direction, outcome, end_stage, disposition FROM calls ORDER BY started_at"
    ).fetchall()


def queue_log(*events: str) -> str:
    """queue_log lines of call T0.1 in queue `sales`, `+N` seconds after T0."""
    lines = []
    for event in events:
        offset, rest = event.split("|", 1)
        lines.append(f"{T0 + int(offset)}|{T0}.1|sales|{rest}")
    return "\n".join(lines)


ENTER = "0|NONE|ENTERQUEUE||+79990000001|1"


@pytest.mark.parametrize(
    ("events", "disposition"),
    [
        ([ENTER, "40|NONE|ABANDON|1|1|40"], "abandoned"),
        ([ENTER, "60|NONE|EXITWITHTIMEOUT|1|1|60"], "timeout"),
        ([ENTER, "9|NONE|EXITWITHKEY|5|1|1|9"], "exit_key"),
        ([ENTER, "30|NONE|EXITEMPTY|1|1|30"], "leave_empty"),
        (["0|NONE|JOINEMPTY|"], "join_empty"),
        (["0|NONE|JOINUNAVAIL|"], "join_empty"),
        (["0|NONE|FULL|"], "full"),
        (["0|NONE|CLOSED|"], "after_hours"),
        # A member rang out (RINGNOANSWER) before the caller gave up: still the caller's choice.
        ([ENTER, "15|PJSIP/101|RINGNOANSWER|15000", "20|NONE|ABANDON|1|1|20"], "abandoned"),
    ],
)
def test_queue_log_says_why_the_queue_let_the_caller_go(
    store: Store, tmp_path: Path, settings: Settings, events: list[str], disposition: str
) -> None:
    import_text(store, tmp_path, queue_log(*events), settings=settings, name="queue_log")
    [(direction, outcome, _stage, got)] = dispositions(store)
    assert (direction, outcome, got) == ("inbound", "missed", disposition)


def test_queue_entry_time_is_kept_for_queue_wait(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    # The CDR starts the call at 10:00:00 (IVR); queue_log says it entered the queue at +12 s.
    cdr = f'''
    "","+79990000001","600","from-pstn","","PJSIP/trunk-01","","Queue","sales,t,,,60","2026-01-12 10:00:00","2026-01-12 10:00:00","2026-01-12 10:00:52",52,52,"ANSWERED","DOCUMENTATION","{T0}.1","","","{T0}.1",1
    '''
    import_text(store, tmp_path, cdr, settings=settings)
    ql = queue_log("12|NONE|ENTERQUEUE||+79990000001|1", "52|NONE|ABANDON|1|1|40")
    import_text(store, tmp_path, ql, settings=settings, name="queue_log")
    row = store.con.execute(
        "SELECT wait_s, epoch(queue_entered_at) - epoch(started_at), disposition FROM calls"
    ).fetchone()
    assert row == (52.0, 12.0, "abandoned")


def test_where_the_caller_ended_outranks_the_queue_exit(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    # The queue timed out after 60 s, then the dialplan sent the caller to voicemail.
    ql = queue_log(ENTER, "60|NONE|EXITWITHTIMEOUT|1|1|60")
    import_text(store, tmp_path, ql, settings=settings, name="queue_log")
    cdr = f'''
    "","+79990000001","600","from-pstn","","PJSIP/trunk-01","","VoiceMail","600@default","2026-01-12 10:00:00","2026-01-12 10:00:00","2026-01-12 10:01:30",90,90,"ANSWERED","DOCUMENTATION","{T0}.1","","","{T0}.1",1
    '''
    import_text(store, tmp_path, cdr, settings=settings)
    assert dispositions(store) == [("inbound", "missed", "voicemail", "voicemail")]


CDR_CALLS = {
    "ivr": (
        '"","+79990000002","600","ivr-main","","PJSIP/trunk-01","","BackGround","welcome",'
        '"2026-01-12 10:00:00","2026-01-12 10:00:00","2026-01-12 10:00:12",12,12,"ANSWERED",'
        '"DOCUMENTATION","2.1","","","2.1",1',
        ("ivr", "abandoned"),
    ),
    "after hours": (
        '"","+79990000002","600","afterhours","","PJSIP/trunk-01","","Playback","closed",'
        '"2026-01-12 22:00:00","2026-01-12 22:00:00","2026-01-12 22:00:09",9,9,"ANSWERED",'
        '"DOCUMENTATION","2.1","","","2.1",1',
        ("after_hours", "after_hours"),
    ),
    "forward": (
        '"","+79990000002","600","from-pstn","","PJSIP/trunk-01","PJSIP/trunk-02","Dial",'
        '"PJSIP/89161234567@trunk,30","2026-01-12 10:00:00","","2026-01-12 10:00:30",30,0,'
        '"NO ANSWER","DOCUMENTATION","2.1","","","2.1",1',
        ("external", "external_forward"),
    ),
    "ring group": (
        '"","+79990000002","600","from-pstn","","PJSIP/trunk-01","PJSIP/101-02","Dial",'
        '"PJSIP/101&PJSIP/102,20","2026-01-12 10:00:00","","2026-01-12 10:00:20",20,0,'
        '"NO ANSWER","DOCUMENTATION","2.1","","","2.1",1\n'
        '"","+79990000002","600","from-pstn","","PJSIP/trunk-01","PJSIP/102-03","Dial",'
        '"PJSIP/101&PJSIP/102,20","2026-01-12 10:00:00","","2026-01-12 10:00:20",20,0,'
        '"NO ANSWER","DOCUMENTATION","2.1","","","2.1",2',
        ("ring_group", "abandoned"),  # a CDR cannot tell a Dial timeout from a hang-up
    ),
    "short talk": (
        '"","+79990000002","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-02","Dial",'
        '"PJSIP/101,20","2026-01-12 10:00:00","2026-01-12 10:00:04","2026-01-12 10:00:07",7,3,'
        '"ANSWERED","DOCUMENTATION","2.1","","","2.1",1',
        ("agent", "abandoned"),
    ),
}


@pytest.mark.parametrize("case", list(CDR_CALLS))
def test_cdr_alone_gives_the_disposition_of_the_end_stage(
    store: Store, tmp_path: Path, settings: Settings, case: str
) -> None:
    line, (stage, disposition) = CDR_CALLS[case]
    import_text(store, tmp_path, line, settings=settings)
    assert dispositions(store) == [("inbound", "missed", stage, disposition)]


def test_invalid_extension_is_invalid_destination(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    line = (
        '"","+79990000002","i","from-pstn","","PJSIP/trunk-01","","Playback","invalid",'
        '"2026-01-12 10:00:00","2026-01-12 10:00:00","2026-01-12 10:00:05",5,5,"ANSWERED",'
        '"DOCUMENTATION","2.1","","","2.1",1'
    )
    import_text(store, tmp_path, line, settings=settings)
    assert dispositions(store) == [
        ("inbound", "missed", "invalid_destination", "invalid_destination")
    ]


def test_answered_outbound_and_internal_calls_have_no_disposition(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    text = """
    "","+79161110001","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-02","Dial","PJSIP/101,20","2026-01-12 10:00:00","2026-01-12 10:00:04","2026-01-12 10:00:40",40,36,"ANSWERED","DOCUMENTATION","1.1","","","1.1",1
    "","103","89990001122","from-internal","","PJSIP/103-01","PJSIP/trunk-02","Dial","PJSIP/89990001122@trunk,30","2026-01-12 11:00:00","","2026-01-12 11:00:30",30,0,"NO ANSWER","DOCUMENTATION","3.1","","","3.1",1
    "","101","102","from-internal","","PJSIP/101-01","PJSIP/102-02","Dial","PJSIP/102,20","2026-01-12 12:00:00","","2026-01-12 12:00:20",20,0,"NO ANSWER","DOCUMENTATION","5.1","","","5.1",1
    """
    import_text(store, tmp_path, text, settings=settings)
    assert [(d, o, disp) for d, o, _s, disp in dispositions(store)] == [
        ("inbound", "answered", None),
        ("outbound", "no_answer", None),
        ("internal", "no_answer", None),
    ]


# CEL: the caller's HANGUP carries the DIALSTATUS of its last Dial: NOANSWER = the dial timeout
# ran out, CANCEL = the caller hung up while it rang. Queue() leaves NOANSWER either way, so
# there it says nothing.
CEL = (
    """
"CHAN_START","2026-01-12 10:00:00.000000","","+79990000003","","","600","600","from-pstn","PJSIP/trunk-00000010","","","3","","1768201200.10","1768201200.10","","",""
"APP_START","2026-01-12 10:00:00.100000","","+79990000003","","","600","600","from-pstn","PJSIP/trunk-00000010",@APP@,"3","","1768201200.10","1768201200.10","","",""
"CHAN_START","2026-01-12 10:00:00.200000","","101","","","","101","from-internal","PJSIP/101-00000011","","","3","","1768201200.11","1768201200.10","","",""
"HANGUP","2026-01-12 10:00:@END@.200000","","101","","","","101","from-internal","PJSIP/101-00000011","AppDial","(Outgoing Line)","3","","1768201200.11","1768201200.10","","","{""hangupcause"":@CAUSE@,""hangupsource"":"""
    ","
    "dialstatus"
    ":"
    """}"
"CHAN_END","2026-01-12 10:00:@END@.200000","","101","","","","101","from-internal","PJSIP/101-00000011","AppDial","(Outgoing Line)","3","","1768201200.11","1768201200.10","","",""
"HANGUP","2026-01-12 10:00:@END@.300000","","+79990000003","","","600","600","from-pstn","PJSIP/trunk-00000010","","","3","","1768201200.10","1768201200.10","","","{""hangupcause"":16,""hangupsource"":""@SRC@"",""dialstatus"":""@STATUS@""}"
"LINKEDID_END","2026-01-12 10:00:@END@.300000","","+79990000003","","","600","600","from-pstn","PJSIP/trunk-00000010","","","3","","1768201200.10","1768201200.10","","",""
"""
)


@pytest.mark.parametrize(
    ("app", "end", "cause", "source", "status", "disposition"),
    [
        ('"Dial","PJSIP/101,20"', "20", "19", "", "NOANSWER", "timeout"),
        ('"Dial","PJSIP/101,20"', "08", "16", "PJSIP/trunk-00000010", "CANCEL", "abandoned"),
        ('"Queue","sales"', "08", "16", "PJSIP/trunk-00000010", "NOANSWER", "abandoned"),
    ],
)
def test_cel_dialstatus_tells_a_timeout_from_a_hang_up(
    store: Store,
    tmp_path: Path,
    settings: Settings,
    app: str,
    end: str,
    cause: str,
    source: str,
    status: str,
    disposition: str,
) -> None:
    text = (
        CEL.replace("@APP@", app)
        .replace("@END@", end)
        .replace("@CAUSE@", cause)
        .replace("@SRC@", source)
        .replace("@STATUS@", status)
    )
    summary = import_text(store, tmp_path, text, settings=settings, name="Master.csv")
    assert summary.rejects == 0
    [(direction, outcome, _stage, got)] = dispositions(store)
    assert (direction, outcome, got) == ("inbound", "missed", disposition)


@pytest.mark.parametrize(
    ("destination", "cause", "disposition"),
    [
        ("sales", "ORIGINATOR_CANCEL", "abandoned"),
        ("sales", "NO_ANSWER", "timeout"),
        ("sales", "ALLOTTED_TIMEOUT", "timeout"),
        ("support", "UNALLOCATED_NUMBER", "invalid_destination"),
    ],
)
def test_freeswitch_hangup_cause_of_the_caller_leg(
    store: Store, tmp_path: Path, settings: Settings, destination: str, cause: str, disposition: str
) -> None:
    # cdr_csv "example" template, the caller's (A) leg only.
    line = (
        f'"Ivan","+15550100","{destination}","public","2024-03-01 10:00:00","",'
        f'"2024-03-01 10:00:30","30","0","{cause}","a1b2c3d4-0000-4000-8000-000000000001",'
        '"","","PCMA","PCMA"'
    )
    import_text(store, tmp_path, line, fmt="freeswitch-cdr", settings=settings, name="a.csv")
    [(direction, outcome, _stage, got)] = dispositions(store)
    assert (direction, outcome, got) == ("inbound", "missed", disposition)


BANK = """
vru+line,call_id,customer_id,priority,type,date,vru_entry,vru_exit,vru_time,q_start,q_exit,q_time,outcome,ser_start,ser_exit,ser_time,server
AA0101,33118,27997683,2,PS,990101,6:55:20,6:55:26,6,6:55:26,6:55:43,17,AGENT,6:55:43,6:56:37,54,MICHAL
AA0101,33116,9664491,2,PS,990101,7:00:31,7:00:36,5,7:00:36,7:03:09,153,HANG,0:00:00,0:00:00,0,NO_SERVER
AA0101,33117,0,0,PS,990101,7:34:12,7:34:23,11,0:00:00,0:00:00,0,HANG,0:00:00,0:00:00,0,NO_SERVER
"""


def test_mapped_outcomes_through_the_value_map(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    # The bank's HANG maps to `abandoned`, in the queue or still in the VRU (IVR).
    import_text(
        store, tmp_path, BANK, fmt="mapped-csv", settings=settings, name="bank.csv",
        mapping=BANK_MAPPING,
    )  # fmt: skip
    assert dispositions(store) == [
        ("inbound", "answered", "agent", None),
        ("inbound", "missed", "queue", "abandoned"),
        ("inbound", "missed", "ivr", "abandoned"),
    ]


def test_a_mapped_outcome_may_name_any_disposition(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        """
name = "pbx"
kind = "call"
[csv]
delimiter = ","
header = true
[fields]
call_key = "id"
started_at = "start"
caller = "from"
direction = { sql = "'inbound'" }
outcome = "result"
[values.outcome]
TIMEOUT = "timeout"
CALLBACK = "callback_requested"
FWD = "external_forward"
"""
    )
    text = """
    id,start,from,result
    1,2026-01-12 10:00:00,+79990000001,TIMEOUT
    2,2026-01-12 10:05:00,+79990000002,CALLBACK
    3,2026-01-12 10:10:00,+79990000003,FWD
    """
    import_text(
        store, tmp_path, text, fmt="mapped-csv", settings=settings, name="calls.csv",
        mapping=mapping,
    )  # fmt: skip
    assert [d for *_x, d in dispositions(store)] == [
        "timeout", "callback_requested", "external_forward",
    ]  # fmt: skip
