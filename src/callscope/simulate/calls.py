"""One inbound call as a SimPy process: after-hours, IVR, then rounds of ringing until someone
answers, the caller gives up, or the group overflows to voicemail.

Each ringing round is decided when it starts: every rung agent's pickup delay is drawn (an
ignored ring never picks up), and the earliest of "an agent picks up", "the caller gives up" and
"the ring timeout" ends it. The rung agents are held as ringing meanwhile, so concurrent calls
see them as taken, exactly as Asterisk with `ringinuse = no`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from callscope.simulate.agents import Agent, Steps
from callscope.simulate.profile import GroupSpec
from callscope.simulate.routing import candidates
from callscope.simulate.sampling import PATIENCE, PATIENT_CAP_S, LogNormal, whole
from callscope.simulate.trace import SimCall, SimLeg

if TYPE_CHECKING:
    from callscope.simulate.engine import World

VOICEMAIL_GREETING_S = 2
AFTER_HOURS_MESSAGE_S = 4
INVALID_MESSAGE_S = 2
TRANSFER_RING_TIMEOUT_S = 30


def pickup(agent: Agent, world: World) -> tuple[int | None, bool]:
    """Seconds until the agent picks up (None: lets it ring), and whether this is a quick drop:
    picked up at once only to hang up within seconds, the avoider's signature."""
    p = agent.persona
    roll = world.rng.random()
    if roll < p.quick_drop_probability:
        return int(world.rng.integers(1, 4)), True
    if roll < p.quick_drop_probability + p.ignore_probability:
        return None, False
    return whole(LogNormal.from_median(p.pickup_median_s, p.pickup_sigma).draw(world.rng)), False


def talk(agent: Agent, world: World, drop: bool) -> tuple[int, str]:
    """Talk seconds and who hangs up."""
    p = agent.persona
    if drop:
        return int(world.rng.integers(1, p.quick_drop_max_s + 1)), "agent"
    seconds = whole(LogNormal.from_median(p.talk_median_s, p.talk_sigma).draw(world.rng), 7)
    return seconds, ("caller" if world.rng.random() < 0.6 else "agent")


def inbound(env: simpy.Environment, world: World, call: SimCall) -> Steps:
    line = world.lines[call.line or ""]
    now = call.start
    if world.closed(now):
        call.after_hours = True
        call.end = now + AFTER_HOURS_MESSAGE_S
        call.end_stage, call.disposition, call.hangup_side = "after_hours", "after_hours", "system"
        return
    group_name = line.target
    if line.ivr is not None:
        ivr = line.ivr
        call.ivr_greeting_s = ivr.greeting_s
        roll = world.rng.random()
        if roll < ivr.leave_probability:
            call.ivr_left_at = now + int(world.rng.integers(1, ivr.greeting_s + 1))
            call.end = call.ivr_left_at
            call.end_stage, call.disposition, call.hangup_side = "ivr", "abandoned", "caller"
            return
        press = now + int(world.rng.integers(1, ivr.greeting_s))
        if roll < ivr.leave_probability + ivr.invalid_probability:
            call.ivr_digit = "9"
            call.invalid = True
            call.end = press + INVALID_MESSAGE_S
            call.end_stage, call.disposition = "invalid_destination", "invalid_destination"
            call.hangup_side = "system"
            return
        digits = list(ivr.options)
        weights = [ivr.weights.get(d, 1.0) for d in digits]
        total = sum(weights)
        call.ivr_digit = str(world.rng.choice(digits, p=[w / total for w in weights]))
        group_name = ivr.options[call.ivr_digit]
        now = press
    if now > env.now:
        yield env.timeout(now - env.now)
    assert group_name is not None
    yield from ring_group(env, world, call, world.profile.group(group_name))


def ring_group(env: simpy.Environment, world: World, call: SimCall, group: GroupSpec) -> Steps:
    now = int(env.now)
    call.queue, call.route_exten, call.route_kind = group.name, group.exten, group.kind
    call.ring_timeout = group.ring_timeout_s
    call.queue_enter = now
    gives_up = world.rng.random() < world.profile.caller.give_up_share
    patience = whole(PATIENCE.draw(world.rng)) if gives_up else PATIENT_CAP_S
    leave_at = now + patience
    members = [world.agents[m] for m in group.members]
    if group.skip_to_voicemail_when_all_busy and not any(a.available(now) for a in members):
        yield from voicemail(env, world, call)
        return
    tried: set[str] = set()
    round_no = 0
    while True:
        now = int(env.now)
        if (
            group.kind == "queue"
            and group.max_wait_s
            and now - call.queue_enter >= group.max_wait_s
        ):
            call.end = now
            call.end_stage, call.disposition, call.hangup_side = "queue", "timeout", "system"
            return
        if leave_at <= now:
            call.end = now
            stage = "queue" if group.kind == "queue" else "ring_group"
            call.end_stage, call.disposition, call.hangup_side = stage, "abandoned", "caller"
            return
        skip = tried if group.kind == "dial" else None
        rung = candidates(group, world.agents, call.number, world.routing, now, world.rng, skip)
        if group.kind == "dial" and (not rung or (round_no and group.strategy == "ringall")):
            break  # the Dial() list is exhausted: overflow
        if not rung:
            yield env.timeout(1)
            continue
        round_no += 1
        outcome = yield from ring_round(env, world, call, rung, round_no, leave_at, group)
        if outcome != "no_answer":
            return
        tried.update(a.ext for a in rung)
        if group.kind == "queue":  # a hunt's next Dial() follows at once
            gap = min(group.retry_s, max(0, leave_at - int(env.now)))
            if gap:
                yield env.timeout(gap)
    if group.overflow == "voicemail":
        yield from voicemail(env, world, call)
        return
    call.end = int(env.now)
    stage = "ring_group" if group.kind == "dial" else "queue"
    call.end_stage, call.disposition, call.hangup_side = stage, "timeout", "system"


