"""Metric definitions of design.md 4, one PBX history per edge: the raw Master.csv lines the
PBX wrote, then the figures every report must give for them (2026-01-12 is a Monday; the
tenant is in Moscow, UTC+3)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from callscope.metrics import REPORTS, MetricFilter, call_colours
from callscope.settings import Settings
from callscope.store import Store
from callscope.testing import import_text

RING_ALL_ANSWERED_BY_SECOND = '''
"","+79262345678","600","queues",""""" <+79262345678>","PJSIP/trunk-00000002","PJSIP/101-00000003","Queue","sales","2026-11-22 20:55:23","2026-11-22 20:55:23","2026-11-22 20:55:31",8,8,"NO ANSWER","DOCUMENTATION","1795370123.5","","","1795370123.4",5
"","+79262345678","600","queues",""""" <+79262345678>","PJSIP/trunk-00000002","PJSIP/102-00000004","Queue","sales","2026-11-22 20:55:25","2026-11-22 20:55:31","2026-11-22 20:56:06",41,35,"ANSWERED","DOCUMENTATION","1795370123.5","","","1795370123.4",10
"","+79262345678","600","queues",""""" <+79262345678>","PJSIP/trunk-00000002","PJSIP/103-00000005","Queue","sales","2026-11-22 20:55:25","2026-11-22 20:55:25","2026-11-22 20:55:31",6,6,"NO ANSWER","DOCUMENTATION","1795370123.5","","","1795370123.4",13
'''
TALK_5_AND_6 = """
"","+79161110001","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-02","Dial","PJSIP/101,20","2026-01-12 10:00:00","2026-01-12 10:00:04","2026-01-12 10:00:09",9,5,"ANSWERED","DOCUMENTATION","1.1","","","1.1",1
"","+79161110002","101","from-pstn","","PJSIP/trunk-03","PJSIP/101-04","Dial","PJSIP/101,20","2026-01-12 11:00:00","2026-01-12 11:00:04","2026-01-12 11:00:10",10,6,"ANSWERED","DOCUMENTATION","2.1","","","2.1",2
"""
THREE_MISSED_THEN_CALLBACK = """
"","89161110003","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-01","Dial","PJSIP/101,30","2026-01-12 10:00:00","","2026-01-12 10:00:20",20,0,"NO ANSWER","DOCUMENTATION","21.1","","","21.1",1
"","89161110003","102","from-pstn","","PJSIP/trunk-02","PJSIP/102-02","Dial","PJSIP/102,30","2026-01-12 10:05:00","","2026-01-12 10:05:20",20,0,"NO ANSWER","DOCUMENTATION","22.1","","","22.1",2
"","89161110003","101","from-pstn","","PJSIP/trunk-03","PJSIP/101-03","Dial","PJSIP/101,30","2026-01-12 10:10:00","","2026-01-12 10:10:20",20,0,"NO ANSWER","DOCUMENTATION","23.1","","","23.1",3
"","101","89161110003","from-internal","","PJSIP/101-04","PJSIP/trunk-04","Dial","PJSIP/89161110003@trunk,30","2026-01-12 10:15:00","2026-01-12 10:15:10","2026-01-12 10:16:10",70,60,"ANSWERED","DOCUMENTATION","24.1","","","24.1",4
"""
MISSED_THEN_CUSTOMER_CALLS_AGAIN = """
"","89161110004","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-01","Dial","PJSIP/101,30","2026-01-12 10:00:00","","2026-01-12 10:00:25",25,0,"NO ANSWER","DOCUMENTATION","31.1","","","31.1",1
"","89161110004","102","from-pstn","","PJSIP/trunk-02","PJSIP/102-02","Dial","PJSIP/102,30","2026-01-12 11:00:00","2026-01-12 11:00:05","2026-01-12 11:03:05",185,180,"ANSWERED","DOCUMENTATION","32.1","","","32.1",2
"""
CALLBACK_NOT_CONNECTED = """
"","89161110005","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-01","Dial","PJSIP/101,30","2026-01-12 10:00:00","","2026-01-12 10:00:30",30,0,"NO ANSWER","DOCUMENTATION","41.1","","","41.1",1
"","101","89161110005","from-internal","","PJSIP/101-02","PJSIP/trunk-02","Dial","PJSIP/89161110005@trunk,30","2026-01-12 10:03:00","","2026-01-12 10:03:30",30,0,"NO ANSWER","DOCUMENTATION","42.1","","","42.1",2
"""
INTERNAL_UNANSWERED = """
"","103","102","from-pstn","","PJSIP/trunk-01","PJSIP/102-01","Dial","PJSIP/102,30","2026-01-12 10:00:00","","2026-01-12 10:00:20",20,0,"NO ANSWER","DOCUMENTATION","51.1","","","51.1",1
"""
# Missed at 12:55 and called back at 14:04 (lunch 13-14 between); missed at 17:55 and called
# back at 09:04 next morning; missed at 20:00 (after hours) and called back at 09:05; missed
# at 11:00 and called back at 11:30 (plain working time).
SLA_ACROSS_LUNCH_AND_NIGHT = """
"","89161110006","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-01","Dial","PJSIP/101,30","2026-01-12 12:55:00","","2026-01-12 12:55:20",20,0,"NO ANSWER","DOCUMENTATION","61.1","","","61.1",1
"","101","89161110006","from-internal","","PJSIP/101-02","PJSIP/trunk-02","Dial","PJSIP/89161110006@trunk,30","2026-01-12 14:04:00","2026-01-12 14:04:05","2026-01-12 14:06:05",125,120,"ANSWERED","DOCUMENTATION","62.1","","","62.1",2
"","89161110007","101","from-pstn","","PJSIP/trunk-03","PJSIP/101-03","Dial","PJSIP/101,30","2026-01-12 17:55:00","","2026-01-12 17:55:20",20,0,"NO ANSWER","DOCUMENTATION","63.1","","","63.1",3
"","101","89161110007","from-internal","","PJSIP/101-04","PJSIP/trunk-04","Dial","PJSIP/89161110007@trunk,30","2026-01-13 09:04:00","2026-01-13 09:04:05","2026-01-13 09:06:05",125,120,"ANSWERED","DOCUMENTATION","64.1","","","64.1",4
"","89161110008","101","from-pstn","","PJSIP/trunk-05","PJSIP/101-05","Dial","PJSIP/101,30","2026-01-12 20:00:00","","2026-01-12 20:00:20",20,0,"NO ANSWER","DOCUMENTATION","65.1","","","65.1",5
"","101","89161110008","from-internal","","PJSIP/101-06","PJSIP/trunk-06","Dial","PJSIP/89161110008@trunk,30","2026-01-13 09:05:00","2026-01-13 09:05:05","2026-01-13 09:06:05",65,60,"ANSWERED","DOCUMENTATION","66.1","","","66.1",6
"","89161110009","101","from-pstn","","PJSIP/trunk-07","PJSIP/101-07","Dial","PJSIP/101,30","2026-01-12 11:00:00","","2026-01-12 11:00:20",20,0,"NO ANSWER","DOCUMENTATION","67.1","","","67.1",7
"","101","89161110009","from-internal","","PJSIP/101-08","PJSIP/trunk-08","Dial","PJSIP/89161110009@trunk,30","2026-01-12 11:30:00","2026-01-12 11:30:05","2026-01-12 11:31:05",65,60,"ANSWERED","DOCUMENTATION","68.1","","","68.1",8
"""
OFFICE_HOURS = {"hours": {"mon-fri": "09:00-18:00"}, "lunch": "13:00-14:00"}
# every edge above in one history (the engine and compiled-SQL tests run it whole)
EVERY_EDGE = "\n".join(
    text.strip("\n")
    for text in (
        RING_ALL_ANSWERED_BY_SECOND,
        TALK_5_AND_6,
        THREE_MISSED_THEN_CALLBACK,
        MISSED_THEN_CUSTOMER_CALLS_AGAIN,
        CALLBACK_NOT_CONNECTED,
        INTERNAL_UNANSWERED,
        SLA_ACROSS_LUNCH_AND_NIGHT,
    )
)


def run(store: Store, name: str, settings: Settings, **options: Any) -> dict[str, Any]:
    return REPORTS[name](store, MetricFilter(), settings, **options).as_json()


def by(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in rows}


def test_ring_all_answered_by_the_second_agent_is_no_miss_for_the_others(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    import_text(store, tmp_path, RING_ALL_ANSWERED_BY_SECOND, settings=settings)
    agents = by(run(store, "agents", settings)["rows"], "agent")
    got = {a: (r["offered"], r["answered"], r["rang_no_answer"], r["miss_rate"])
           for a, r in agents.items() if r["kind"] == "agent"}  # fmt: skip
    assert got == {"101": (1, 0, 0, 0.0), "102": (1, 1, 0, 0.0), "103": (1, 0, 0, 0.0)}
    assert agents["102"]["pickup_s_mean"] == 6  # rang 20:55:25, picked up 20:55:31
    assert agents["102"]["talk_s_total"] == 35
    assert [a["lost_calls"] for a in agents.values() if a["kind"] == "agent"] == [0, 0, 0]
    service = run(store, "service", settings, by="hour")
    assert service["totals"]["offered"] == 1 and service["totals"]["answered"] == 1
    assert service["totals"]["asa_s"] == 8  # from the call's start 20:55:23
    assert service["rows"][0]["hour"] == 20  # Moscow time, not UTC
    assert run(store, "missed", settings)["rows"] == []


def test_talk_of_five_seconds_is_missed_and_a_quick_hangup_six_is_answered(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    import_text(store, tmp_path, TALK_5_AND_6, settings=settings)
    totals = run(store, "service", settings)["totals"]
    assert (totals["offered"], totals["answered"], totals["missed"]) == (2, 1, 1)
    [agent, team] = run(store, "agents", settings)["rows"]
    assert (agent["offered"], agent["answered"], agent["quick_hangups"], agent["lost_calls"]) == (
        2, 1, 1, 1,
    )  # fmt: skip
    assert agent["rang_no_answer"] == 0  # it was picked up: dropped, not let ring
    assert (team["kind"], team["team"], team["agents"]) == ("team_average", None, 1)
    [contact] = run(store, "missed", settings)["rows"]
    assert (contact["external_number"], contact["status"], contact["colour"]) == (
        "+79161110001", "open", "red",
    )  # fmt: skip
    five = settings.model_copy(update={"min_talk_s": 5})
    totals = run(store, "service", five)["totals"]
    assert (totals["answered"], totals["missed"]) == (2, 0)
    assert run(store, "service", five)["settings"]["min_talk_s"] == 5


def test_three_missed_calls_then_a_callback_are_one_contact_called_back(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    import_text(store, tmp_path, THREE_MISSED_THEN_CALLBACK, settings=settings)
    [contact] = run(store, "missed", settings)["rows"]
    assert contact["attempts"] == 3
    assert contact["first_missed_at"] == "2026-01-12T10:00:00+03:00"
    assert contact["last_missed_at"] == "2026-01-12T10:10:00+03:00"
    assert contact["agents_rung"] == ["101", "102"]
    assert contact["agent"] == "101"  # the last agent rung
    assert (contact["status"], contact["resolved_by_agent"]) == ("called_back", "101")
    assert contact["resolved_at"] == "2026-01-12T10:15:10+03:00"  # the customer picked up
    assert contact["time_to_resolution_s"] == 910
    assert (contact["within_sla"], contact["colour"]) == (False, "yellow")  # 15 min > 10 min
    slack = settings.model_copy(update={"metrics": settings.metrics.model_copy(
        update={"callback_sla_min": 16})})  # fmt: skip
    [contact] = run(store, "missed", slack)["rows"]
    assert (contact["within_sla"], contact["colour"]) == (True, "green")
    agents = by(run(store, "agents", settings)["rows"], "agent")
    assert (agents["101"]["missed_contacts"], agents["101"]["called_back"]) == (1, 1)
    assert (agents["101"]["lost_calls"], agents["102"]["lost_calls"]) == (2, 1)
    assert (agents["101"]["rang_no_answer"], agents["101"]["outbound_calls"]) == (2, 1)
    callbacks = run(store, "callbacks", settings)
    assert by(callbacks["rows"], "status")["called_back"]["share"] == 1.0
    assert by(callbacks["time_to_resolution"], "bucket")["15-30 min"]["called_back"] == 1


def test_missed_then_the_customer_calls_again_and_is_answered(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    import_text(store, tmp_path, MISSED_THEN_CUSTOMER_CALLS_AGAIN, settings=settings)
    [contact] = run(store, "missed", settings)["rows"]
    assert (contact["status"], contact["resolved_by_agent"]) == ("recalled_by_customer", "102")
    assert contact["time_to_resolution_s"] == 3600
    assert (contact["within_sla"], contact["colour"]) == (False, "yellow")
    agents = by(run(store, "agents", settings)["rows"], "agent")
    assert (agents["101"]["never_called_back"], agents["101"]["called_back"]) == (0, 0)
    colours = {r["call_id"]: r for r in call_colours(store, MetricFilter(), settings)
               .to_pyarrow().to_pylist()}  # fmt: skip
    assert colours["31.1"]["colour"] == "yellow"
    assert colours["31.1"]["contact_status"] == "recalled_by_customer"
    assert (colours["32.1"]["colour"], colours["32.1"]["contact_status"]) == ("green", None)
    service = run(store, "service", settings)["totals"]
    assert service["first_attempt_answer_rate"] == 0.0  # the customer's first call that day


def test_a_callback_attempt_that_did_not_connect_leaves_the_contact_attempted(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    import_text(store, tmp_path, CALLBACK_NOT_CONNECTED, settings=settings)
    [contact] = run(store, "missed", settings)["rows"]
    assert (contact["status"], contact["colour"]) == ("attempted", "yellow")
    assert contact["attempted_at"] == "2026-01-12T10:03:00+03:00"
    assert contact["resolved_at"] is None and contact["time_to_resolution_s"] is None
    agents = by(run(store, "agents", settings)["rows"], "agent")
    assert agents["101"]["never_called_back"] == 1
    summary = run(store, "summary", settings)["rows"][0]
    assert (summary["open_contacts"], summary["attempted_contacts"]) == (0, 1)


def test_a_number_filter_gives_one_customers_missed_contacts(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    import_text(
        store, tmp_path, THREE_MISSED_THEN_CALLBACK + CALLBACK_NOT_CONNECTED, settings=settings
    )
    flt = MetricFilter(numbers=("8 916 111-00-05",))
    rows = REPORTS["missed"](store, flt, settings).rows
    assert [(r["external_number"], r["status"]) for r in rows] == [("+79161110005", "attempted")]


def test_internal_calls_are_never_customers(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    import_text(store, tmp_path, INTERNAL_UNANSWERED, settings=settings)
    assert run(store, "service", settings)["totals"]["offered"] == 0
    assert run(store, "missed", settings)["rows"] == []
    assert [r for r in run(store, "agents", settings)["rows"] if r["kind"] == "agent"] == []
    summary = run(store, "summary", settings)["rows"][0]
    assert (summary["calls"], summary["internal"], summary["missed"]) == (1, 1, 0)


def test_sla_clock_stops_over_lunch_and_overnight_and_after_hours_calls(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    office = settings.model_copy(update={"schedule": type(settings.schedule)(**OFFICE_HOURS)})
    import_text(store, tmp_path, SLA_ACROSS_LUNCH_AND_NIGHT, settings=office)
    contacts = by(run(store, "missed", office)["rows"], "external_number")
    got = {n[-1]: (c["time_to_resolution_s"], c["work_s"], c["within_sla"], c["colour"])
           for n, c in contacts.items()}  # fmt: skip
    assert got == {  # callbacks are picked up 5 s after they are dialled
        "6": (69 * 60 + 5, 9 * 60 + 5, True, "green"),  # 12:55-13:00 and 14:00-14:04:05
        "7": (15 * 3600 + 545, 545, True, "green"),  # 17:55-18:00 and 09:00-09:04:05
        "8": (13 * 3600 + 305, 305, True, "green"),  # the clock starts at 09:00
        "9": (30 * 60 + 5, 30 * 60 + 5, False, "yellow"),
    }
    wall = run(store, "missed", settings)["rows"]  # no schedule: around the clock
    assert sorted(c["within_sla"] for c in wall) == [False] * 4
    endpoints = by(run(store, "endpoints", office)["rows"], "endpoint")
    assert (endpoints["after_hours"]["calls"], endpoints["agent"]["calls"]) == (1, 3)
    outcomes = run(store, "service", office)["totals"]
    assert outcomes["outcome_after_hours"] == 1
    assert run(store, "service", settings)["totals"]["outcome_after_hours"] == 0


# Missed on Monday 12 January at 10:00, missed again on Monday 19 January at 09:01 (one contact:
# within the 7-day horizon, nothing answered in between), called back at 09:05.
CONTACT_BEGUN_A_WEEK_BEFORE = """
"","89161110010","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-01","Dial","PJSIP/101,30","2026-01-12 10:00:00","","2026-01-12 10:00:20",20,0,"NO ANSWER","DOCUMENTATION","81.1","","","81.1",1
"","89161110010","101","from-pstn","","PJSIP/trunk-02","PJSIP/101-02","Dial","PJSIP/101,30","2026-01-19 09:01:00","","2026-01-19 09:01:20",20,0,"NO ANSWER","DOCUMENTATION","82.1","","","82.1",2
"","101","89161110010","from-internal","","PJSIP/101-03","PJSIP/trunk-03","Dial","PJSIP/89161110010@trunk,30","2026-01-19 09:05:00","2026-01-19 09:05:05","2026-01-19 09:06:05",65,60,"ANSWERED","DOCUMENTATION","83.1","","","83.1",3
"""


def test_a_day_shows_the_colour_of_a_contact_begun_days_before_it(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    """The SLA clock of a contact runs from its first missed call, even when the day asked for
    holds only its later calls: a week of working time is not the 4 minutes of that morning."""
    office = settings.model_copy(update={"schedule": type(settings.schedule)(**OFFICE_HOURS)})
    import_text(store, tmp_path, CONTACT_BEGUN_A_WEEK_BEFORE, settings=office)
    monday = MetricFilter(date_from=date(2026, 1, 19), date_to=date(2026, 1, 19))
    rows = call_colours(store, monday, office).to_pyarrow().to_pylist()
    colours = {r["call_id"]: (r["colour"], r["contact_status"]) for r in rows}
    assert colours == {"82.1": ("yellow", "called_back"), "83.1": ("green", None)}


def test_every_report_answers_on_an_empty_store(store: Store, settings: Settings) -> None:
    for name in REPORTS:
        doc = run(store, name, settings)
        assert doc["report"] == name and doc["settings"]["min_talk_s"] == 6
        assert set(doc) >= {"period", "settings", "formulas", "rows"}


@pytest.mark.parametrize("grouping", ["hour", "day", "weekday", "week", "month", "team",
                                      "queue", "line", "agent"])  # fmt: skip
def test_service_groups_partition_the_offered_calls(
    store: Store, tmp_path: Path, settings: Settings, grouping: str
) -> None:
    import_text(
        store, tmp_path, THREE_MISSED_THEN_CALLBACK + MISSED_THEN_CUSTOMER_CALLS_AGAIN,
        settings=settings,
    )  # fmt: skip
    doc = run(store, "service", settings, by=grouping)
    assert sum(r["offered"] for r in doc["rows"]) == doc["totals"]["offered"] == 5
    assert doc["settings"]["by"] == grouping
