"""The fast path: millions of calls without the event engine, for benchmarks.

It samples the same company in two steps. First the event engine runs a calibration window
(two weeks by default) and its inbound calls are grouped by stratum: line, local hour, weekday
or weekend. Then arrivals for the whole period are drawn exactly as the engine draws them
(Poisson per hour from the profile's traffic shape, vectorised), and every arrival takes what
happened to it (IVR choice, wait, who answered, talk, end stage, sale) from a random calibration
call of its stratum. Outcomes therefore follow the engine's distributions, congestion included,
with no per-call Python; tests/test_simulate_fast.py shows the two are statistically the same.
Inbound calls only: callbacks and redials are left to the event engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from callscope.simulate.agents import local_epoch
from callscope.simulate.engine import simulate
from callscope.simulate.profile import Profile
from callscope.simulate.truth import call_record

# copied from the calibration call; numbers as float64, texts as object arrays
NUMERIC = ("wait_s", "talk_s", "duration_s", "answered", "sale", "revenue", "legs")
TEXT = ("ivr_path", "queue", "end_stage", "disposition", "answered_by", "hangup_side")


@dataclass
class Calibration:
    """Calibration calls sorted by stratum, with each stratum's first row and size."""

    numeric: dict[str, np.ndarray]
    text: dict[str, np.ndarray]
    first: np.ndarray  # per stratum: index of its first call (strata without calls borrow)
    size: np.ndarray
    volume: float  # inbound calls per first attempt (customers' redials come on top)


def stratum(line: Any, hour: Any, weekend: Any) -> np.ndarray:
    """Stratum number of (line index, local hour, weekend 0/1), for arrays or scalars."""
    return np.asarray((np.asarray(line) * 24 + hour) * 2 + weekend)


def calibrate(profile: Profile, start: date, days: int = 14, seed: int = 0) -> Calibration:
    trace = simulate(profile, start, days, seed)
    zone = ZoneInfo(profile.timezone)
    lines = {line.did: i for i, line in enumerate(profile.lines)}
    rows = [(c, call_record(c)) for c in trace.calls if c.direction == "inbound"]
    local = [datetime.fromtimestamp(c.start, zone) for c, _ in rows]
    keys = stratum(
        np.array([lines[c.line or ""] for c, _ in rows]),
        np.array([t.hour for t in local]),
        np.array([t.weekday() >= 5 for t in local], dtype=np.int64),
    )
    order = np.argsort(keys, kind="stable")
    numeric = {
        "wait_s": [r["wait_s"] for _, r in rows],
        "talk_s": [r["talk_s"] for _, r in rows],
        "duration_s": [c.end - c.start for c, _ in rows],
        "answered": [r["outcome"] == "answered" for _, r in rows],
        "sale": [r["sale"] for _, r in rows],
        "revenue": [r["revenue"] for _, r in rows],
        "legs": [len(r["legs"]) for _, r in rows],
    }
    n_strata = len(profile.lines) * 48
    size = np.bincount(keys, minlength=n_strata)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    # A stratum the window never saw borrows the nearest hour of the same line and day kind.
    for s in np.flatnonzero(size == 0):
        line, rest = divmod(int(s), 48)
        hour, weekend = divmod(rest, 2)
        for delta in range(1, 24):
            near = [
                stratum(np.int64(line), np.int64(h), np.int64(weekend))
                for h in (hour - delta, hour + delta)
                if 0 <= h < 24
            ]
            found = [int(n) for n in near if size[int(n)] > 0]
            if found:
                first[s], size[s] = first[found[0]], size[found[0]]
                break
    return Calibration(
        numeric={k: np.asarray(v, dtype=np.float64)[order] for k, v in numeric.items()},
        text={k: np.asarray([r[k] for _, r in rows], dtype=object)[order] for k in TEXT},
        first=first,
        size=size,
        volume=len(rows) / max(1, sum(1 for c, _ in rows if c.purpose != "redial")),
    )


def arrivals(
    profile: Profile, start: date, days: int, rng: np.random.Generator, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Epoch seconds and line index of every arrival, the engine's traffic shape (`scale`
    adds the redials the fast path does not follow one by one)."""
    zone = ZoneInfo(profile.timezone)
    traffic = profile.traffic
    share = np.asarray(traffic.hourly) / sum(traffic.hourly)
    weights = np.asarray([line.weight for line in profile.lines])
    volume, bases = [], []
    for offset in range(days):
        day = start + timedelta(days=offset)
        v = traffic.calls_per_day
        if day.isoformat() in profile.hours.holidays:
            v *= traffic.holiday_factor
        elif day.weekday() >= 5:
            v *= traffic.weekend_factor
        volume.append(v * scale * share)
        bases.append([local_epoch(day, f"{h:02d}:00", zone) for h in range(24)])
    counts = rng.poisson(np.asarray(volume).ravel())
    at = np.repeat(np.asarray(bases, dtype=np.int64).ravel(), counts)
    at += rng.integers(0, 3600, at.size)
    at.sort()
    line = rng.choice(len(weights), size=at.size, p=weights / weights.sum())
    return at, line


def fast_calls(
    profile: Profile, cal: Calibration, start: date, days: int, seed: int, customers: int = 0
) -> dict[str, np.ndarray]:
    """One row per inbound call, as columns: start, line, customer (an index; `customers` were
    seen before this period) and the sampled outcome."""
    rng = np.random.default_rng(seed)
    at, line = arrivals(profile, start, days, rng, cal.volume)
    offset = np.asarray(profile_utc_offset(profile, at))
    local = at + offset
    hour = (local // 3600) % 24
    weekday = ((local // 86400) + 3) % 7  # 1970-01-01 was a Thursday
    keys = stratum(line, hour, (weekday >= 5).astype(np.int64))
    pick = cal.first[keys] + (rng.random(at.size) * cal.size[keys]).astype(np.int64)
    out: dict[str, np.ndarray] = {"start": at, "line": line}
    out.update({k: v[pick] for k, v in cal.numeric.items()})
    out.update({k: v[pick] for k, v in cal.text.items()})
    returning = rng.random(at.size) < profile.caller.returning_share
    seen = customers + np.cumsum(~returning)
    out["customer"] = np.where(
        returning, (rng.random(at.size) * np.maximum(seen - 1, 1)).astype(np.int64), seen - 1
    )
    return out


def profile_utc_offset(profile: Profile, at: np.ndarray) -> np.ndarray:
    """UTC offset in seconds at each instant (per distinct hour, so DST is right)."""
    zone = ZoneInfo(profile.timezone)
    hours = at // 3600
    unique, inverse = np.unique(hours, return_inverse=True)
    offsets = np.array(
        [
            datetime.fromtimestamp(int(h) * 3600, zone).replace(tzinfo=UTC).timestamp()
            - int(h) * 3600
            for h in unique
        ],
        dtype=np.int64,
    )
    return offsets[inverse]
