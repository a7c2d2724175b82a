"""Which of the usual CEL column layouts a file has, told from its first line.

Asterisk writes CEL without a header through cel_custom, and the field list is whatever the
administrator configured; a database export (cel_odbc / cel_pgsql tables dumped to CSV) carries
the table's own column names. Users rarely know which they have, so the layout is recognised
from content: a header row is mapped by name, a header-less line by its field count and by
checking that it starts with an event type and a time.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from callscope.errors import InputFormatError

# Columns of the raw table every layout is mapped onto (besides event_id and eventtime).
TEXT_COLUMNS: tuple[str, ...] = (
    "eventtype", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid", "exten", "context",
    "channame", "appname", "appdata", "amaflags", "accountcode", "uniqueid", "linkedid", "peer",
    "userfield", "userdeftype", "extra",
)  # fmt: skip

# cel_custom "advanced" field list: EventType,EventTime,Name,Num,Exten,Context,ChanName,AppName,
# AppData,AMAFlags,AccountCode,UniqueID,LinkedID,Peer,UserDefType,EventExtra.
ADVANCED_16: tuple[str, ...] = (
    "eventtype", "eventtime", "cid_name", "cid_num", "exten", "context", "channame", "appname",
    "appdata", "amaflags", "accountcode", "uniqueid", "linkedid", "peer", "userdeftype", "extra",
)  # fmt: skip

# The classic cel_custom.conf Master.csv template (CSV_QUOTE of each CEL variable); older
# samples also carry ${CHANNEL(userfield)} before ${userdeftype}, which makes 20 fields.
CLASSIC_19: tuple[str, ...] = (
    "eventtype", "eventtime", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid", "exten",
    "context", "channame", "appname", "appdata", "amaflags", "accountcode", "uniqueid",
    "linkedid", "peer", "userdeftype", "extra",
)  # fmt: skip
CLASSIC_20: tuple[str, ...] = (*CLASSIC_19[:17], "userfield", "userdeftype", "extra")

# Header names seen in CEL tables and cel_custom field lists, mapped to raw column names.
HEADER_ALIASES: dict[str, str] = {
    "id": "event_id",
    "eventtype": "eventtype",
    "eventtime": "eventtime",
    "cid_name": "cid_name", "cidname": "cid_name", "name": "cid_name",
    "cid_num": "cid_num", "cidnum": "cid_num", "num": "cid_num",
    "cid_ani": "cid_ani", "cidani": "cid_ani",
    "cid_rdnis": "cid_rdnis", "cidrdnis": "cid_rdnis",
    "cid_dnid": "cid_dnid", "ciddnid": "cid_dnid",
    "exten": "exten", "context": "context", "channame": "channame", "appname": "appname",
    "appdata": "appdata", "amaflags": "amaflags",
    "accountcode": "accountcode", "acctcode": "accountcode",
    "uniqueid": "uniqueid", "linkedid": "linkedid", "peer": "peer",
    "userfield": "userfield", "userdeftype": "userdeftype", "usereventname": "userdeftype",
    "extra": "extra", "eventextra": "extra",
}  # fmt: skip
REQUIRED: frozenset[str] = frozenset({"eventtype", "eventtime", "channame", "uniqueid", "linkedid"})

_EVENT_TYPE = re.compile(r"[A-Z][A-Z_]{2,}")
_EVENT_TIME = re.compile(r"\d{9,11}(\.\d+)?|\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?")


@dataclass(frozen=True)
class Layout:
    """How to read one file: its fields in order, each named by the raw column it feeds
    (None = a column callscope does not keep), and whether line 1 is a header."""

    name: str
    header: bool
    fields: tuple[str | None, ...]
    file_names: tuple[str, ...]  # names given to the CSV reader (the header's own, if any)

    @property
    def width(self) -> int:
        return len(self.fields)


def _first_record(path: Path) -> list[str]:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.reader(handle):
            if any(cell.strip() for cell in row):
                return row
    return []


def _header_layout(row: list[str]) -> Layout | None:
    names = [cell.strip().lower() for cell in row]
    mapped = [HEADER_ALIASES.get(name) for name in names]
    if not REQUIRED <= {m for m in mapped if m}:
        return None
    # A raw column fed twice (two aliases) keeps the first; reader names must be unique.
    seen: set[str] = set()
    fields: list[str | None] = []
    for target in mapped:
        fields.append(target if target and target not in seen else None)
        seen.add(target or "")
    unique = tuple(f"{name or 'column'}_{i}" if names.count(name) > 1 or not name else name
                   for i, name in enumerate(names))
    return Layout("CEL table export with header", True, tuple(fields), unique)


def layout_of_record(row: list[str]) -> Layout | None:
    """The layout a first record belongs to, or None when it looks like no CEL layout."""
    if not row:
        return None
    header = _header_layout(row)
    if header is not None:
        return header
    cells = [cell.strip() for cell in row]
    if len(cells) < 2 or not _EVENT_TYPE.fullmatch(cells[0]):
        return None
    if not _EVENT_TIME.fullmatch(cells[1]):
        return None
    by_width = {
        16: ("cel_custom advanced field list (16 fields)", ADVANCED_16),
        19: ("cel_custom classic Master.csv template (19 fields)", CLASSIC_19),
        20: ("cel_custom classic template with userfield (20 fields)", CLASSIC_20),
    }
    if len(cells) not in by_width:
        return None
    name, fields = by_width[len(cells)]
    return Layout(name, False, fields, fields)


def detect_layout(path: Path, display_name: str) -> Layout:
    """The file's layout; a file that matches none is refused whole, naming what was seen."""
    row = _first_record(path)
    layout = layout_of_record(row)
    if layout is None:
        seen = ",".join(row)[:120] if row else "an empty file"
        raise InputFormatError(
            f"{display_name}: not an Asterisk CEL file this version reads: the first line is "
            f"{seen!r}; expected a header naming eventtype, eventtime, channame, uniqueid and "
            "linkedid, or header-less cel_custom lines of 16, 19 or 20 fields starting with an "
            "event type and a time"
        )
    return layout


def sniff_text(head: str) -> float:
    """How sure we are that these first lines are CEL (for --format auto)."""
    lines = [line for line in head.splitlines() if line.strip()]
    if not lines:
        return 0.0
    try:
        row = next(csv.reader([lines[0]]))
    except (csv.Error, StopIteration):
        return 0.0
    layout = layout_of_record(row)
    if layout is None:
        return 0.0
    return 0.95 if layout.header else 0.9
