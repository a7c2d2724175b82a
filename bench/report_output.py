"""Report output benchmark: the `missed` report over a whole year of the 10M-call bench store, as
`callscope report missed --format json|csv` writes it and as `/api/reports/missed` sends it.

bench/reports.py times the metric call; a reader waits for the bytes. Each way of producing
them runs in its own child process (seconds for the metric call and for the output, the child's
peak resident memory, the bytes), next to baselines measured in the same session:

- `*-rows`: the same report written the way it was before Arrow rows, through a million Python
  dicts (`Report.rows`, then json.dumps / csv.writer / FastAPI's JSONResponse);
- `copy-json`, `copy-csv`: DuckDB writing the kept contacts of the period itself (`COPY ... TO`,
  times in UTC): what the engine alone costs for the same rows;
- `--src DIR`: every way again with another copy of the package (e.g. HEAD's:
  `git archive HEAD src | tar -x -C /tmp/base`, then `--src /tmp/base/src`).

    .venv/bin/python bench/report_output.py                 # 10M store, every way
    .venv/bin/python bench/report_output.py --ways cli-json,cli-json-rows --src /tmp/base/src
    # a package whose kept contacts are of another definition version: its own copy of the store
    .venv/bin/python bench/report_output.py --src /tmp/base/src --src-db /tmp/v1/r.duckdb

The store is bench/reports.py's (`bench/out/reports_10000000.duckdb`, built by it with its kept
contacts); its settings are that script's, so the report reads the kept table.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WAYS = (
    "metric",
    "cli-json",
    "cli-json-rows",
    "cli-csv",
    "cli-csv-rows",
    "api-json",
    "api-json-rows",
    "api-csv",
    "api-csv-rows",
    "copy-json",
    "copy-csv",
)
YEAR = (date(2025, 1, 1), date(2025, 12, 31))


def child(db: Path, way: str) -> dict[str, Any]:
    """One way, timed: the metric call, then the output to a temporary file (CLI, COPY) or
    drained chunk by chunk as a server sends it (API)."""
    sys.path.insert(0, str(HERE))
    from callscope.metrics import MetricFilter, missed
    from callscope.store import open_store
    from reports import _settings  # the bench store's settings: its kept contacts are valid

    streaming = importlib.util.find_spec("callscope.metrics.rowtext") is not None
    # Imported before the clock starts: a server or a CLI has them loaded already.
    import fastapi.responses  # noqa: F401

    import callscope.cli.report
    import callscope.web.api  # noqa: F401

    flt = MetricFilter(date_from=YEAR[0], date_to=YEAR[1])
    settings = _settings()
    out = Path(tempfile.mkdtemp(prefix="report-output-")) / f"missed.{way.split('-')[-1]}"
    with open_store(db, read_only=True) as store:
        began = time.perf_counter()
        if way.startswith("copy-"):
            written = _copy(store, settings, way, out)
            metric_s = 0.0
        else:
            report = missed(store, flt, settings)
            metric_s = time.perf_counter() - began
            written = _write(report, way, out, streaming)
        seconds = time.perf_counter() - began
    if out.exists():
        written = out.stat().st_size
        out.unlink()
    out.parent.rmdir()
    return {
        "way": way,
        "arrow": streaming,
        "metric_s": round(metric_s, 2),
        "output_s": round(seconds - metric_s, 2),
        "total_s": round(seconds, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "mb_out": round(written / 1e6, 1),
    }


def _write(report: Any, way: str, out: Path, streaming: bool) -> int:
    from callscope.cli import report as cli

    rows_way = way.endswith("-rows") or not streaming
    if rows_way and getattr(report, "table", None) is not None:  # as before: Python rows
        from callscope.metrics.report import Report

        report = Report(
            report.report,
            report.period,
            report.settings,
            report.rows,
            report.formulas,
            report.extra,
        )
    if way.startswith("cli-"):
        fmt = cli.ReportFormat(way.split("-")[1])
        if hasattr(cli, "write_report"):
            cli.write_report(report, fmt, out)
        elif fmt is cli.ReportFormat.json:
            text = json.dumps(report.as_json(), ensure_ascii=False, indent=1, default=str)
            cli._write_text(text, out)
        else:
            cli._write_csv(report, out)
        return 0
    if way == "metric":
        return 0
    return sum(len(chunk) for chunk in _api_body(report, way.split("-")[1]))


def _api_body(report: Any, fmt: str) -> Any:
    """What the route sends: its streamed pieces, or the one body it renders."""
    from fastapi.encoders import jsonable_encoder
    from fastapi.responses import JSONResponse

    from callscope.web import api
    from callscope.web.export import to_csv

    if getattr(report, "table", None) is not None:
        from callscope.metrics import rowtext

        if fmt == "json":
            head = jsonable_encoder(report.head())
            return rowtext.json_chunks(report, rowtext.API_JSON, head)
        return rowtext.csv_chunks(report.table, api.report_columns(report))
    if fmt == "json":
        return [JSONResponse(jsonable_encoder(report.as_json())).body]
    return [to_csv(api.report_columns(report), report.rows)]


def _copy(store: Any, settings: Any, way: str, out: Path) -> int:
    from callscope.metrics.missed import MISSED_COLUMNS

    lo, hi = YEAR
    cols = ", ".join(MISSED_COLUMNS)
    fmt = way.split("-")[1].upper()
    store.con.execute(
        f"COPY (SELECT {cols} FROM contacts WHERE tenant = '{settings.tenant}'"
        f" AND first_missed_at >= '{lo}'::TIMESTAMP - INTERVAL 3 HOUR"
        f" AND first_missed_at < '{hi}'::TIMESTAMP + INTERVAL 21 HOUR"
        f" ORDER BY first_missed_at DESC, contact_id) TO '{out}' (FORMAT {fmt})"
    )
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=HERE / "out" / "reports_10000000.duckdb")
    parser.add_argument(
        "--ways", default=",".join(WAYS), help="comma-separated: " + ", ".join(WAYS)
    )
    parser.add_argument("--src", type=Path, help="also run every way with the package in DIR")
    parser.add_argument(
        "--src-db", type=Path, help="the store for --src (its kept contacts built by that package)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.db, args.child)))
        return
    if not args.db.exists():
        sys.exit(f"{args.db} is missing: build it with bench/reports.py --calls 10000000")
    sources: list[Path | None] = [None] + ([args.src] if args.src else [])
    print(f"{'way':<15} {'src':<6} {'metric s':>8} {'output s':>8} {'total s':>8} "
          f"{'peak MB':>8} {'MB out':>8} {'load 1m':>7}")  # fmt: skip
    for way in args.ways.split(","):
        for src in sources:
            if src is not None and (way.endswith("-rows") or way.startswith("copy-")):
                continue  # before Arrow rows every way went through Python rows
            env = dict(os.environ)
            if src is not None:
                env["PYTHONPATH"] = f"{src}{os.pathsep}{env.get('PYTHONPATH', '')}"
            db = args.src_db if src is not None and args.src_db else args.db
            cmd = [sys.executable, __file__, "--db", str(db), "--child", way]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{way}: failed\n{done.stderr[-2000:]}")
                continue
            got = json.loads(done.stdout.strip().splitlines()[-1])
            label = "base" if src is not None else "work"
            print(f"{way:<15} {label:<6} {got['metric_s']:>8} {got['output_s']:>8} "
                  f"{got['total_s']:>8} {got['peak_mb']:>8} {got['mb_out']:>8} "
                  f"{os.getloadavg()[0]:>7.2f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
