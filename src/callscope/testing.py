"""Helpers for tests and examples: import raw PBX text as it would sit in a log file."""

from __future__ import annotations

from pathlib import Path

from callscope.importer import ImportSummary, import_files
from callscope.settings import Settings
from callscope.store import Store

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def import_text(
    store: Store,
    tmp: Path,
    text: str | bytes,
    *,
    fmt: str = "auto",
    settings: Settings | None = None,
    name: str = "Master.csv",
    mapping: Path | None = None,
) -> ImportSummary:
    """Write `text` to `tmp/name` (a str is stripped of the leading newline of a triple-quoted
    literal and of each line's indentation) and import it."""
    path = tmp / name
    if isinstance(text, str):
        lines = [line.strip() for line in text.strip("\n").splitlines()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        path.write_bytes(text)
    return import_files(store, [path], fmt=fmt, settings=settings or Settings(), mapping=mapping)
