"""Routing strategies as plug-ins: which free members ring in the next round of a call.

A strategy only orders candidates; the engine decides how many ring at once (all of them for
ring-all, the first for every other strategy) and what a round means (a Dial() of a ring group,
one attempt of a queue). Register a new one with `@strategy("name")`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from callscope.simulate.agents import Agent
from callscope.simulate.profile import GroupSpec

Order = Callable[[GroupSpec, list[Agent], "RoutingState", np.random.Generator], list[Agent]]
STRATEGIES: dict[str, Order] = {}


class RoutingState:
    """What strategies remember between calls: round-robin positions, last agent per customer."""

    def __init__(self) -> None:
        self.rr_next: dict[str, int] = {}
        self.last_agent: dict[str, str] = {}  # customer number -> agent who last talked to them


def strategy(name: str) -> Callable[[Order], Order]:
    def register(fn: Order) -> Order:
        STRATEGIES[name] = fn
        return fn

    return register


@strategy("ringall")
@strategy("hunt")
@strategy("secretary")
def _member_order(
    group: GroupSpec, free: list[Agent], state: RoutingState, rng: np.random.Generator
) -> list[Agent]:
    """Fixed order of the member list (ring-all rings them all anyway)."""
    return free


@strategy("rrmemory")
def _round_robin(
    group: GroupSpec, free: list[Agent], state: RoutingState, rng: np.random.Generator
) -> list[Agent]:
    """Asterisk rrmemory: start after the member who was rung last."""
    start = state.rr_next.get(group.name, 0)
    position = {ext: i for i, ext in enumerate(group.members)}
    ordered = sorted(free, key=lambda a: (position[a.ext] - start) % len(group.members))
    if ordered:
        state.rr_next[group.name] = position[ordered[0].ext] + 1
    return ordered


@strategy("leastrecent")
def _least_recent(
    group: GroupSpec, free: list[Agent], state: RoutingState, rng: np.random.Generator
) -> list[Agent]:
    return sorted(free, key=lambda a: a.last_call_end)


@strategy("fewestcalls")
def _fewest_calls(
    group: GroupSpec, free: list[Agent], state: RoutingState, rng: np.random.Generator
) -> list[Agent]:
    return sorted(free, key=lambda a: a.calls_taken)


@strategy("random")
def _random(
    group: GroupSpec, free: list[Agent], state: RoutingState, rng: np.random.Generator
) -> list[Agent]:
    return [free[i] for i in rng.permutation(len(free))]


@strategy("priority")
def _priority(
    group: GroupSpec, free: list[Agent], state: RoutingState, rng: np.random.Generator
) -> list[Agent]:
    """Best converting manager first (a queue with member penalties by conversion)."""
    return sorted(free, key=lambda a: -a.spec.conversion)


def candidates(
    group: GroupSpec,
    agents: dict[str, Agent],
    number: str,
    state: RoutingState,
    now: int,
    rng: np.random.Generator,
    skip: set[str] | None = None,
) -> list[Agent]:
    """Who rings in the next round: free members in the strategy's order, the customer's own
    manager first when the group is sticky; one agent unless the strategy is ring-all."""
    free = [agents[m] for m in group.members if agents[m].available(now)]
    if skip:
        free = [a for a in free if a.ext not in skip]
    if not free:
        return []
    if group.sticky:
        own = state.last_agent.get(number)
        if own is not None and any(a.ext == own for a in free):
            return [agents[own]]
    if group.strategy == "ringall":
        return free
    if group.strategy == "secretary":
        return free[:1] if free[0].ext == group.members[0] else []
    return STRATEGIES[group.strategy](group, free, state, rng)[:1]