def ring_round(
    env: simpy.Environment,
    world: World,
    call: SimCall,
    rung: list[Agent],
    round_no: int,
    leave_at: int,
    group: GroupSpec,
) -> Generator[simpy.events.Event, Any, str]:
    """Ring `rung` together; returns answered | caller_hung_up | no_answer."""
    now = int(env.now)
    via = "queue" if group.kind == "queue" else "dial"
    delays = {a.ext: pickup(a, world) for a in rung}
    picked = [(d, i, a) for i, a in enumerate(rung) if (d := delays[a.ext][0]) is not None]
    picked = [p for p in picked if p[0] < group.ring_timeout_s]
    first = min(picked, default=None, key=lambda p: (p[0], p[1]))
    answer_at = now + first[0] if first else None
    timeout_at = now + group.ring_timeout_s
    for a in rung:
        a.ringing = True
        a.mark(now, "ringing")
    if answer_at is not None and answer_at < leave_at:
        end_ring, outcome = answer_at, "answered"
    elif leave_at <= timeout_at:
        end_ring, outcome = leave_at, "caller_hung_up"
    else:
        end_ring, outcome = timeout_at, "no_answer"
    yield env.timeout(end_ring - now)
    for a in rung:
        a.ringing = False
        a.mark(end_ring, "available")
        leg = SimLeg(a.ext, "agent", now, end_ring, round_no=round_no, via=via)
        call.legs.append(leg)
        if outcome == "answered":
            leg.result = "cancelled_answered_elsewhere"
        elif outcome == "caller_hung_up":
            leg.result = "caller_hung_up"
    if outcome == "caller_hung_up":
        call.end = end_ring
        stage = "queue" if group.kind == "queue" else "ring_group"
        call.end_stage, call.disposition, call.hangup_side = stage, "abandoned", "caller"
        return outcome
    if outcome == "no_answer":
        return outcome
    assert first is not None
    agent = first[2]
    leg = next(x for x in call.legs if x.round_no == round_no and x.agent == agent.ext)
    seconds, side = talk(agent, world, delays[agent.ext][1])
    if group.strategy == "secretary" and seconds >= 7:
        seconds = group.secretary_talk_s
    leg.answer, leg.end, leg.result, leg.hangup_by = answer_at, end_ring + seconds, "answered", side
    agent.take_call(end_ring, leg.end)
    call.end, call.end_stage, call.hangup_side = leg.end, "agent", side
    yield env.timeout(seconds)
    if group.strategy == "secretary" and seconds == group.secretary_talk_s:
        yield from transfer(env, world, call, group, leg)
    counted = call.answered_leg(world.settings_min_talk)
    if counted is not None:
        world.routing.last_agent[call.number] = counted.agent  # what sticky routing remembers
    return outcome


def transfer(
    env: simpy.Environment, world: World, call: SimCall, group: GroupSpec, first: SimLeg
) -> Steps:
    """The secretary blind-transfers to a free colleague (Dial, 30 s)."""
    now = int(env.now)
    free = [world.agents[m] for m in group.members[1:] if world.agents[m].available(now)]
    if not free:
        return
    target = free[int(world.rng.integers(0, len(free)))]
    first.hangup_by = "agent"
    delay, drop = pickup(target, world)
    target.ringing = True
    target.mark(now, "ringing")
    ring = delay if delay is not None and delay < TRANSFER_RING_TIMEOUT_S else None
    end_ring = now + (ring if ring is not None else TRANSFER_RING_TIMEOUT_S)
    yield env.timeout(end_ring - now)
    target.ringing = False
    target.mark(end_ring, "available")
    leg = SimLeg(target.ext, "agent", now, end_ring, round_no=first.round_no + 1, via="transfer")
    call.legs.append(leg)
    call.end = end_ring
    if ring is None:
        call.hangup_side = "system"
        return
    seconds, side = talk(target, world, drop)
    leg.answer, leg.end, leg.result, leg.hangup_by = end_ring, end_ring + seconds, "answered", side
    target.take_call(end_ring, leg.end)
    call.end, call.hangup_side = leg.end, side
    yield env.timeout(seconds)


def voicemail(env: simpy.Environment, world: World, call: SimCall) -> Steps:
    now = int(env.now)
    call.voicemail_at = now
    message = VOICEMAIL_GREETING_S + int(world.rng.integers(3, 40))
    call.end = now + message
    call.end_stage, call.disposition, call.hangup_side = "voicemail", "voicemail", "caller"
    yield env.timeout(message)
