"""The vocabulary of design.md section 2-3 as enums shared by every layer.

The canonical rows themselves live in the store as columns; these enums are the one place that
names their allowed values, so sources, the assembler, the CLI and tests agree on spelling.
"""

from __future__ import annotations

from enum import StrEnum


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class CallOutcome(StrEnum):
    """Call-level outcome stored at assembly; finer service outcomes belong to metrics."""

    ANSWERED = "answered"
    MISSED = "missed"  # inbound from a customer, no talk >= min_talk_s with a person
    NO_ANSWER = "no_answer"  # outbound/internal that never connected
    BUSY = "busy"
    FAILED = "failed"


class EndStage(StrEnum):
    IVR = "ivr"
    QUEUE = "queue"
    RING_GROUP = "ring_group"
    AGENT = "agent"
    VOICEMAIL = "voicemail"
    EXTERNAL = "external"
    INVALID_DESTINATION = "invalid_destination"
    AFTER_HOURS = "after_hours"


class DestinationKind(StrEnum):
    AGENT = "agent"
    VOICEMAIL = "voicemail"
    EXTERNAL = "external"
    IVR = "ivr"
    QUEUE = "queue"


class LegResult(StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"
    CANCELLED_ANSWERED_ELSEWHERE = "cancelled_answered_elsewhere"
    CALLER_HUNG_UP = "caller_hung_up"


class AgentStateKind(StrEnum):
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    PAUSED = "paused"
    OFFLINE = "offline"


class LegGroup(StrEnum):
    """Which PBX mechanism produced a leg; decides which source describes it best."""

    QUEUE = "queue"  # a queue member rung by the queue application
    DIAL = "dial"  # a Dial(): ring group, direct extension, transfer target, outbound trunk
