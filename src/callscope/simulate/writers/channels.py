"""Channel names and uniqueids of a simulated call, the way the asterisk-real PBX makes them.

The simulated PBX is the one of pbx-samples/asterisk-real (its dialplan and queues.conf): every
party is a Local channel pair, `;1` the dialled side and `;2` the half running the dialplan.
Uniqueids are `<epoch of the channel's start>.<channel counter>`; the call's linkedid is the
uniqueid of its first channel. CEL, CDR and queue_log writers share these so the three files of
one run describe the same channels.
"""

from __future__ import annotations

from dataclasses import dataclass

from callscope.simulate.trace import SimCall, SimLeg


@dataclass(frozen=True)
class Chan:
    name: str
    uid: str


@dataclass(frozen=True)
class CallChannels:
    first: Chan  # ;1 of the caller (customer handset) or of the agent's outbound phone
    second: Chan  # ;2: what the PBX dialplan runs for the call
    legs: list[tuple[Chan, Chan]]  # per agent leg, in call.legs order: (;1 dialled, ;2 handset)
    far: tuple[Chan, Chan] | None  # outbound: the public network side


def agent_legs(call: SimCall) -> list[SimLeg]:
    return [leg for leg in call.legs if leg.kind == "agent"]


def channels(call: SimCall) -> CallChannels:
    base, local = call.channel_base, call.local_base
    if call.direction == "outbound":
        name = f"Local/{call.agent}@agent-dial-{local:08x}"
        far = f"Local/{call.dialled}@pstn-{local + 1:08x}"
        return CallChannels(
            Chan(f"{name};1", f"{call.start}.{base}"),
            Chan(f"{name};2", f"{call.start}.{base + 1}"),
            [],
            (
                Chan(f"{far};1", f"{call.start}.{base + 2}"),
                Chan(f"{far};2", f"{call.start}.{base + 3}"),
            ),
        )
    name = f"Local/{call.line}@from-trunk-{local:08x}"
    legs = []
    for k, leg in enumerate(agent_legs(call)):
        agent = f"Local/{leg.agent}@agents-{local + 1 + k:08x}"
        legs.append(
            (
                Chan(f"{agent};1", f"{leg.ring_start}.{base + 2 + 2 * k}"),
                Chan(f"{agent};2", f"{leg.ring_start}.{base + 3 + 2 * k}"),
            )
        )
    return CallChannels(
        Chan(f"{name};1", f"{call.start}.{base}"),
        Chan(f"{name};2", f"{call.start}.{base + 1}"),
        legs,
        None,
    )


def dial_data(call: SimCall, members: list[str], timeout: int) -> str:
    return "&".join(f"Local/{m}@agents" for m in members) + f",{timeout}"
