"""The event engine: distributions, calendar, callbacks, agent states and the missed-contact
rules of the ground truth."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from callscope.errors import ConfigError
from callscope.simulate import SimCall, SimLeg, builtin_profiles, load_profile, simulate
from callscope.simulate.sampling import PATIENCE, fit_patience
from callscope.simulate.truth import call_record, missed_contacts

MOSCOW = ZoneInfo("Europe/Moscow")
START = date(2026, 3, 2)  # a Monday


def test_patience_is_fitted_to_the_cloud_pbx_study() -> None:
    """About 45% of callers who give up do so within 10 s, about 86% within 60 s."""
    assert PATIENCE.cdf(10) == pytest.approx(0.45)
    assert PATIENCE.cdf(60) == pytest.approx(0.86)
    sample = PATIENCE.draw_many(np.random.default_rng(1), 50_000)
    assert np.mean(sample <= 10) == pytest.approx(0.45, abs=0.01)
    assert np.mean(sample <= 60) == pytest.approx(0.86, abs=0.01)
    assert fit_patience(((10, 0.5), (60, 0.9))).median == pytest.approx(10)


def test_same_seed_same_history_other_seed_another() -> None:
    profile = load_profile("window-sales")
    first = simulate(profile, START, 2, seed=4)
    assert simulate(profile, START, 2, seed=4) == first
    assert simulate(profile, START, 2, seed=5).calls != first.calls


def test_dental_clinic_takes_120_to_180_calls_a_weekday_and_few_at_weekends() -> None:
    trace = simulate(load_profile("dental-clinic"), START, 7, seed=2)
    per_day = Counter(
        datetime.fromtimestamp(c.start, MOSCOW).date()
        for c in trace.calls
        if c.direction == "inbound" and not c.purpose
    )
    weekdays = [per_day[date(2026, 3, d)] for d in range(2, 7)]
    assert all(120 <= n <= 200 for n in weekdays), weekdays  # redials come on top
    assert per_day[date(2026, 3, 8)] < 0.5 * min(weekdays)  # Sunday (and a holiday)


def test_closed_hours_and_holidays_go_to_the_after_hours_message() -> None:
    trace = simulate(load_profile("dental-clinic"), START, 7, seed=2)
    for call in trace.calls:
        if call.direction != "inbound":
            continue
        local = datetime.fromtimestamp(call.start, MOSCOW)
        closed = (
            (not 8 <= local.hour < 21) or local.weekday() == 6 or local.date() == date(2026, 3, 8)
        )
        assert call.after_hours == closed, local
        if closed:
            assert (call.end_stage, call.disposition, call.legs) == (
                "after_hours",
                "after_hours",
                [],
            )


def test_ivr_leavers_invalid_keys_queue_abandons_and_sales_all_occur() -> None:
    trace = simulate(load_profile("support-queue"), START, 3, seed=2)
    seen = Counter((c.end_stage, c.disposition) for c in trace.calls)
    assert seen[("ivr", "abandoned")] > 0
    assert seen[("invalid_destination", "invalid_destination")] > 0
    assert seen[("queue", "abandoned")] > 0
    assert any(c.sale and c.revenue > 0 for c in trace.calls)
    digits = Counter(c.ivr_digit for c in trace.calls if c.queue)
    assert digits["2"] > 2 * digits["1"]  # 75% press 2 for support


def test_callbacks_come_later_by_an_agent_and_some_do_not_connect() -> None:
    trace = simulate(load_profile("window-sales"), START, 5, seed=2)
    out = [c for c in trace.calls if c.direction == "outbound"]
    assert {c.purpose for c in out} == {"callback"}
    assert Counter(c.far_result for c in out).keys() == {"answered", "no_answer", "busy"}
    missed_before: dict[str, int] = {}
    for c in trace.calls:
        if c.direction == "inbound" and c.answered_leg(6) is None:
            missed_before.setdefault(c.number, c.start)
    assert all(c.number in missed_before and c.start > missed_before[c.number] for c in out)
    assert all(c.dialled == "8" + c.number[2:] for c in out)


def test_agent_states_tile_each_agents_time() -> None:
    trace = simulate(load_profile("dental-clinic"), START, 2, seed=2)
    by_agent: dict[str, list[tuple[int, int, str]]] = {}
    for s in trace.states:
        by_agent.setdefault(s.agent, []).append((s.start, s.end, s.state))
    for agent, spans in by_agent.items():
        spans.sort()
        assert all(a[1] == b[0] for a, b in itertools.pairwise(spans)), agent
    reasons = Counter((s.state, s.reason) for s in trace.states)
    assert reasons[("paused", "lunch")] >= 9  # every receptionist on shift has lunch
    assert reasons[("on_call", None)] > 0 and reasons[("offline", None)] > 0


def test_profiles_are_built_in_and_errors_name_the_key(tmp_path: object) -> None:
    assert {"dental-clinic", "window-sales", "support-queue", "large-contact-centre"} <= set(
        builtin_profiles()
    )
    with pytest.raises(ConfigError, match="unknown profile 'nope'"):
        load_profile("nope")
    profile = load_profile("window-sales").model_dump()
    profile["groups"][0]["members"].append("999")
    from callscope.simulate import Profile

    with pytest.raises(ValueError, match=r"unknown members \['999'\]"):
        Profile.model_validate(profile)


def call(
    start: int,
    direction: str = "inbound",
    talk: int = 0,
    number: str = "+79990000001",
    agent: str = "101",
    connected: bool = True,
) -> SimCall:
    """A hand-made call: inbound answered when talk > 0, outbound connected or not."""
    c = SimCall(
        direction, start, number, "74950000001", end=start + 10 + talk, call_id=f"{start}.0"
    )
    if direction == "inbound" and talk:
        c.legs.append(
            SimLeg(agent, "agent", start, start + 10 + talk, answer=start + 10, result="answered")
        )
    if direction == "outbound":
        c.agent = agent
        c.far_answer = start + 5 if connected else None
        c.far_result = "answered" if connected else "no_answer"
    return c


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_missed_contact_rules_of_design_section_4() -> None:
    t0 = 1_772_440_000
    calls = [
        call(t0),
        call(t0 + 60),  # two misses in a row: one contact, 2 attempts
        call(t0 + 600, "outbound", connected=False),  # a failed callback: attempted
        call(t0 + 900, "outbound", talk=0, agent="102"),  # connected: called back
        call(t0 + 2000),  # a new miss after the contact: a new contact
        call(t0 + 3000, talk=40),  # the customer calls again and is answered
        call(t0 + 5000, number="+79990000002"),  # never resolved
        call(t0 + 6000, number="+79990000003"),
        call(t0 + 6000 + 8 * 86400, number="+79990000003", talk=30),  # beyond 7 days
    ]
    calls[3].end = calls[3].start + 5 + 30
    got = {(c["external_number"], c["first_missed_at"]): c for c in missed_contacts(calls)}
    first = got[("+79990000001", iso(t0))]
    assert (first["attempts"], first["status"], first["callback_attempts"]) == (2, "called_back", 1)
    assert (first["resolved_by_agent"], first["time_to_resolution_s"]) == ("102", 905)
    second = got[("+79990000001", iso(t0 + 2000))]
    assert (second["status"], second["resolved_at"]) == (
        "recalled_by_customer",
        iso(t0 + 3000 + 50),
    )
    assert got[("+79990000002", iso(t0 + 5000))]["status"] == "open"
    assert got[("+79990000003", iso(t0 + 6000))]["status"] == "open"
    assert len(got) == 4


def test_a_short_call_is_missed_and_picked_up_by_its_agent() -> None:
    short = call(1_772_440_000, talk=4)
    record = call_record(short)
    assert (record["outcome"], record["answered_by"], record["end_stage"]) == (
        "missed",
        "101",
        "agent",
    )
    assert (record["disposition"], record["wait_s"], record["talk_s"]) == ("abandoned", 10, 4)
