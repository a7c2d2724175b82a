"""Batch input formats by their --format name. Modules are imported on first use."""

from __future__ import annotations

import importlib

from callscope.errors import InputFormatError
from callscope.sources.base import Source

_REGISTRY: dict[str, str] = {
    "asterisk-cdr": "callscope.sources.asterisk_cdr:AsteriskCdr",
    "asterisk-cel": "callscope.sources.asterisk_cel:AsteriskCel",
    "asterisk-queue-log": "callscope.sources.asterisk_queue_log:AsteriskQueueLog",
    "freeswitch-cdr": "callscope.sources.freeswitch:FreeswitchCdr",
    "mapped-csv": "callscope.sources.mapped_csv:MappedCsv",
    "asterisk-ami": "callscope.sources.asterisk_ami:AsteriskAmi",
    "webhook-events": "callscope.sources.webhook_events:WebhookEvents",
}

FORMATS: tuple[str, ...] = tuple(_REGISTRY)
LIVE_ONLY = frozenset({"asterisk-ami", "webhook-events"})  # arrive through callscope listen
FILE_FORMATS: tuple[str, ...] = tuple(f for f in FORMATS if f not in LIVE_ONLY)


def get_source(name: str) -> Source:
    """The source for a --format name (not 'auto')."""
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise InputFormatError(
            f"unknown format {name!r}; choose one of: auto, {', '.join(FORMATS)}"
        ) from None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    source: Source = cls()
    return source


def available_sources() -> list[Source]:
    """Every registered source (auto-detection asks each; re-assembly reads each raw table)."""
    return [get_source(name) for name in FORMATS]


def detect_format(head: str, display_name: str) -> str:
    """The --format auto choice: the source most confident about the file's first lines."""
    scored = sorted(((s.sniff(head), s.name) for s in available_sources()), reverse=True)
    if not scored or scored[0][0] < 0.5:
        raise InputFormatError(
            f"{display_name}: cannot tell the format from its first lines; "
            f"give --format ({', '.join(FILE_FORMATS)})"
        )
    return scored[0][1]
