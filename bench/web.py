"""Response time of every dashboard page and API route on demo data (goal: < 300 ms).

Builds the demo company the way `callscope demo` does (a simulated PBX, its Asterisk logs
imported), then asks each URL through the app in-process: once cold (nothing cached: the metric
layer computes every figure) and then warm (the web layer's result cache, valid until the data
changes), median of `--repeat` runs. Prints a table and writes bench/out/web.json.

    python bench/web.py --profile window-sales --days 28
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from callscope.importer import import_files
from callscope.simulate import load_profile, simulate
from callscope.simulate.compare import import_settings
from callscope.simulate.writers import ASTERISK, write_history
from callscope.store import open_store
from callscope.web import create_app
from callscope.web.access import create_token
from callscope.web.colours import forget
from callscope.web.reports import clear_cache

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
    "/api/reports/summary",
    "/api/reports/agents",
    "/api/calls?limit=50",
    "/api/customers/{number}",
    "/managers?format=xlsx",
    "/load?format=pdf",
)


def build(db: Path, profile: str, days: int, seed: int) -> tuple[int, object]:
    spec = load_profile(profile)
    trace = simulate(spec, date.today() - timedelta(days=days), days, seed)
    settings = import_settings(trace).model_copy(update={"db": db})
    with tempfile.TemporaryDirectory(prefix="callscope-bench-") as work:
        files = [
            p
            for p in write_history(trace, spec, Path(work), ASTERISK)
            if p.name in ("Master.csv", "queue_log", "cel.csv")
        ]
        with open_store(db) as store:
            summary = import_files(store, files, settings=settings)
    return summary.total_calls, settings


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
    parser.add_argument("--out", type=Path, default=Path("bench/out/web.json"))
    args = parser.parse_args()
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
                results = []
                for template in URLS:
                    url = template.replace("{number}", number)
                    clear_cache()
                    forget(store)
                    cold = timed(client, url)
                    warm = statistics.median(timed(client, url) for _ in range(args.repeat))
                    results.append(
                        {"url": template, "cold_ms": round(cold), "warm_ms": round(warm)}
                    )
    print(f"{args.profile}, {args.days} days, {calls} calls; goal < 300 ms")
    print(f"{'url':34} {'cold ms':>8} {'warm ms':>8}")
    for r in results:
        flag = "" if r["warm_ms"] < 300 else "  (over goal)"
        print(f"{r['url']:34} {r['cold_ms']:>8} {r['warm_ms']:>8}{flag}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"profile": args.profile, "days": args.days, "calls": calls, "results": results},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
