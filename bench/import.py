"""Import benchmark: a synthetic Asterisk Master.csv through the whole import, against DuckDB
reading the same file.

The goal (bench/README.md): a 10M-row cdr_csv import within 5x the time DuckDB needs to scan
that file. Every measurement runs in its own child process, so the peak resident memory shown is
that measurement's alone and no cache of one warms the next (the OS page cache does serve all of
them: the file is read once before the first measurement).

    python bench/import.py                      # 1M and 10M rows
    python bench/import.py --rows 100000 --profile
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))
from cdr_generator import COLUMNS, DEFAULT_SEED, generate  # noqa: E402

# The importer reads every Master.csv column as text (typing and rejects happen in SQL), with
# these reader options; the baseline reads the file the same way.
READ_OPTIONS = (
    "header=false, delim=',', quote='\"', escape='\"', nullstr=['', 'NULL'], "
    "strict_mode=true, null_padding=false, parallel=true"
)
COUNT_TABLES = ("calls", "legs", "agent_states", "key_links", "rejects", "raw_asterisk_cdr_v1")


def _read_csv(path: Path) -> str:
    columns = ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS)
    return f"read_csv('{path}', columns={{{columns}}}, {READ_OPTIONS})"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- child side


def child_scan(path: Path, kind: str) -> dict[str, Any]:
    con = duckdb.connect()
    began = time.perf_counter()
    if kind == "load":
        con.execute(f"CREATE TEMP TABLE t AS SELECT * FROM {_read_csv(path)}")
        row = con.execute("SELECT count(*) FROM t").fetchone()
    elif kind == "fullscan":
        # count(*) lets the reader skip building most values; min/max of every column makes
        # it produce each one, as any import must.
        aggs = ", ".join(f'min("{c}"), max("{c}")' for c in COLUMNS)
        row = con.execute(f"SELECT count(*), {aggs} FROM {_read_csv(path)}").fetchone()
    else:
        row = con.execute(f"SELECT count(*) FROM {_read_csv(path)}").fetchone()
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "rows": int(row[0]) if row else 0}


# The least any importer that answers with calls and legs must do: type the fields a leg needs,
# take the agent from the channel, write one leg per row and one call per linkedid into a store
# file. No raw records, hashes, rejects, numbers, merging or leg results: a lower bound, not an
# importer, so the import's ratio can be read against what is physically possible here.
FLOOR_LEGS = """
SELECT linkedid, uniqueid,
       regexp_extract(channel, '^[A-Za-z]+/([0-9]+)-', 1) AS from_agent,
       regexp_extract(dstchannel, '^[A-Za-z]+/([0-9]+)-', 1) AS agent,
       src, dst, dcontext,
       "start"::TIMESTAMP AS started_at, "answer"::TIMESTAMP AS answered_at,
       "end"::TIMESTAMP AS ended_at, billsec::INTEGER AS billsec, disposition
FROM {source}
"""
FLOOR_CALLS = """
SELECT linkedid, min(started_at) AS started_at, max(ended_at) AS ended_at,
       arg_min(src, started_at) AS src, arg_min(dst, started_at) AS dst,
       max(billsec) AS talk_s, arg_max(agent, billsec) AS answered_by, count(*) AS legs
