"""Fingerprint of an import's output: row count and an order-free content hash per table.

A speed change of the importer must leave every figure unchanged:

    python bench/fingerprint.py bench/out/master_1000000_20240108.csv
    python bench/fingerprint.py FILE --db bench/out/fp.duckdb --keep   # also keep the store

The import runs into a new DuckDB file (default: a temporary one); the output is JSON, one line
per table, so two runs diff cleanly. `imports` is left out (it holds wall-clock times).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

TABLES = (
    "calls", "legs", "raw_asterisk_cdr_v1", "rejects", "key_links", "agent_states",
    "phone_numbers",
)  # fmt: skip


def fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, list[int]]:
    present = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    out: dict[str, list[int]] = {}
    for table in TABLES:
        if table not in present:
            continue
        row = con.execute(
            f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {table} t"
        ).fetchone()
        out[table] = [int(row[0]), int(row[1])] if row else [0, 0]
    return out


def main(argv: list[str] | None = None) -> int:
    from callscope.importer import import_files
    from callscope.settings import Settings
    from callscope.store import open_store

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "fp.duckdb"
        for leftover in (db, db.with_name(db.name + ".wal")):
            leftover.unlink(missing_ok=True)
        store = open_store(db)
        try:
            began = time.perf_counter()
            summary = import_files(store, [args.file], fmt="asterisk-cdr", settings=Settings())
            seconds = time.perf_counter() - began
            if summary.failed:
                raise SystemExit(f"import failed: {summary.failed[0].error}")
            for table, figures in fingerprint(store.con).items():
                print(json.dumps({"table": table, "rows": figures[0], "hash": figures[1]}))
        finally:
            store.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"import {seconds:.2f} s wall, {usage.ru_utime + usage.ru_stime:.2f} s CPU (process),"
        f" peak {usage.ru_maxrss / 1024:.0f} MB",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
