"""A cloud PBX's call-history download (one row per call), read back with
mappings/simulated-cloud-pbx.toml.

Such exports say who answered and how the call ended, not which phones rang: the row names the
agent who picked up (none for an unanswered call), so only that leg survives the round trip
(docs/simulate.md lists the difference). Status and stage use the export's own words, which the
mapping translates, as a real vendor's would need.
"""

from __future__ import annotations

import csv
from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from callscope.simulate.trace import SimCall, Trace
from callscope.simulate.truth import call_record

HEADER = [
    "Call ID",
    "Started",
    "Answered",
    "Ended",
    "Type",
    "From",
    "To",
    "Line",
    "Queue",
    "IVR",
    "Agent",
    "Wait, s",
    "Talk, s",
    "Status",
    "Stage",
    "Hung up",
]
STATUS = {
    "abandoned": "missed: hung up",
    "voicemail": "missed: voicemail",
    "after_hours": "missed: closed",
    "invalid_destination": "missed: wrong number",
    "timeout": "missed: timeout",
}
STAGE = {
    "ivr": "IVR",
    "queue": "queue",
    "ring_group": "ring group",
    "agent": "agent",
    "voicemail": "voicemail",
    "external": "outside",
    "invalid_destination": "wrong number",
    "after_hours": "closed",
}
SIDE = {"caller": "client", "agent": "employee"}


def row(call: SimCall, zone: ZoneInfo) -> list[str]:
    def ts(at: int | None) -> str:
        if at is None:
            return ""
        return datetime.fromtimestamp(at, zone).strftime("%d.%m.%Y %H:%M:%S")

    truth = call_record(call)
    if call.direction == "outbound":
        status = {"answered": "answered", "busy": "busy"}.get(call.far_result or "", "no answer")
        return [
            call.call_id,
            ts(call.start),
            ts(call.far_answer),
            ts(call.end),
            "outgoing",
            call.agent or "",
            call.number,
            "",
            "",
            "",
            call.agent or "",
            str((call.far_answer or call.end) - call.start),
            str(call.talk_s),
            status,
            "outside",
            SIDE.get(call.hangup_side or "", ""),
        ]
    picked = [leg for leg in call.legs if leg.answer is not None]
    agent = truth["answered_by"] or ""
    status = "answered" if picked else STATUS[truth["disposition"] or "abandoned"]
    return [
        call.call_id,
        ts(call.start),
        ts(min(leg.answer for leg in picked if leg.answer is not None)) if picked else "",
        ts(call.end),
        "incoming",
        call.number,
        call.line or "",
        call.line or "",
        call.queue or "",
        call.ivr_digit or "",
        agent,
        str(truth["wait_s"]),
        str(call.talk_s),
        status,
        STAGE[truth["end_stage"]],
        SIDE.get(call.hangup_side or "", ""),
    ]


def mapping_text(timezone: str) -> str:
    """mappings/simulated-cloud-pbx.toml, with the simulated company's time zone."""
    text = (resources.files("callscope.simulate") / "cloud-pbx-mapping.toml").read_text("utf-8")
    return text.replace('timezone = "Europe/Moscow"', f'timezone = "{timezone}"')


def write_mapped_csv(trace: Trace, out: Path) -> list[Path]:
    """calls.csv and the mapping that reads it (calls.mapping.toml)."""
    zone = ZoneInfo(trace.timezone)
    path = out / "calls.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\n")
        writer.writerow(HEADER)
        for call in trace.calls:
            writer.writerow(row(call, zone))
    mapping = out / "calls.mapping.toml"
    mapping.write_text(mapping_text(trace.timezone), encoding="utf-8")
    return [path, mapping]
