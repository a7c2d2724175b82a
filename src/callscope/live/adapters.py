"""Cloud-PBX webhooks rewritten as generic events, with each vendor's own field names.

Zadarma (PBX notifications, form-encoded POST; field names from Zadarma's official PHP client
`zadarma/user-api-v1`, lib/Webhook/Notify*.php): `event` = NOTIFY_START | NOTIFY_INTERNAL |
NOTIFY_ANSWER | NOTIFY_END | NOTIFY_OUT_START | NOTIFY_OUT_END, with `pbx_call_id`,
`call_start` (account-local "YYYY-MM-DD HH:MM:SS"), `caller_id`, `called_did`, `internal`,
`destination`, `duration`, `disposition`, `status_code`, `is_recorded`, `call_id_with_rec`.

Mango Office VPBX API v1.9 (form fields `vpbx_api_key`, `sign` = sha256(key + json + salt),
`json`): `events/call` with `entry_id` (the whole conversation), `call_id` (one leg),
`timestamp` (UTC seconds), `seq`, `call_state` (Appeared | Connected | OnHold | Disconnected),
`location` (ivr | queue | abonent), `from` (`extension`, `number`, `taken_from_call_id`), `to`
(`extension`, `number`, `line_number`, `acd_group`), `disconnect_reason` (a numeric result
code); and `events/summary` (`entry_id`, `call_direction`, `from`, `to`, `line_number`,
`create_time`, `forward_time`, `talk_time`, `end_time`, `entry_result`, `disconnect_reason`),
which closes the conversation. Names checked against the public Yii2 client
maxodrom/yii2-mango-office-api (src/controllers/EventsController.php, src/models/events/
Call.php, Summary.php; it ships Mango's "MangoOffice_VPBX_API_v1.9.pdf" in docs/).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from callscope.live.events import InvalidEventError, LiveEvent

ZADARMA_DISPOSITION = {"busy": "busy", "no answer": "no_answer", "cancel": "no_answer"}
# Mango's disconnect_reason codes that say why a ringing leg ended (the others - 1100 normal,
# 1110 ended by the caller, 1120 by the callee ... - leave it to the call's own end).
MANGO_RING_RESULT = {
    1111: "no_answer",  # no answer within the ring time
    1121: "busy",
    1122: "rejected",
    1123: "rejected",  # do not disturb
    1131: "unavailable", 1132: "unavailable", 1133: "unavailable",
    1190: "unavailable", 1191: "unavailable", 1192: "unavailable",  # inactive / off schedule
}  # fmt: skip


def _local(text: str, zone: str) -> datetime:
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise InvalidEventError(f"call_start: not a time: {text!r}") from None
    return naive.replace(tzinfo=ZoneInfo(zone))


def zadarma_signature_text(form: Mapping[str, str]) -> str:
    """What Zadarma signs for each notification (its getSignatureString)."""
    event = form.get("event", "")
    if event in ("NOTIFY_ANSWER", "NOTIFY_OUT_START", "NOTIFY_OUT_END"):
        first = form.get("internal", "") if event != "NOTIFY_ANSWER" else form.get("caller_id", "")
        return first + form.get("destination", "") + form.get("call_start", "")
    return form.get("caller_id", "") + form.get("called_did", "") + form.get("call_start", "")


def zadarma_events(form: Mapping[str, str], zone: str, now: datetime) -> list[LiveEvent]:
    """One Zadarma notification -> generic events. `now` stamps events Zadarma sends without
    their own time (answer, end): the call start is all its payload tells."""
    event = form.get("event", "")
    call_id = form.get("pbx_call_id")
    if not call_id:
        raise InvalidEventError("pbx_call_id is missing")
    start = _local(form.get("call_start", ""), zone)
    base: dict[str, Any] = {"call_id": call_id, "event_id": f"zadarma:{call_id}:{event}"}
    internal = form.get("internal") or None
    if event == "NOTIFY_START":
        item = {"type": "call.started", "at": start, "direction": "inbound",
                "from": form.get("caller_id"), "to": form.get("called_did")}  # fmt: skip
    elif event == "NOTIFY_INTERNAL":
        base["event_id"] += f":{internal}"
        item = {"type": "call.ringing", "at": now, "agent": internal}
    elif event == "NOTIFY_ANSWER":
        item = {"type": "call.answered", "at": now, "agent": internal}
    elif event == "NOTIFY_OUT_START":
        item = {"type": "call.started", "at": start, "direction": "outbound",
                "from": internal, "agent": internal, "to": form.get("destination")}  # fmt: skip
    elif event in ("NOTIFY_END", "NOTIFY_OUT_END"):
        items = []
        answered = form.get("disposition") == "answered"
        if answered and internal:
            # The end carries the talk time (`duration`): the answer was `duration` before it.
            # For an outbound call it is the only answer Zadarma reports.
            duration = float(form.get("duration") or 0)
            end = now
            items.append(
                {**base, "event_id": base["event_id"] + ":answer", "type": "call.answered",
                 "agent": internal, "at": datetime.fromtimestamp(end.timestamp() - duration, UTC)}
            )  # fmt: skip
        items.append(
            {**base, "type": "call.ended", "at": now,
             "recording": form.get("call_id_with_rec") or None}
        )  # fmt: skip
        return [LiveEvent.model_validate(i) for i in items]
    else:
        raise InvalidEventError(f"event: unknown Zadarma notification {event!r}")
    return [LiveEvent.model_validate({**base, **item})]


def mango_events(kind: str, doc: Mapping[str, Any]) -> list[LiveEvent]:
    """A Mango Office `events/call` or `events/summary` document -> generic events."""
    entry = doc.get("entry_id")
    if not entry:
        raise InvalidEventError("entry_id is missing")
    if kind == "summary":
        end = doc.get("end_time") or doc.get("timestamp")
        if end is None:
            raise InvalidEventError("end_time is missing")
        return [
            LiveEvent.model_validate(
                {
                    "type": "call.ended",
                    "call_id": entry,
                    "event_id": f"mango:{entry}:summary",
                    "at": datetime.fromtimestamp(int(end), UTC),
                }
            )
        ]
    state = doc.get("call_state")
    at = datetime.fromtimestamp(int(doc.get("timestamp") or 0), UTC)
    src: Mapping[str, Any] = doc.get("from") or {}
    dst: Mapping[str, Any] = doc.get("to") or {}
    leg = str(doc.get("call_id") or "")
    agent = dst.get("extension") or None
    base = {"call_id": entry, "event_id": f"mango:{entry}:{leg}:{doc.get('seq')}", "at": at}
    events: list[dict[str, Any]] = []
    if (state == "Appeared" and doc.get("seq") in (1, "1")) or (state == "Appeared" and not agent):
        outbound = bool(src.get("extension"))
        events.append({**base, "event_id": base["event_id"] + ":start", "type": "call.started",
                       "direction": "outbound" if outbound else "inbound",
                       "from": src.get("number") or src.get("extension"),
                       "to": dst.get("number"), "line": dst.get("line_number"),
                       "agent": src.get("extension")})  # fmt: skip
    queue = dst.get("acd_group") or None  # the operators' group the leg was placed from
    if agent and state == "Appeared" and doc.get("location") == "abonent":
        events.append({**base, "type": "call.ringing", "agent": agent, "leg_id": leg,
                       "queue": queue})  # fmt: skip
    elif agent and state == "Connected":
        events.append({**base, "type": "call.answered", "agent": agent, "leg_id": leg})
    elif agent and state == "Disconnected":
        reason = _int(doc.get("disconnect_reason"))
        events.append({**base, "type": "call.ring_ended", "agent": agent, "leg_id": leg,
                       "result": MANGO_RING_RESULT.get(reason or 0)})  # fmt: skip
    return [LiveEvent.model_validate(e) for e in events]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
