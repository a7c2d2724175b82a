"""What the simulation says happened: the trace every writer and the ground truth are made from.

Times are whole epoch seconds (UTC). The engine works in whole seconds on purpose: every log
format (CEL with microseconds, CDR and queue_log with seconds) then tells the same durations, so
a round trip can be compared exactly instead of "within a second".
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SimLeg:
    """One destination rung inside a call (design.md: leg)."""

    agent: str  # extension; "" for voicemail
    kind: str  # agent | voicemail
    ring_start: int
    end: int
    answer: int | None = None
    result: str = "no_answer"  # canonical leg result (model.LegResult values)
    hangup_by: str | None = None  # agent | caller, for answered legs
    round_no: int = 0  # legs of one round ring together (ring-all)
    via: str = "queue"  # queue | dial | transfer: the PBX mechanism that rang it

    @property
    def ring_s(self) -> int:
        return (self.answer if self.answer is not None else self.end) - self.ring_start

    @property
    def talk_s(self) -> int:
        return 0 if self.answer is None or self.kind != "agent" else self.end - self.answer


@dataclass
class SimCall:
    """One call, inbound from a customer or outbound by an agent."""

    direction: str  # inbound | outbound
    start: int
    number: str  # customer E.164
    line: str | None  # DID dialled (inbound)
    end: int = 0
    call_id: str = ""  # Asterisk linkedid, assigned once all calls are known
    channel_base: int = 0  # first channel sequence number (uniqueid suffix) of the call
    local_base: int = 0  # first Local channel counter (hex suffix) of the call
    # inbound path
    ivr_greeting_s: int = 0  # 0 = the line has no IVR
    ivr_digit: str | None = None
    ivr_left_at: int | None = None  # caller hung up during the greeting
    queue: str | None = None  # queue or ring group name
    route_exten: str | None = None
    route_kind: str | None = None  # queue | dial
    ring_timeout: int = 15
    queue_enter: int | None = None
    legs: list[SimLeg] = field(default_factory=list)
    voicemail_at: int | None = None
    end_stage: str = "agent"
    disposition: str | None = None
    hangup_side: str | None = None  # caller | agent | system
    after_hours: bool = False
    invalid: bool = False
    # outbound
    agent: str | None = None  # the agent who dialled out
    dialled: str | None = None  # digits as dialled
    far_answer: int | None = None
    far_result: str | None = None  # answered | no_answer | busy
    purpose: str | None = None  # callback (outbound) | redial (inbound, after a missed call)
    # business
    sale: bool = False
    revenue: float = 0.0
    new_customer: bool = False

    @property
    def talk_s(self) -> int:
        if self.direction == "outbound":
            return 0 if self.far_answer is None else self.end - self.far_answer
        return sum(leg.talk_s for leg in self.legs)

    def answered_leg(self, min_talk_s: float) -> SimLeg | None:
        """The first leg with a real conversation (design.md 4: talk >= min_talk_s)."""
        for leg in sorted(self.legs, key=lambda x: x.answer or 0):
            if leg.kind == "agent" and leg.answer is not None and leg.talk_s >= min_talk_s:
                return leg
        return None


@dataclass
class StateInterval:
    agent: str
    state: str  # available | ringing | on_call | paused | offline
    reason: str | None
    start: int
    end: int


@dataclass
class AgentInfo:
    ext: str
    name: str
    team: str
    persona: str
    queues: tuple[str, ...] = ()  # queues the agent is a member of (logged in queue_log)


@dataclass
class Trace:
    """Everything one simulation run produced, sorted by call start."""

    profile: str
    timezone: str
    region: str
    seed: int
    agents: list[AgentInfo]
    calls: list[SimCall]
    states: list[StateInterval]
    lines: dict[str, str]  # DID -> campaign name
    # when the company answers, as callscope's [schedule] says it: {"mon": "09:00-18:00", ...}
    opening: dict[str, str] = field(default_factory=dict)
    holidays: list[str] = field(default_factory=list)  # ISO dates
