"""AMI as text: the wire format (`Key: value` lines, a blank line after each message).

Recorded transcripts, the replay server of the tests and the live client all meet here, so an
event replayed from a file is byte for byte the event the client would have received.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

EOL = "\r\n"


def split_messages(text: str) -> Iterator[str]:
    """Messages of a transcript, whether its line ends are CRLF (the wire) or LF (a copy)."""
    normalised = text.replace("\r\n", "\n")
    for block in normalised.split("\n\n"):
        block = block.strip("\n")
        if block:
            yield block


def parse_message(block: str) -> dict[str, str]:
    """Headers of one message in order; a repeated header keeps its first value (AMI repeats
    only ChanVariable-style headers, which analytics does not need)."""
    headers: dict[str, str] = {}
    for line in block.split("\n"):
        key, sep, value = line.rstrip("\r").partition(":")
        if not sep:
            continue
        headers.setdefault(key.strip(), value[1:] if value.startswith(" ") else value)
    return headers


def read_events(path: Path) -> list[dict[str, str]]:
    """The events (not responses, not the banner) of a recorded AMI transcript."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return [m for m in map(parse_message, split_messages(text)) if "Event" in m]


def format_message(headers: Mapping[str, str]) -> str:
    """One message as the PBX sends it."""
    return "".join(f"{k}: {v}{EOL}" for k, v in headers.items()) + EOL


def event_json(headers: Mapping[str, object]) -> str:
    """An event as the inbox keeps it: a JSON object of its headers, in the PBX's order (its
    hash is the event's idempotency key, so the text must not depend on who serialised it)."""
    return json.dumps({str(k): str(v) for k, v in headers.items()}, ensure_ascii=False)