FROM floor_legs GROUP BY linkedid
"""


def child_floor(path: Path, db: Path) -> dict[str, Any]:
    con = duckdb.connect(str(db))
    con.execute("SET preserve_insertion_order=false")
    began = time.perf_counter()
    con.execute(
        "CREATE TEMP TABLE floor_legs AS " + FLOOR_LEGS.replace("{source}", _read_csv(path))
    )
    con.execute("CREATE TABLE legs AS SELECT * FROM floor_legs")
    con.execute("CREATE TABLE calls AS " + FLOOR_CALLS)
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - began
    row = con.execute("SELECT count(*) FROM legs").fetchone()
    con.close()
    return {"seconds": seconds, "rows": int(row[0]) if row else 0}


class TimedConnection:
    """Stands in for the store's DuckDB connection and times every statement, so --profile can
    say which SQL step of the importer the time goes to."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.timings: list[tuple[float, str]] = []

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            self.timings.append((time.perf_counter() - began, sql))

    def executemany(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return self._con.executemany(sql, *args, **kwargs)
        finally:
            self.timings.append((time.perf_counter() - began, sql))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    present = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    counts: dict[str, int] = {}
    for table in COUNT_TABLES:
        if table in present:
            row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


def child_import(path: Path, db: Path, profile: bool) -> dict[str, Any]:
    from callscope.importer import import_files
    from callscope.settings import Settings
    from callscope.store import open_store

    settings = Settings()
    store = open_store(db)
    timed = TimedConnection(store.con)
    if profile:
        store.con = timed  # type: ignore[assignment]
    try:
        before = _counts(store.con)
        began = time.perf_counter()
        summary = import_files(
            store,
            [path],
            fmt="asterisk-cdr",
            settings=settings,
            progress=lambda what, done, total: _log(f"import: {what} ({done}/{total})"),
        )
        seconds = time.perf_counter() - began
        after = _counts(store.con)
    finally:
        store.close()
    failed = [f.error for f in summary.files if f.status == "failed"]
    result: dict[str, Any] = {
        "seconds": seconds,
        "rows": summary.records_read,
        "records_new": summary.records_new,
        "rejects": summary.rejects,
        "calls": after.get("calls", 0),
        "legs": after.get("legs", 0),
        "counts_before": before,
        "counts_after": after,
        "failed": failed,
    }
    if profile:
        top = sorted(timed.timings, key=lambda t: -t[0])[:25]
        result["sql_seconds"] = sum(t for t, _ in timed.timings)
        result["statements"] = len(timed.timings)
        result["top"] = [[round(t, 3), " ".join(sql.split())[:220]] for t, sql in top]
    return result


def child_main(kind: str, path: Path, db: Path | None, profile: bool) -> int:
    if kind in ("scan", "load", "fullscan"):
        result = child_scan(path, kind)
    elif kind == "floor":
        assert db is not None
        result = child_floor(path, db)
    else:
        assert db is not None
        result = child_import(path, db, profile)
    result["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------------- parent side


def measure(kind: str, path: Path, db: Path | None = None, profile: bool = False) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its own peak RSS comes back with it."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(path)]
    if db is not None:
        cmd += ["--db", str(db)]
    if profile:
        cmd.append("--profile")
    load = os.getloadavg()[0]  # other jobs on the machine skew every figure: say how busy
    _log(f"{kind}: {path.name} (load {load:.1f})")
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} measurement failed (exit {done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["load"] = load
    return result


def ensure_file(rows: int, seed: int) -> Path:
    """The cached input for this size; written under a temporary name so an interrupted
    generation never passes for a complete file."""
    path = OUT / f"master_{rows}_{seed}.csv"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    _log(f"generating {rows:,} rows -> {path.name}")
    began = time.perf_counter()
    generate(partial, rows, seed=seed)
    partial.replace(path)
    _log(f"generated in {time.perf_counter() - began:.1f} s")
    return path


def _warm(path: Path) -> None:
    with path.open("rb") as fh:
        while fh.read(1 << 24):
            pass


def _row(label: str, rows: int, size_mb: float, r: dict[str, Any], base: float) -> str:
    secs = r["seconds"]
    rate = rows / secs if secs > 0 else float("inf")
    return (
        f"| {label:<18} | {rows:>11,} | {size_mb:>8,.0f} | {secs:>8.2f} | {rate:>11,.0f} "
        f"| {r['peak_rss_mb']:>8,.0f} | {secs / base:>6.1f}x | {r.get('load', 0):>5.1f} |"
    )


def bench_size(rows: int, seed: int, keep: bool, profile: bool) -> list[str]:
    path = ensure_file(rows, seed)
    size_mb = path.stat().st_size / 1e6
    _warm(path)
    scan = measure("scan", path)
    if scan["rows"] != rows:
        raise SystemExit(f"raw scan read {scan['rows']} rows of {rows}")
    full = measure("fullscan", path)
    load = measure("load", path)
    floor_db = OUT / f"floor_{rows}_{seed}.duckdb"
    floor_db.unlink(missing_ok=True)
    try:
        floor = measure("floor", path, floor_db)
    finally:
        floor_db.unlink(missing_ok=True)
    db = OUT / f"store_{rows}_{seed}.duckdb"
    for leftover in (db, db.with_name(db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    lines = [
        _row("raw scan count(*)", rows, size_mb, scan, scan["seconds"]),
        _row("raw scan all cols", rows, size_mb, full, scan["seconds"]),
        _row("raw load (table)", rows, size_mb, load, scan["seconds"]),
        _row("floor: legs+calls", rows, size_mb, floor, scan["seconds"]),
    ]
    try:
        first = measure("import", path, db, profile)
        if first["failed"]:
            raise SystemExit(f"import failed: {first['failed']}")
        lines.append(_row("import", rows, size_mb, first, scan["seconds"]))
        again = measure("import", path, db, profile=False)
        lines.append(_row("re-import (same)", rows, size_mb, again, scan["seconds"]))
    finally:
        if not keep:
            for leftover in (db, db.with_name(db.name + ".wal")):
                leftover.unlink(missing_ok=True)
    if again["counts_after"] != first["counts_after"] or again["records_new"] != 0:
        raise SystemExit(
            f"re-import changed the store: {first['counts_after']} -> {again['counts_after']}, "
            f"{again['records_new']} new records"
        )
    lines.append(
        f"|   import kept {first['records_new']:,} records ({first['rejects']:,} rejects) as "
        f"{first['calls']:,} calls, {first['legs']:,} legs; re-import: nothing changed |"
    )
    if profile and "top" in first:
        other = first["seconds"] - first["sql_seconds"]
        lines.append(
            f"\nprofile of the import ({first['statements']} statements, "
            f"{first['sql_seconds']:.1f} s in SQL, {other:.1f} s outside it):"
        )
        lines += [f"  {secs:>7.2f} s  {sql}" for secs, sql in first["top"]]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="callscope import benchmark")
    parser.add_argument("--rows", default="1000000,10000000", help="comma-separated row counts")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--keep", action="store_true", help="keep the imported DuckDB files")
    parser.add_argument("--profile", action="store_true", help="time each importer statement")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args.child, args.path, args.db, args.profile)

    sizes = [int(s.replace("_", "")) for s in args.rows.split(",") if s.strip()]
    print(
        f"callscope import benchmark: DuckDB {duckdb.__version__}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, seed {args.seed}\n"
    )
    header = (
        f"| {'measurement':<18} | {'rows':>11} | {'file MB':>8} | {'seconds':>8} "
        f"| {'rows/s':>11} | {'peak MB':>8} | {'/scan':>7} | {'load':>5} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for rows in sizes:
        for line in bench_size(rows, args.seed, args.keep, args.profile):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
