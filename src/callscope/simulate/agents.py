"""Agents at run time: who is free, and the state timeline the ground truth reports.

An agent is never rung while busy (Asterisk `ringinuse = no`), a pause or the end of a shift waits
for the current call to finish, so every state change is known when it is decided and the
timeline is appended in time order without a process per state.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import simpy

from callscope.simulate.profile import AgentSpec, Persona, Profile
from callscope.simulate.sampling import LogNormal, whole
from callscope.simulate.trace import StateInterval

# A SimPy process: yields events, returns nothing.
Steps = Generator[simpy.events.Event, Any, None]


def local_epoch(day: date, hhmm: str, zone: ZoneInfo) -> int:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    moment = datetime.combine(day, time(hours % 24, minutes), zone)
    if hours >= 24:
        moment += timedelta(days=1)
    return int(moment.timestamp())


@dataclass
class Agent:
    spec: AgentSpec
    persona: Persona
    on_shift: bool = False
    ringing: bool = False
    busy_until: int = 0  # end of the current call plus wrap-up
    paused_until: int = 0
    last_call_end: int = 0
    calls_taken: int = 0
    changes: list[tuple[int, str, str | None]] = field(default_factory=list)

    @property
    def ext(self) -> str:
        return self.spec.ext

    def available(self, now: int) -> bool:
        return (
            self.on_shift
            and not self.ringing
            and now >= self.busy_until
            and now >= self.paused_until
        )

    def mark(self, at: int, state: str, reason: str | None = None) -> None:
        if self.changes and self.changes[-1][1:] == (state, reason):
            return
        if self.changes and self.changes[-1][0] == at:
            self.changes[-1] = (at, state, reason)
        else:
            self.changes.append((at, state, reason))

    def take_call(self, answer: int, end: int) -> None:
        """Book the agent from the answer to the end of wrap-up."""
        self.busy_until = end + self.persona.wrapup_s
        self.last_call_end = end
        self.calls_taken += 1
        self.mark(answer, "on_call")
        if self.persona.wrapup_s:
            self.mark(end, "paused", "wrapup")
        self.mark(self.busy_until, "available")

    def intervals(self, horizon: int) -> list[StateInterval]:
        out: list[StateInterval] = []
        for (start, state, reason), nxt in zip(
            self.changes, [*self.changes[1:], (horizon, "", None)], strict=True
        ):
            if nxt[0] > start:
                out.append(StateInterval(self.ext, state, reason, start, nxt[0]))
        return out


def day_plan(
    agent: Agent, day: date, profile: Profile, zone: ZoneInfo, rng: np.random.Generator
) -> tuple[int, int, list[tuple[int, int, str]]] | None:
    """Shift start, end and pauses (start, end, reason) of one agent on one local day."""
    spec, persona = agent.spec, agent.persona
    if day.weekday() not in spec.days or day.isoformat() in profile.hours.holidays:
        return None
    first, last = spec.shift.split("-")
    start, end = local_epoch(day, first, zone), local_epoch(day, last, zone)
    pauses: list[tuple[int, int, str]] = []
    if spec.lunch:
        at = local_epoch(day, spec.lunch, zone) + int(rng.integers(-900, 900))
        pauses.append((at, at + spec.lunch_s, "lunch"))
    pause_len = LogNormal.from_median(persona.pause_median_s, 0.6)
    for _ in range(int(rng.poisson(persona.pauses_per_day))):
        at = int(rng.integers(start, max(start + 1, end - 600)))
        pauses.append((at, at + whole(pause_len.draw(rng), 60), "dnd"))
    for hour in profile.traffic.peak_hours:
        if rng.random() < persona.peak_pause_probability:
            at = local_epoch(day, f"{hour:02d}:00", zone) + int(rng.integers(0, 2400))
            if start <= at < end:
                pauses.append((at, at + whole(pause_len.draw(rng), 60), "dnd"))
    pauses.sort()
    merged: list[tuple[int, int, str]] = []
    for p in pauses:
        if merged and p[0] <= merged[-1][1]:
            continue  # overlapping pauses: the first one wins
        merged.append(p)
    return start, end, merged


def agent_process(
    env: simpy.Environment,
    agent: Agent,
    days: list[date],
    profile: Profile,
    zone: ZoneInfo,
    rng: np.random.Generator,
) -> Steps:
    """Walk an agent through its shifts: on at start, pauses when free, off at the end."""
    agent.mark(int(env.now), "offline")
    for day in days:
        plan = day_plan(agent, day, profile, zone, rng)
        if plan is None:
            continue
        start, end, pauses = plan
        if start > env.now:
            yield env.timeout(start - env.now)
        agent.on_shift = True
        agent.mark(int(env.now), "available")
        for p_start, p_end, reason in pauses:
            if p_start > env.now:
                yield env.timeout(p_start - env.now)
            while not agent.available(int(env.now)):
                yield env.timeout(max(1, agent.busy_until - int(env.now)))
            if env.now >= min(p_end, end):
                continue
            agent.paused_until = p_end
            agent.mark(int(env.now), "paused", reason)
            yield env.timeout(p_end - env.now)
            agent.mark(int(env.now), "available")
        if end > env.now:
            yield env.timeout(end - env.now)
        while agent.ringing or agent.busy_until > env.now:
            yield env.timeout(max(1, agent.busy_until - int(env.now)))
        agent.on_shift = False
        agent.mark(int(env.now), "offline")
