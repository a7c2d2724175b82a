"""Each routing strategy and persona leaves its known signature in the simulated history."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest

from callscope.simulate import Profile, load_profile, simulate
from callscope.simulate.trace import Trace

START = date(2026, 3, 2)


def company(strategy: str, kind: str = "dial", **group: Any) -> Profile:
    """Four identical diligent agents on one line; only the routing differs."""
    agents = [
        {
            "ext": str(101 + i),
            "name": f"Agent {i}",
            "conversion": 0.1 + 0.05 * i,
            "shift": "09:00-18:00",
            "lunch": None,
        }
        for i in range(4)
    ]
    return Profile.model_validate(
        {
            "name": f"test-{strategy}",
            "traffic": {"calls_per_day": 120},
            "caller": {"returning_share": 0.5, "customers": 300},
            "callbacks": {"probability": 0.0},
            "lines": [{"did": "74950000001", "target": "g"}],
            "groups": [
                {
                    "name": "g",
                    "exten": "700",
                    "kind": kind,
                    "strategy": strategy,
                    "members": [a["ext"] for a in agents],
                    **group,
                }
            ],
            "agents": agents,
        }
    )


def answered_by(trace: Trace) -> Counter[str]:
    return Counter(
        leg.agent
        for c in trace.calls
        if c.direction == "inbound"
        for leg in c.legs
        if leg.result == "answered" and leg.talk_s >= 6
    )


def shares(trace: Trace) -> list[float]:
    counts = answered_by(trace)
    total = sum(counts.values())
    return [counts[str(101 + i)] / total for i in range(4)]


def test_sequential_hunt_loads_the_first_agent_most() -> None:
    s = shares(simulate(company("hunt"), START, 5, seed=3))
    assert s[0] == max(s) and s[0] > 0.5
    assert s[0] > s[1] > s[3]


def test_ring_all_spreads_answers() -> None:
    hunt = shares(simulate(company("hunt"), START, 5, seed=3))
    ringall = shares(simulate(company("ringall"), START, 5, seed=3))
    assert max(ringall) < 0.4 and min(ringall) > 0.15
    assert max(ringall) - min(ringall) < max(hunt) - min(hunt)


@pytest.mark.parametrize("strategy", ["rrmemory", "fewestcalls", "leastrecent", "random"])
def test_queue_strategies_that_share_work_spread_it(strategy: str) -> None:
    s = shares(simulate(company(strategy, kind="queue"), START, 5, seed=3))
    assert max(s) < 0.4 and min(s) > 0.12


def test_priority_queue_prefers_the_best_converting_agent() -> None:
    s = shares(simulate(company("priority", kind="queue"), START, 5, seed=3))
    assert s[3] == max(s)  # agent 104 converts best (0.25)


def same_manager_share(trace: Trace) -> float:
    """Of answered calls from customers answered before, the share reaching the same agent."""
    last: dict[str, str] = {}
    same = repeat = 0
    for call in trace.calls:
        if call.direction != "inbound":
            continue
        leg = call.answered_leg(6)
        if leg is None:
            continue
        if call.number in last:
            repeat += 1
            same += last[call.number] == leg.agent
        last[call.number] = leg.agent
    return same / repeat


def test_sticky_agent_raises_repeat_customers_reaching_the_same_manager() -> None:
    plain = same_manager_share(simulate(company("random", kind="queue"), START, 5, seed=3))
    sticky = same_manager_share(
        simulate(company("random", kind="queue", sticky=True), START, 5, seed=3)
    )
    assert plain < 0.4
    assert sticky > 0.8


def test_skip_to_voicemail_when_all_busy() -> None:
    profile = company("ringall", overflow="voicemail", skip_to_voicemail_when_all_busy=True)
    profile.traffic.calls_per_day = 600
    trace = simulate(profile, START, 1, seed=3)
    skipped = [c for c in trace.calls if c.voicemail_at is not None and not c.legs]
    assert skipped, "at this load some callers find everybody busy"
    assert all(c.voicemail_at == c.queue_enter for c in skipped)


def agent_figures(trace: Trace) -> tuple[dict[str, float], Counter[str]]:
    """Miss rate (rang-no-answer / offered, design.md 4) and quick hang-ups per agent."""
    offered: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    quick: Counter[str] = Counter()
    for call in trace.calls:
        for leg in call.legs:
            offered[leg.agent] += 1
            missed[leg.agent] += leg.result in ("no_answer", "caller_hung_up")
            quick[leg.agent] += leg.result == "answered" and leg.talk_s < 6
    return {a: missed[a] / offered[a] for a in offered}, quick


def test_the_avoider_has_the_worst_miss_rate_and_the_most_quick_hang_ups() -> None:
    rate, quick = agent_figures(simulate(load_profile("support-queue"), START, 5, seed=5))
    assert max(rate, key=rate.__getitem__) == "205"  # Sergei Mikhailov, the avoider
    assert max(quick, key=quick.__getitem__) == "205"
    assert quick["205"] > 2 * max(q for a, q in quick.items() if a != "205")


def test_in_a_ring_all_group_the_avoider_picks_up_only_to_drop() -> None:
    _, quick = agent_figures(simulate(load_profile("dental-clinic"), START, 10, seed=5))
    assert max(quick, key=quick.__getitem__) == "110"  # Oksana Pavlova, the avoider


def test_the_secretary_answers_and_hands_callers_to_colleagues() -> None:
    trace = simulate(load_profile("small-office"), START, 5, seed=3)
    answered = [c for c in trace.calls if c.direction == "inbound" and c.legs]
    first = Counter(c.legs[0].agent for c in answered)
    assert set(first) == {"101"}  # only the secretary's phone rings first
    moved = [c for c in answered if any(leg.via == "transfer" for leg in c.legs)]
    assert len(moved) > 0.5 * sum(1 for c in answered if c.legs[0].result == "answered")
    targets = Counter(leg.agent for c in moved for leg in c.legs if leg.via == "transfer")
    assert set(targets) <= {"102", "103", "104", "105"} and len(targets) >= 3
    for call in moved:
        secretary, colleague = call.legs
        assert secretary.end == colleague.ring_start  # the blind transfer is instant
        assert secretary.talk_s == 12 and secretary.hangup_by == "agent"
