"""Report benchmark: every `callscope report` over 1M and 10M canonical calls.

The goal (bench/README.md): each report answers in under 2 s at 10M calls on a 2-core machine,
so the dashboard stays interactive. The store is generated straight in DuckDB (calls, legs and
agent states as the assembler would write them: `range()` and `hash()` pseudo-random columns),
which takes seconds instead of an import's minutes. Every report runs in its own child process:
its wall time is measured around the metric call alone (the store is already open), and its
peak resident memory (`ru_maxrss`, Python and Ibis included) is that report's alone. Each line also
shows the report against a baseline in the same child: one grouped scan of the period's calls
(`x scan`).

    python bench/reports.py                      # 1M and 10M calls, every report
    python bench/reports.py --calls 1000000 --reports agents,missed
    python bench/reports.py --reports service --by all   # every grouping (default: day,agent)
    python bench/reports.py --compile DB [--config TOML]   # compile cost: first vs later

The store keeps its missed contacts in a table the importer maintains (callscope.metrics.
contacts_table); a generated store gets it from the same function, timed (`kept contacts built
in`: the cost a real import pays once), and its first calls of the day likewise (`first calls
marked in`, callscope.metrics.first_calls). `--computed` makes the contact reports compute their
contacts from the calls instead (what a request whose settings differ from the table's does);
`--src DIR` runs the reports with another copy of the package (e.g. the last commit's, from
`git archive HEAD src | tar -x -C DIR/..`) as a baseline measured in the same session.

`--compile` measures what reusing compiled SQL saves (callscope.metrics.compiled): in one
process, each report of DB runs for one period (first: compiles), again for the same period,
for another period, for all time and for one agent, with the cache off (every run compiles,
the old behaviour) and then on. DB is any store, e.g. `callscope demo --db d.duckdb
--config-out d.toml` (pass that config so its zone and agents apply).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
DAYS = 365
AGENTS = 60
START = "2025-01-01"

CALLS_SQL = """
INSERT INTO calls BY NAME
WITH r AS (
    SELECT i,
           (hash(i, 'dir') % 1000) / 1000.0 AS u_dir,
           (hash(i, 'ans') % 1000) / 1000.0 AS u_ans,
           (hash(i, 'num') % {customers}) AS num,
           (hash(i, 'tod') % 36000) AS tod,
           (hash(i, 'wait') % 90) AS wait,
           30 + (hash(i, 'talk') % 400) AS talk,
           (hash(i, 'agent') % {agents}) AS agent_no,
           (hash(i, 'stage') % 10) AS stage_no,
           (i * {days} // {calls}) AS day
    FROM range({calls}) t(i)
), c AS (
    SELECT *,
           CASE WHEN u_dir < 0.78 THEN 'inbound' WHEN u_dir < 0.95 THEN 'outbound'
                ELSE 'internal' END AS direction,
           TIMESTAMP '{start}' + to_days(day::INTEGER) + to_seconds((5 * 3600 + tod)::BIGINT)
               AS started_at,
           u_ans < 0.86 AS ok
    FROM r
)
SELECT 'c' || i AS call_id, 'default' AS tenant, direction, started_at,
       started_at + to_seconds((wait + CASE WHEN ok THEN talk ELSE 0 END)::BIGINT) AS ended_at,
       CASE WHEN direction = 'internal' THEN NULL ELSE '+7916' || lpad(num::VARCHAR, 7, '0') END
           AS external_number,
       '74950000' || (i % 4) AS line,
       CASE WHEN ok THEN started_at + to_seconds(wait::BIGINT) END AS first_answered_at,
       CASE WHEN ok OR direction = 'outbound' THEN (101 + agent_no)::VARCHAR END AS answered_by,
       wait::DOUBLE AS wait_s,
       CASE WHEN ok THEN talk ELSE 0 END::DOUBLE AS talk_s,
       CASE WHEN ok THEN talk ELSE 0 END::DOUBLE AS max_talk_s,
       CASE WHEN ok THEN 'answered' WHEN direction = 'inbound' THEN 'missed'
            ELSE 'no_answer' END AS outcome,
       CASE WHEN direction = 'outbound' THEN 'external' WHEN ok THEN 'agent'
            WHEN stage_no < 2 THEN 'ivr' WHEN stage_no < 6 THEN 'queue'
            WHEN stage_no < 8 THEN 'ring_group' WHEN stage_no < 9 THEN 'voicemail'
            ELSE 'agent' END AS end_stage,
       CASE WHEN stage_no < 5 THEN 'sales' ELSE 'support' END AS queue,
       CASE WHEN direction = 'inbound' AND NOT ok THEN
            CASE WHEN stage_no = 8 THEN 'voicemail' WHEN stage_no = 4 THEN 'timeout'
                 ELSE 'abandoned' END END AS disposition,
       'bench' AS source
FROM c
"""

# 1-3 agent legs per inbound call; the last leg of an answered call is the one that answered,
# the others were cancelled when it did (ring-all) or rang out before (hunt). Each leg carries
# its call's facts, as the assembler writes them (migration 6).
LEGS_SQL = """
INSERT INTO legs BY NAME
WITH k AS (
    SELECT call_id, tenant, started_at, first_answered_at, talk_s, outcome,
           direction AS call_direction, started_at AS call_started_at,
           first_answered_at AS call_first_answered_at, max_talk_s AS call_max_talk_s,
           1 + hash(call_id, 'legs') % 3 AS n
    FROM calls WHERE direction = 'inbound' AND end_stage <> 'ivr'
), l AS (
    SELECT k.*, g.j FROM k, LATERAL (SELECT unnest(range(k.n::BIGINT)) AS j) g
)
SELECT call_id, tenant, (j + 1)::INTEGER AS leg_no, 'agent' AS destination_kind,
       (101 + hash(call_id, j) % {agents})::VARCHAR AS agent,
       started_at + to_seconds(j * 2) AS ring_started_at,
       CASE WHEN outcome = 'answered' AND j = n - 1 THEN first_answered_at END AS answered_at,
       coalesce(first_answered_at, started_at + to_seconds(20)) AS ended_at,
       20.0 AS ring_s,
       CASE WHEN outcome = 'answered' AND j = n - 1 THEN talk_s ELSE 0 END AS talk_s,
       CASE WHEN outcome = 'answered' AND j = n - 1 THEN 'answered'
            WHEN outcome = 'answered' THEN 'cancelled_answered_elsewhere'
            ELSE 'no_answer' END AS result,
       'bench' AS source,
       call_direction, call_started_at, call_first_answered_at, call_max_talk_s
FROM l
"""

STATES_SQL = """
INSERT INTO agent_states BY NAME
SELECT 'default' AS tenant, (101 + a)::VARCHAR AS agent, 'paused' AS state, 'lunch' AS reason,
       TIMESTAMP '{start}' + to_days(d::INTEGER) + to_seconds((9 * 3600 + 600 * p)::BIGINT)
           AS started_at,
       TIMESTAMP '{start}' + to_days(d::INTEGER) + to_seconds((9 * 3600 + 600 * p + 900)::BIGINT)
           AS ended_at,
       'bench' AS source
FROM range({agents}) x(a), range({days}) y(d), range(2) z(p)
"""


def generate(path: Path, calls: int) -> None:
    """A canonical store with `calls` calls over a year, built by SQL in DuckDB."""
    from callscope.store import open_store

    params = {"calls": calls, "customers": max(calls // 6, 1), "agents": AGENTS,
              "days": DAYS, "start": START}  # fmt: skip
    with open_store(path) as store:
        for sql in (CALLS_SQL, LEGS_SQL, STATES_SQL):
            store.con.execute(sql.format(**params))
        store.con.execute("CHECKPOINT")


def keep_contacts(db: Path) -> float | None:
    """Build the store's kept missed contacts if they are missing or were built under other
    settings (as an import does); seconds taken, None when they were up to date."""
    from callscope.metrics.contacts_table import ensure_contacts
    from callscope.store import open_store

    with open_store(db) as store:
        began = time.perf_counter()
        got = ensure_contacts(store, _settings())
        try:  # the first calls of each customer's day (a baseline package may not mark them)
            from callscope.metrics.first_calls import ensure_first_calls
        except ImportError:
            firsts = None
        else:
            firsts = ensure_first_calls(store, _settings())
            if firsts is not None:
                print(f"first calls marked in {firsts['ms'] / 1000:.1f} s", file=sys.stderr)
        if got is None and firsts is None:
            return None
        store.con.execute("CHECKPOINT")
        return time.perf_counter() - began


def _settings() -> Any:
    from callscope.settings import AgentConfig, Settings

    agents = {str(101 + a): AgentConfig(name=f"Agent {a}", team=("sales", "support")[a % 2])
              for a in range(AGENTS)}  # fmt: skip
    return Settings(timezone="Europe/Moscow", agents=agents)


def child(db: Path, report: str, options: dict[str, Any]) -> dict[str, Any]:
    from callscope.metrics import REPORTS, MetricFilter, compiled
    from callscope.store import open_store

    settings = _settings()
    flt = MetricFilter()
    if "_from" in options:  # a period, as the dashboard asks for one
        flt = MetricFilter(
            date_from=date.fromisoformat(options.pop("_from")),
            date_to=date.fromisoformat(options.pop("_to")),
        )
    compiled.ENABLED = not options.pop("_plain", False)
    if options.pop("_computed", False):
        from callscope.metrics import contacts_table

        contacts_table.usable = lambda scope: False
    warm = options.pop("_warm", False)
    with open_store(db, read_only=True) as store:
        if warm:  # as a running server: the report was asked once before, for another period
            other = MetricFilter(date_from=date(2025, 11, 1), date_to=date(2025, 11, 7))
            REPORTS[report](store, other, settings, **options)
        scan = _baseline_scan(store, flt)
        began = time.perf_counter()
        result = REPORTS[report](store, flt, settings, **options)
        seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"report": report, "options": options, "seconds": round(seconds, 2),
            "scan_s": round(scan, 3), "x_scan": round(seconds / scan, 1),
            "peak_mb": round(peak), "rows": result.row_count}  # fmt: skip


def _baseline_scan(store: Any, flt: Any) -> float:
    """The baseline every report is compared with, in the same process and moment: one
    grouped scan of the period's calls (the least any report over them reads), best of 3."""
    where = ""
    if flt.date_from is not None:
        where = f"WHERE started_at >= '{flt.date_from}' AND started_at < '{flt.date_to}'::DATE + 1"
    sql = f"SELECT direction, count(*), sum(talk_s) FROM calls {where} GROUP BY direction"
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        store.con.execute(sql).fetchall()
        best = min(best, time.perf_counter() - began)
    return best


RUNS: list[tuple[str, dict[str, Any]]] = [
    ("summary", {}),
    ("missed", {}),
    ("agents", {}),
    ("callbacks", {}),
    ("service", {"by": "day"}),
    ("service", {"by": "agent"}),
    ("patience", {}),
    ("endpoints", {}),
    ("load", {}),
]


def _runs(by: str) -> list[tuple[str, dict[str, Any]]]:
    """RUNS with the service groupings `--by` names instead of day and agent."""
    if not by:
        return RUNS
    from callscope.metrics.service import GROUPINGS

    groupings = GROUPINGS if by == "all" else tuple(by.split(","))
    runs = [r for r in RUNS if r[0] != "service"]
    at = next(i for i, r in enumerate(RUNS) if r[0] == "service")
    return runs[:at] + [("service", {"by": g}) for g in groupings] + runs[at:]


def compile_cost(db: Path, config: Path | None, wanted: set[str]) -> list[dict[str, Any]]:
    """Milliseconds per run of every report: cache off (each run compiles) and cache on."""
    from datetime import timedelta

    from callscope.metrics import REPORTS, MetricFilter, compiled
    from callscope.settings import load_settings
    from callscope.store import open_store

    settings = load_settings(config) if config else _settings()
    results: list[dict[str, Any]] = []
    with open_store(db, read_only=True) as store:
        row = store.con.execute("SELECT max(started_at)::DATE FROM calls").fetchone()
        last: date = row[0] if row and row[0] else date.today()
        month = MetricFilter(date_from=last.replace(day=1), date_to=last)
        week = MetricFilter(date_from=last - timedelta(days=6), date_to=last)
        agent = sorted(settings.agents)[:1]
        runs = [("first", month), ("same", month), ("other", week), ("all", MetricFilter()),
                ("agent", MetricFilter(date_from=week.date_from, date_to=last,
                                       agents=tuple(agent)))]  # fmt: skip
        for cached in (False, True):
            compiled.ENABLED = cached
            compiled.CACHE.clear()
            for report, options in RUNS:
                if wanted and report not in wanted:
                    continue
                label = report + "".join(f" --by {v}" for v in options.values())
                got: dict[str, Any] = {"report": label, "cached": cached}
                for name, flt in runs:
                    began = time.perf_counter()
                    REPORTS[report](store, flt, settings, **options)
                    got[name] = round((time.perf_counter() - began) * 1000)
                got["load_1m"] = round(os.getloadavg()[0], 2)
                results.append(got)
                print(f"{'cached' if cached else 'compile':8} {label:<20}"
                      + "".join(f" {k} {got[k]:>5} ms" for k, _ in runs)
                      + f"  load {got['load_1m']}", flush=True)  # fmt: skip
    compiled.ENABLED = True
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", default="1000000,10000000")
    parser.add_argument("--reports", default="", help="comma-separated names (default: all)")
    parser.add_argument(
        "--month", action="store_true", help="filter every report to the last month (Dec 2025)"
    )
    parser.add_argument(
        "--warm", action="store_true", help="run each report once for another period first"
    )
    parser.add_argument(
        "--plain", action="store_true", help="no compiled-SQL reuse (the old behaviour)"
    )
    parser.add_argument(
        "--compile", metavar="DB", type=Path, help="compile cost on this store: first vs later"
    )
    parser.add_argument(
        "--computed", action="store_true", help="contacts computed from calls, not the table"
    )
    parser.add_argument("--src", type=Path, help="run the reports with the package in DIR")
    parser.add_argument("--dir", type=Path, default=OUT, help="where the stores are")
    parser.add_argument(
        "--by", default="", help="service groupings, comma-separated (default: day,agent; all)"
    )
    parser.add_argument("--config", type=Path, help="settings for --compile (e.g. the demo's)")
    parser.add_argument("--child", nargs=3, metavar=("DB", "REPORT", "OPTIONS"),
                        help=argparse.SUPPRESS)  # fmt: skip
    parser.add_argument("--keep", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.keep:
        print(json.dumps(keep_contacts(args.keep)))
        return
    if args.child:
        db, report, options = args.child
        print(json.dumps(child(Path(db), report, json.loads(options))))
        return
    wanted = set(filter(None, args.reports.split(",")))
    OUT.mkdir(exist_ok=True)
    if args.compile:
        got = compile_cost(args.compile, args.config, wanted)
        (OUT / "reports_compile.json").write_text(json.dumps(got, indent=1) + "\n")
        return
    results: list[dict[str, Any]] = []
    for calls in (int(n) for n in args.calls.split(",")):
        db = args.dir / f"reports_{calls}.duckdb"
        if not db.exists():
            began = time.perf_counter()
            generate(db, calls)
            print(f"generated {calls:,} calls in {time.perf_counter() - began:.0f} s",
                  file=sys.stderr)  # fmt: skip
        env = os.environ.copy()
        if args.src:
            env["PYTHONPATH"] = str(args.src.resolve())
        # The package under test opens the store (and migrates it, if it is the newer one):
        # a baseline's package must find the store at its own schema.
        kept = subprocess.run(
            [sys.executable, __file__, "--keep", str(db)],
            check=True, capture_output=True, text=True, env=env,
        )  # fmt: skip
        built = json.loads(kept.stdout.strip().splitlines()[-1])
        sys.stderr.writelines(x for x in kept.stderr.splitlines(True) if x.startswith("first"))
        if built is not None:
            print(f"kept contacts built in {built:.1f} s ({calls:,} calls)"
                  f"  load {os.getloadavg()[0]:.2f}", file=sys.stderr)  # fmt: skip
        for report, base in _runs(args.by):
            if wanted and report not in wanted:
                continue
            options = dict(base)
            if args.month:
                options.update(_from="2025-12-01", _to="2025-12-31")
            if args.warm:
                options.update(_warm=True)
            if args.plain:
                options.update(_plain=True)
            if args.computed:
                options.update(_computed=True)
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(db), report, json.dumps(options)],
                check=True, capture_output=True, text=True, env=env,
            )  # fmt: skip
            row = {"calls": calls, "period": "2025-12" if args.month else "all",
                   "warm": args.warm, "plain": args.plain, "computed": args.computed,
                   "src": str(args.src or ""),
                   "load_1m": round(os.getloadavg()[0], 2),
                   **json.loads(done.stdout.strip().splitlines()[-1])}  # fmt: skip
            results.append(row)
            label = report + "".join(f" --by {v}" for v in base.values())
            label += " (Dec)" if args.month else ""
            label += " (computed)" if args.computed else ""
            label += " (src)" if args.src else ""
            print(f"{calls:>10,}  {label:<22} {row['seconds']:>6.2f} s  {row['x_scan']:>6}x scan"
                  f" ({row['scan_s']:.3f} s)  {row['peak_mb']:>6} MB  load {row['load_1m']}",
                  flush=True)  # fmt: skip
    name = "reports_month.json" if args.month else "reports.json"
    if args.warm or args.plain or args.computed or args.src:
        name = name.replace(".json", f"{'_warm' if args.warm else ''}"
                            f"{'_plain' if args.plain else ''}"
                            f"{'_computed' if args.computed else ''}"
                            f"{'_src' if args.src else ''}.json")  # fmt: skip
    (OUT / name).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
