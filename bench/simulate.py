"""Simulator speed: calls/s and peak memory of the event engine and of the fast path.

    .venv/bin/python bench/simulate.py                      # engine 2 days + fast 1M calls
    .venv/bin/python bench/simulate.py --calls 10000000     # the 10M-call fast path
    .venv/bin/python bench/simulate.py --engine-days 7 --calls 0

Each measurement runs in a child process so its peak resident memory (ru_maxrss) is its own.
Output files go to bench/out/simulate/ (git-ignored) and are removed unless --keep.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out" / "simulate"
PROFILE = "large-contact-centre"
START = date(2026, 3, 2)


def _engine(days: int, seed: int, queue: Any) -> None:
    from callscope.simulate import load_profile, simulate
    from callscope.simulate.writers import ASTERISK, write_history

    profile = load_profile(PROFILE)
    began = time.perf_counter()
    trace = simulate(profile, START, days, seed)
    simulated = time.perf_counter() - began
    write_history(trace, profile, OUT / "engine", ASTERISK)
    total = time.perf_counter() - began
    queue.put(
        {
            "calls": len(trace.calls),
            "simulate_s": simulated,
            "with_writers_s": total,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def _fast(calls: int, seed: int, queue: Any) -> None:
    from callscope.simulate import load_profile
    from callscope.simulate.fast import calibrate
    from callscope.simulate.fast_writer import write_fast

    profile = load_profile(PROFILE)
    began = time.perf_counter()
    cal = calibrate(profile, START, 7, seed)
    calibrated = time.perf_counter() - began
    per_day = profile.traffic.calls_per_day * (5 + 2 * profile.traffic.weekend_factor) / 7
    days = max(1, round(calls / (per_day * cal.volume)))
    began = time.perf_counter()
    n = write_fast(profile, cal, START, days, seed, OUT / "fast", chunk_days=90)
    queue.put(
        {
            "calls": n,
            "days": days,
            "calibrate_s": calibrated,
            "write_s": time.perf_counter() - began,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "bytes": sum(p.stat().st_size for p in (OUT / "fast").iterdir()),
        }
    )


def measure(target: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=target, args=(*args, queue))
    child.start()
    result: dict[str, Any] = queue.get()
    child.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine-days", type=int, default=2)
    parser.add_argument("--calls", type=int, default=1_000_000, help="fast path size (0: skip)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"profile": PROFILE}
    if args.engine_days:
        r = measure(_engine, args.engine_days, args.seed)
        r["calls_per_s"] = r["calls"] / r["simulate_s"]
        results["engine"] = r
        print(
            f"event engine: {r['calls']:,} calls in {r['simulate_s']:.1f} s "
            f"({r['calls_per_s']:,.0f} calls/s; with CDR+queue_log+CEL+truth "
            f"{r['with_writers_s']:.1f} s), peak {r['peak_mb']:.0f} MB"
        )
    if args.calls:
        r = measure(_fast, args.calls, args.seed)
        r["calls_per_s"] = r["calls"] / r["write_s"]
        results["fast"] = r
        print(
            f"fast path: {r['calls']:,} calls ({r['days']} days) written in {r['write_s']:.1f} s "
            f"({r['calls_per_s']:,.0f} calls/s, Master.csv + truth Parquet "
            f"{r['bytes'] / 1e9:.2f} GB) after a {r['calibrate_s']:.1f} s calibration, "
            f"peak {r['peak_mb']:.0f} MB"
        )
    json.dump(results, sys.stdout, indent=1)
    sys.stdout.write("\n")
    if not args.keep:
        shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    main()
