"""What the writers emit for one call, line by line: a caller presses 2 in the IVR, waits in the
support queue, Alexei's phone rings out (15 s), after the 2 s retry Maria answers and the
caller hangs up after a minute. The lines follow the asterisk-real sample's dialect."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from callscope.simulate.engine import assign_ids
from callscope.simulate.trace import AgentInfo, SimCall, SimLeg, Trace
from callscope.simulate.writers.asterisk_cdr import write_cdr
from callscope.simulate.writers.asterisk_cel import write_cel
from callscope.simulate.writers.asterisk_queue_log import write_queue_log

T = 1772445600  # 2026-03-02 13:00:00 Moscow time


@pytest.fixture
def trace() -> Trace:
    call = SimCall(
        "inbound", T, "+79991234567", "74953330001", end=T + 84, ivr_greeting_s=6,
        ivr_digit="2", queue="support", route_exten="601", route_kind="queue",
        queue_enter=T + 3, hangup_side="caller", end_stage="agent",
    )  # fmt: skip
    call.legs = [
        SimLeg("201", "agent", T + 3, T + 18, round_no=1),
        SimLeg("202", "agent", T + 20, T + 84, answer=T + 24, result="answered",
               hangup_by="caller", round_no=2),
    ]  # fmt: skip
    assign_ids([call])
    agents = [
        AgentInfo("201", "Alexei Ivanov", "support", "diligent"),
        AgentInfo("202", "Maria Kuznetsova", "support", "diligent"),
    ]
    return Trace("spec", "Europe/Moscow", "RU", 0, agents, [call], [], {})


def test_queue_log(trace: Trace, tmp_path: Path) -> None:
    assert write_queue_log(trace, tmp_path).read_text().splitlines() == [
        "1772445540|NONE|NONE|NONE|QUEUESTART|",
        "1772445603|1772445600.1|support|NONE|ENTERQUEUE||+79991234567|1",
        "1772445618|1772445600.1|support|Alexei Ivanov|RINGNOANSWER|15000",
        "1772445624|1772445600.1|support|Maria Kuznetsova|CONNECT|21|1772445620.4|4",
        "1772445684|1772445600.1|support|Maria Kuznetsova|COMPLETECALLER|21|60|1",
    ]


def test_master_csv(trace: Trace, tmp_path: Path) -> None:
    # The first row of the channel starts with the channel; the IVR answered it, so every
    # row is "answered" at its start and billsec counts ringing and queueing.
    assert write_cdr(trace, tmp_path).read_text().splitlines() == [
        '"","+79991234567","601","queues",""""" <+79991234567>","Local/74953330001@from-trunk-00000000;2","Local/201@agents-00000001;1","Queue","support","2026-03-02 13:00:00","2026-03-02 13:00:00","2026-03-02 13:00:18",18,18,"NO ANSWER","DOCUMENTATION","1772445600.1","74953330001","","1772445600.0",1',
        '"","+79991234567","601","queues",""""" <+79991234567>","Local/74953330001@from-trunk-00000000;2","Local/202@agents-00000002;1","Queue","support","2026-03-02 13:00:20","2026-03-02 13:00:20","2026-03-02 13:01:24",64,64,"ANSWERED","DOCUMENTATION","1772445600.1","74953330001","","1772445600.0",2',
    ]


def test_cel(trace: Trace, tmp_path: Path) -> None:
    lines = write_cel(trace, tmp_path, {}).read_text().splitlines()
    rows = list(csv.reader(lines))
    assert {len(r) for r in rows} == {16}  # no header, every field quoted
    assert all(line.startswith('"') and line.endswith('"') for line in lines)
    events = [(r[0], r[6], r[7]) for r in rows]
    caller, trunk = (
        "Local/74953330001@from-trunk-00000000;1", "Local/74953330001@from-trunk-00000000;2"
    )  # fmt: skip
    maria = "Local/202@agents-00000002;1"
    assert events[:4] == [
        ("CHAN_START", caller, ""), ("CHAN_START", trunk, ""),
        ("ANSWER", trunk, "Answer"), ("ANSWER", caller, "AppDial2"),
    ]  # fmt: skip
    assert ("APP_START", trunk, "Queue") in events
    assert ("HANGUP", "Local/201@agents-00000001;1", "AppQueue") in events
    bridge = [e for e in events if e[0].startswith("BRIDGE")]
    assert bridge == [
        ("BRIDGE_ENTER", maria, "AppQueue"), ("BRIDGE_ENTER", trunk, "Queue"),
        ("BRIDGE_EXIT", maria, "AppQueue"), ("BRIDGE_EXIT", trunk, "Queue"),
    ]  # fmt: skip
    # the customer hangs up first: their handset's HANGUP comes before the bridge tears down
    first_hangup = next(line for line in lines if line.startswith('"HANGUP","1772445684'))
    assert caller in first_hangup and "dialplan/builtin" in first_hangup
    assert events[-1] == ("LINKEDID_END", trunk, "")
    assert rows[0][1] == "1772445600.000100"  # epoch with microseconds
    trunk_hangup = next(r for r in rows if r[0] == "HANGUP" and r[6] == trunk)
    assert trunk_hangup[15] == '{"hangupcause":16,"hangupsource":"","dialstatus":"ANSWER"}'
