"""Response time of every dashboard page and API route on demo data (goal: < 300 ms).

Builds the demo company the way `callscope demo` does (a simulated PBX, its Asterisk logs
imported), starts the app in-process and runs the start-up warm-up the server runs (timed once),
then asks each URL:
- `first`: the first visit after start-up: what the warm-up computed is cached (the default
  period's reports, the call log's colours), anything else is computed, reusing the SQL the
  warm-up compiled for the same query shapes;
- `other period`: the same page for a period nobody asked for before (custom dates), again
  with no cached result: what a visitor picking dates gets;
- `no SQL cache`: the first visit with the compiled SQL forgotten too (a query shape the
  warm-up never saw: Ibis compiles it);
- `warm`: the median of `--repeat` repeats (the web layer's result cache).
`first` and `other period` are the median of `--samples` visits (each after a fresh warm-up;
each other period a different ten days), so one unlucky moment on a shared machine does not
decide a figure. `--no-live` leaves the live service out of the app (it runs a pass every
second in the same process) to see what it costs the pages. Prints a table and writes
bench/out/web.json.

    python bench/web.py --profile window-sales --days 28
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from callscope.importer import import_files
from callscope.live.service import LiveService
from callscope.metrics import compiled
from callscope.simulate import load_profile, simulate
from callscope.simulate.compare import import_settings
from callscope.simulate.writers import ASTERISK, write_history
from callscope.store import open_store
from callscope.web import create_app
from callscope.web.access import create_token
from callscope.web.colours import forget
from callscope.web.reports import clear_cache
from callscope.web.warm import Warmer

URLS = (
    "/",
    "/?period=month",
    "/managers",
    "/managers/101",
    "/calls",
    "/calls?status=open",
    "/callbacks",
    "/load",
    "/settings",
    "/live",
    "/api/reports/summary",
    "/api/reports/agents",
    "/api/reports/pickup",
    "/api/calls?limit=50",
    "/api/customers/{number}",
    "/managers?format=xlsx",
    "/load?format=pdf",
    "/managers/101?format=pdf",
)


def build(db: Path, profile: str, days: int, seed: int) -> tuple[int, object]:
    spec = load_profile(profile)
    trace = simulate(spec, date.today() - timedelta(days=days), days, seed)
    settings = import_settings(trace)
    # no background warming: it would hold the store while a page is being timed
    quiet = settings.web.model_copy(update={"prewarm": False})
    settings = settings.model_copy(update={"db": db, "web": quiet})
    with tempfile.TemporaryDirectory(prefix="callscope-bench-") as work:
        files = [
            p
            for p in write_history(trace, spec, Path(work), ASTERISK)
            if p.name in ("Master.csv", "queue_log", "cel.csv")
        ]
        with open_store(db) as store:
            summary = import_files(store, files, settings=settings)
    return summary.total_calls, settings


def with_period(url: str, sample: int = 0) -> str:
    """The URL for custom dates no warm-up asked for (pages and reports take from/to)."""
    if url.startswith("/api/customers") or url in ("/settings", "/live"):
        return url
    first = date.today() - timedelta(days=17 + sample)
    dates = f"from={first.isoformat()}&to={(first + timedelta(days=9)).isoformat()}"
    return f"{url}{'&' if '?' in url else '?'}{dates}"


def timed(client: TestClient, url: str) -> float:
    began = time.perf_counter()
    answer = client.get(url)
    elapsed = (time.perf_counter() - began) * 1000
    if answer.status_code != 200:
        sys.exit(f"{url}: HTTP {answer.status_code} {answer.text[:200]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="window-sales")
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--no-live", action="store_true", help="run without the live service")
    parser.add_argument("--out", type=Path, default=Path("bench/out/web.json"))
    args = parser.parse_args()
    if args.no_live:
        LiveService.start = lambda self: None  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory(prefix="callscope-bench-db-") as work:
        db = Path(work) / "demo.duckdb"
        calls, settings = build(db, args.profile, args.days, args.seed)
        with open_store(db) as store:
            token = create_token(store, "bench", role="admin", tenant="default")
            row = store.con.execute(
                "SELECT external_number FROM calls WHERE external_number IS NOT NULL"
                " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
            ).fetchone()
            number = row[0] if row else "+70000000000"
            app = create_app(settings, store)  # type: ignore[arg-type]
            with TestClient(app) as client:
                client.headers["authorization"] = f"Bearer {token}"
                began = time.perf_counter()
                warmed = Warmer(app.state.access, settings).warm_once()  # type: ignore[arg-type]
                warm_up_s = time.perf_counter() - began
                results = []
                for template in URLS:
                    url = template.replace("{number}", number)
                    figures: dict[str, object] = {"url": template}
                    first, other = [], []
                    for sample in range(args.samples):
                        # what the server holds right after start-up: the warm-up's results
                        clear_cache()
                        forget(store)
                        Warmer(app.state.access, settings).warm_once()  # type: ignore[arg-type]
                        first.append(timed(client, url))
                        other.append(timed(client, with_period(url, sample)))
                    figures["first_ms"] = round(statistics.median(first))
                    figures["other_period_ms"] = round(statistics.median(other))
                    clear_cache()
                    forget(store)
                    compiled.CACHE.clear()
                    figures["no_sql_cache_ms"] = round(timed(client, url))
                    figures["warm_ms"] = round(
                        statistics.median(timed(client, url) for _ in range(args.repeat))
                    )
                    results.append(figures)
    load = os.getloadavg()[0]
    print(f"{args.profile}, {args.days} days, {calls} calls; goal < 300 ms; load {load:.1f}")
    print(f"median of {args.samples} samples; live service {'off' if args.no_live else 'on'}")
    print(f"start-up warm-up: {warmed} reports in {warm_up_s:.2f} s")
    print(f"{'url':34} {'first':>7} {'other period':>13} {'no SQL cache':>13} {'warm':>6}  (ms)")
    for r in results:
        worst = max(int(str(r["first_ms"])), int(str(r["other_period_ms"])), int(str(r["warm_ms"])))
        flag = "" if worst < 300 else "  (over goal)"
        print(
            f"{r['url']:34} {r['first_ms']:>7} {r['other_period_ms']:>13} "
            f"{r['no_sql_cache_ms']:>13} {r['warm_ms']:>6}{flag}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "profile": args.profile,
                "days": args.days,
                "calls": calls,
                "load_1min": load,
                "samples": args.samples,
                "live": not args.no_live,
                "warm_up_s": round(warm_up_s, 2),
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
