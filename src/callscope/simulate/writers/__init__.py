"""Writers: one simulated history in each log format callscope reads, plus its ground truth.

Every writer takes the same trace, so the files of one run describe the same calls with the same
ids; `write_history` always adds `ground-truth.jsonl`, `agent-states.jsonl` and the
`callscope.toml` to import them with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from callscope.errors import ConfigError
from callscope.simulate.compare import settings_toml
from callscope.simulate.profile import Profile
from callscope.simulate.trace import Trace
from callscope.simulate.truth import write_truth
from callscope.simulate.writers.asterisk_cdr import write_cdr
from callscope.simulate.writers.asterisk_cel import write_cel
from callscope.simulate.writers.asterisk_queue_log import write_queue_log
from callscope.simulate.writers.freeswitch import write_freeswitch_csv, write_freeswitch_json
from callscope.simulate.writers.mapped import write_mapped_csv

Writer = Callable[[Trace, Profile, Path], list[Path]]

WRITERS: dict[str, Writer] = {
    "asterisk-cdr": lambda t, p, out: [write_cdr(t, out)],
    "asterisk-cel": lambda t, p, out: [write_cel(t, out, {g.name: g.members for g in p.groups})],
    "asterisk-queue-log": lambda t, p, out: [write_queue_log(t, out)],
    "freeswitch-json": lambda t, p, out: [write_freeswitch_json(t, out)],
    "freeswitch-csv": lambda t, p, out: [write_freeswitch_csv(t, out)],
    "mapped-csv": lambda t, p, out: write_mapped_csv(t, out),
}
ASTERISK = ("asterisk-cdr", "asterisk-queue-log", "asterisk-cel")


def register(name: str, writer: Writer) -> None:
    WRITERS[name] = writer


def write_history(
    trace: Trace, profile: Profile, out: Path, formats: Sequence[str] = ASTERISK
) -> list[Path]:
    unknown = [f for f in formats if f not in WRITERS]
    if unknown:
        raise ConfigError(f"unknown format(s) {unknown} (use: {', '.join(WRITERS)})")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in formats:
        written += WRITERS[name](trace, profile, out)
    written.append(write_truth(trace, out))
    config = out / "callscope.toml"
    config.write_text(settings_toml(trace), encoding="utf-8")
    written.append(config)
    return written
