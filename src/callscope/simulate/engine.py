"""The event engine: a company's telephony over N days as one SimPy run.

Arrivals per line follow the profile's hourly and weekly shape (Poisson counts per hour, uniform
inside it), holidays and closed hours send callers to the after-hours message. After a missed
call the customer may call again by themselves, and a manager may call back with a delay; both
stop once the customer has been reached. Everything draws from one seeded generator in a fixed
order, so a seed gives the same history, byte for byte.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import simpy

from callscope.simulate.agents import Agent, Steps, agent_process, local_epoch
from callscope.simulate.calls import inbound
from callscope.simulate.profile import LineSpec, Profile
from callscope.simulate.routing import RoutingState
from callscope.simulate.sampling import LogNormal, whole
from callscope.simulate.trace import AgentInfo, SimCall, Trace

MIN_TALK_S = 6  # design.md 4: the default the ground truth is written for
OUTBOUND_RING_TIMEOUT_S = 30


class World:
    def __init__(self, profile: Profile, start: date, days: int, seed: int) -> None:
        self.profile = profile
        self.zone = ZoneInfo(profile.timezone)
        self.rng = np.random.default_rng(seed)
        self.start, self.days = start, days
        self.env = simpy.Environment(initial_time=local_epoch(start, "00:00", self.zone))
        self.horizon = local_epoch(start + timedelta(days=days), "00:00", self.zone)
        self.lines: dict[str, LineSpec] = {line.did: line for line in profile.lines}
        self.agents = {a.ext: Agent(a, profile.persona(a.persona)) for a in profile.agents}
        self.routing = RoutingState()
        self.settings_min_talk = MIN_TALK_S
        self.calls: list[SimCall] = []
        self.seen: list[str] = []  # customers in order of first call
        self.known: set[str] = set()
        self.reached_at: dict[str, int] = {}  # last successful contact per number
        self._open_cache: dict[date, tuple[int, int] | None] = {}

    # -- calendar -----------------------------------------------------------------------------
    def local_day(self, at: int) -> date:
        return datetime.fromtimestamp(at, self.zone).date()

    def opening(self, day: date) -> tuple[int, int] | None:
        if day not in self._open_cache:
            hours = self.profile.hours
            if day.weekday() not in hours.days or day.isoformat() in hours.holidays:
                self._open_cache[day] = None
            else:
                self._open_cache[day] = (
                    local_epoch(day, hours.open, self.zone),
                    local_epoch(day, hours.close, self.zone),
                )
        return self._open_cache[day]

    def closed(self, at: int) -> bool:
        window = self.opening(self.local_day(at))
        return window is None or not window[0] <= at < window[1]

    def next_open(self, at: int) -> int:
        for offset in range(15):
            window = self.opening(self.local_day(at) + timedelta(days=offset))
            if window and at < window[1]:
                return max(at, window[0])
        return at

    # -- customers ----------------------------------------------------------------------------
    def new_number(self) -> str:
        prefix = self.profile.number_prefix
        digits = self.profile.number_digits - len(prefix.lstrip("+"))
        while True:
            number = prefix + "".join(str(d) for d in self.rng.integers(0, 10, digits))
            if number not in self.known:
                self.known.add(number)
                return number

    def pick_customer(self) -> tuple[str, bool]:
        if self.seen and self.rng.random() < self.profile.caller.returning_share:
            # the recent customers call again more often than old ones
            index = len(self.seen) - 1 - int(self.rng.geometric(0.02)) % len(self.seen)
            return self.seen[index], False
        number = self.new_number()
        self.seen.append(number)
        return number, True

    # -- processes ----------------------------------------------------------------------------
    def arrivals(self) -> list[tuple[int, str]]:
        traffic, out = self.profile.traffic, []
        weights = [line.weight for line in self.profile.lines]
        share = np.asarray(traffic.hourly) / sum(traffic.hourly)
        for offset in range(self.days):
            day = self.start + timedelta(days=offset)
            volume = traffic.calls_per_day
            if day.isoformat() in self.profile.hours.holidays:
                volume *= traffic.holiday_factor
            elif day.weekday() >= 5:
                volume *= traffic.weekend_factor
            for hour in range(24):
                base = local_epoch(day, f"{hour:02d}:00", self.zone)
                for _ in range(int(self.rng.poisson(volume * share[hour]))):
                    line = self.profile.lines[
                        int(self.rng.choice(len(weights), p=np.asarray(weights) / sum(weights)))
                    ]
                    out.append((base + int(self.rng.integers(0, 3600)), line.did))
        out.sort()
        return out

    def arrival_process(self) -> Steps:
        for at, did in self.arrivals():
            if at > self.env.now:
                yield self.env.timeout(at - self.env.now)
            number, new = self.pick_customer()
            self.spawn_inbound(number, did, new)

    def spawn_inbound(self, number: str, did: str, new: bool, purpose: str | None = None) -> None:
        call = SimCall("inbound", int(self.env.now), number, did, new_customer=new, purpose=purpose)
        self.calls.append(call)
        self.env.process(self.run_inbound(call))

    def run_inbound(self, call: SimCall) -> Steps:
        yield from inbound(self.env, self, call)
        leg = call.answered_leg(MIN_TALK_S)
        if leg is not None:
            self.reached_at[call.number] = call.end
            self.sell(call, leg.agent)
            return
        if self.rng.random() < self.profile.caller.redial_probability:
            delay = whole(
                LogNormal.from_median(self.profile.caller.redial_median_s, 1.0).draw(self.rng), 30
            )
            self.env.process(self.redial(call, delay))
        if self.rng.random() < self.profile.callbacks.probability:
            rung = [x.agent for x in call.legs if x.kind == "agent"]
            owner = rung[-1] if rung else None
            self.env.process(self.callback(call, owner, 1))

    def sell(self, call: SimCall, ext: str) -> None:
        caller = self.profile.caller
        p = self.agents[ext].spec.conversion
        if not call.new_customer:
            p *= caller.returning_conversion_factor
        if self.rng.random() < p:
            call.sale = True
            revenue = LogNormal.from_median(caller.revenue_median, caller.revenue_sigma)
            call.revenue = round(revenue.draw(self.rng), -1)

    def redial(self, missed: SimCall, delay: int) -> Steps:
        yield self.env.timeout(delay)
        if self.reached_at.get(missed.number, 0) >= missed.start or self.env.now >= self.horizon:
            return
        self.spawn_inbound(missed.number, missed.line or "", False, "redial")

    def callback(self, missed: SimCall, owner: str | None, attempt: int) -> Steps:
        spec = self.profile.callbacks
        delay = whole(LogNormal.from_median(spec.delay_median_s, spec.delay_sigma).draw(self.rng))
        at = self.next_open(int(self.env.now) + delay)
        if at > self.env.now:
            yield self.env.timeout(at - self.env.now)
        team = [a for a in self.agents.values() if a.on_shift]
        agent = self.agents[owner] if owner else (team[0] if team else None)
        for _ in range(120):  # wait for the manager to be free, at most two hours
            if self.reached_at.get(missed.number, 0) >= missed.start:
                return
            if self.env.now >= self.horizon:
                return
            if agent is not None and agent.available(int(self.env.now)):
                break
            yield self.env.timeout(60)
        else:
            return
        assert agent is not None
        connected = yield from self.outbound(agent, missed.number)
        if not connected and attempt < spec.max_attempts:
            self.env.process(self.callback(missed, owner, attempt + 1))

    def outbound(self, agent: Agent, number: str) -> Generator[simpy.events.Event, Any, bool]:
        """The agent dials the customer (8XXXXXXXXXX, as Russian phones are dialled)."""
        spec, now = self.profile.callbacks, int(self.env.now)
        dialled = "8" + number[2:] if number.startswith("+7") else number
        call = SimCall(
            "outbound",
            now,
            number,
            None,
            agent=agent.ext,
            dialled=dialled,
            purpose="callback",
            end_stage="external",
        )
        self.calls.append(call)
        roll = self.rng.random()
        agent.ringing = True  # the agent's own phone is busy while dialling
        agent.mark(now, "on_call")
        if roll < spec.connect_probability:
            ring = int(self.rng.integers(3, 15))
            seconds = whole(LogNormal.from_median(90, 0.7).draw(self.rng), 7)
            call.far_answer, call.far_result = now + ring, "answered"
            call.end = now + ring + seconds
            call.hangup_side = "caller" if self.rng.random() < 0.5 else "agent"
        elif roll < spec.connect_probability + spec.busy_probability:
            call.far_result, call.end, call.hangup_side = "busy", now, "system"
        else:
            call.far_result, call.end = "no_answer", now + OUTBOUND_RING_TIMEOUT_S
            call.hangup_side = "system"
        if call.end > now:
            yield self.env.timeout(call.end - now)
        agent.ringing = False
        if call.far_answer is not None:
            agent.take_call(call.far_answer, call.end)
            self.reached_at[number] = call.end
            return True
        agent.mark(call.end, "available")
        return False


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # profile days count from Monday = 0


def simulate(profile: Profile, start: date, days: int, seed: int) -> Trace:
    """Run the company for `days` local days from `start`; calls sorted by start, ids assigned."""
    world = World(profile, start, days, seed)
    day_list = [start + timedelta(days=i) for i in range(days)]
    for agent in world.agents.values():
        world.env.process(agent_process(world.env, agent, day_list, profile, world.zone, world.rng))
    world.env.process(world.arrival_process())
    world.env.run(until=world.horizon + 3 * 3600)  # calls in progress at midnight finish
    calls = sorted(
        (c for c in world.calls if c.start < world.horizon),
        key=lambda c: (c.start, c.direction, c.number),
    )
    assign_ids(calls)
    states = [s for a in world.agents.values() for s in a.intervals(world.horizon)]
    return Trace(
        profile=profile.name,
        timezone=profile.timezone,
        region=profile.region,
        seed=seed,
        agents=[
            AgentInfo(
                a.ext,
                a.name,
                a.team,
                a.persona,
                tuple(g.name for g in profile.groups if g.kind == "queue" and a.ext in g.members),
            )
            for a in profile.agents
        ],
        calls=calls,
        states=[s for s in states if s.start < world.horizon],
        lines={line.did: line.campaign for line in profile.lines},
        opening={
            WEEKDAYS[d]: f"{profile.hours.open}-{profile.hours.close}" for d in profile.hours.days
        },
        holidays=list(profile.hours.holidays),
    )


def channels_of(call: SimCall) -> int:
    """Channels Asterisk creates for the call (Local pairs): caller or dialler pair, plus a pair
    per agent leg, plus the far-end pair of an outbound call."""
    return (
        2
        + 2 * sum(1 for leg in call.legs if leg.kind == "agent")
        + (2 if call.direction == "outbound" else 0)
    )


def assign_ids(calls: list[SimCall]) -> None:
    """Asterisk-style ids: uniqueid = `<epoch>.<channel counter>`, linkedid = the first's."""
    channel, local = 0, 0
    for call in calls:
        call.channel_base, call.local_base = channel, local
        call.call_id = f"{call.start}.{channel}"
        channel += channels_of(call)
        local += channels_of(call) // 2
