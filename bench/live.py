"""Live intake benchmark: sustained events per second and missed-call notification latency.

`callscope listen` runs as its own process (a DuckDB file, the real HTTP server, the real AMI
client); this process is the load: webhook senders, a replaying AMI server, and the HTTP
receiver the notifications go to (Apprise json://). Goal (issue 6): 2,000 events/s sustained,
p99 under 1 s from the event that makes a call missed to its notification leaving the outbox.

    python bench/live.py                 # all three measurements
    python bench/live.py --seconds 20 --rate 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from callscope.live import signing
from callscope.live.ami import ReplayServer
from callscope.live.ami_text import read_events
from callscope.testing import SHARED_DATA

SECRET = "bench-secret"
ARRIVED: dict[str, float] = {}


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ARRIVED.setdefault(body["title"], time.monotonic())
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def start_listener(tmp: Path, receiver_port: int) -> tuple[Any, int]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = tmp / "callscope.toml"
    lines = ['timezone = "Europe/Moscow"', "[live]", "assemble_every_s = 0.1"]
    lines += ["[live.notify.routes]", f'default = ["json://127.0.0.1:{receiver_port}/hook"]']
    config.write_text("\n".join(lines) + "\n")
    env = {**os.environ, signing.SECRET_ENV: SECRET}
    cli = "from callscope.cli import main; main()"
    db = str(tmp / "bench.duckdb")
    cmd = [sys.executable, "-c", cli, "--config", str(config), "listen", "--db", db]
    cmd += ["--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(400):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/live", timeout=1).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("callscope listen did not start")


def answered_call(n: int, at: datetime) -> list[dict[str, Any]]:
    """Five events of an answered queue call (the load)."""
    cid, t = f"load-{n}", at
    return [
        {"type": "call.started", "call_id": cid, "at": t.isoformat(), "direction": "inbound",
         "from": f"+7926{n % 10_000_000:07d}", "to": "74951234567", "queue": "sales"},
        {"type": "call.ringing", "call_id": cid, "agent": "101", "queue": "sales",
         "at": (t + timedelta(seconds=1)).isoformat()},
        {"type": "call.ringing", "call_id": cid, "agent": "102", "queue": "sales",
         "at": (t + timedelta(seconds=1)).isoformat()},
        {"type": "call.answered", "call_id": cid, "agent": "101",
         "at": (t + timedelta(seconds=4)).isoformat()},
        {"type": "call.ended", "call_id": cid, "at": (t + timedelta(seconds=60)).isoformat()},
    ]  # fmt: skip


async def webhook_load(
    port: int, seconds: float, rate: int, batch: int, run_id: int
) -> dict[str, Any]:
    """Post answered calls at `rate` events/s in `batch`-event requests, a missed call every
    0.5 s; returns throughput and the latency of each missed call's notification."""
    url = f"http://127.0.0.1:{port}/api/webhooks/events"
    sent, n, ack_ms, missed_at = 0, 0, [], {}
    start = time.monotonic()
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def post(events: list[dict[str, Any]]) -> None:
            body = json.dumps(events).encode()
            t0 = time.monotonic()
            r = await client.post(url, content=body,
                                  headers={signing.HEADER: signing.sign(SECRET, body)})  # fmt: skip
            r.raise_for_status()
            ack_ms.append((time.monotonic() - t0) * 1000)

        pending: set[asyncio.Task[None]] = set()
        next_missed = start
        while (now := time.monotonic()) - start < seconds:
            target = int((now - start) * rate)
            while sent < target:
                events: list[dict[str, Any]] = []
                while len(events) < batch:
                    events += answered_call(n, datetime.now(UTC))
                    n += 1
                sent += len(events)
                task = asyncio.create_task(post(events))
                pending.add(task)
                task.add_done_callback(pending.discard)
            if now >= next_missed:
                number = f"+7916{run_id % 100:02d}{len(missed_at):05d}"
                at = datetime.now(UTC)
                missed = [
                    {"type": "call.started", "call_id": f"miss-{number}", "direction": "inbound",
                     "from": number, "to": "74951234567", "at": at.isoformat()},
                    {"type": "call.ringing", "call_id": f"miss-{number}", "agent": "103",
                     "at": at.isoformat()},
                ]  # fmt: skip
                await post(missed)
                end = [{"type": "call.ended", "call_id": f"miss-{number}",
                        "at": datetime.now(UTC).isoformat()}]  # fmt: skip
                missed_at[f"Missed call from {number}"] = time.monotonic()
                await post(end)
                next_missed += 0.5
            await asyncio.sleep(0.005)
        await asyncio.gather(*pending)
    elapsed = time.monotonic() - start
    await asyncio.sleep(3)
    latency = sorted(ARRIVED[k] - t for k, t in missed_at.items() if k in ARRIVED)
    return {
        "events": sent, "seconds": round(elapsed, 2), "events_per_s": round(sent / elapsed),
        "batch": batch, "ack_p50_ms": round(statistics.median(ack_ms), 1),
        "ack_p99_ms": round(_pct(ack_ms, 0.99), 1),
        "missed_calls": len(missed_at), "notified": len(latency),
        "notify_p50_s": round(_pct(latency, 0.5), 3), "notify_p99_s": round(_pct(latency, 0.99), 3),
    }  # fmt: skip


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ami_rounds(rounds: int) -> list[dict[str, str]]:
    """The asterisk-real session `rounds` times, ids and times shifted so every round is new."""
    base = read_events(SHARED_DATA / "pbx-samples" / "asterisk-real" / "ami-events.txt")
    out: list[dict[str, str]] = []
    for r in range(rounds):
        for e in base:
            copy = dict(e)
            for key in ("Uniqueid", "Linkedid", "DestUniqueid", "DestLinkedid"):
                if key in copy:
                    copy[key] = f"r{r}-{copy[key]}"
            if "Timestamp" in copy:
                copy["Timestamp"] = f"{float(copy['Timestamp']) + r * 600:.6f}"
            out.append(copy)
    return out


def service_load(tmp: Path, calls: int) -> dict[str, Any]:
    """The generic-event intake without HTTP (validation, durable group commit, board, then
    the assembly catching up): what the live service itself sustains on this machine."""
    from callscope.live.events import parse_events
    from callscope.live.outbox import FakeSender
    from callscope.live.service import LiveService
    from callscope.settings import Settings
    from callscope.store import open_store

    bodies = [
        json.dumps([e for k in range(4) for e in answered_call(n * 4 + k, datetime.now(UTC))])
        for n in range(calls // 4)
    ]

    async def run() -> dict[str, Any]:
        with open_store(tmp / "service.duckdb") as store:
            service = LiveService(store, Settings(), FakeSender())
            service.start()
            gate = asyncio.Semaphore(16)

            async def one(body: str) -> None:
                async with gate:
                    await service.accept_generic(parse_events(body.encode()))

            start = time.monotonic()
            await asyncio.gather(*(one(b) for b in bodies))
            accepted = time.monotonic() - start
            count = store.con.cursor()
            while (row := count.execute("SELECT count(*) FROM live_inbox").fetchone()) and row[0]:
                await asyncio.sleep(0.05)
            assembled = time.monotonic() - start
            await service.stop()
        events = len(bodies) * 20
        return {"events": events, "events_per_s": round(events / accepted),
                "assembled_after_s": round(assembled, 2)}  # fmt: skip

    return asyncio.run(run())


def ami_load(tmp: Path, rounds: int) -> dict[str, Any]:
    """The real AMI client (in this process, with the live service and its background loop)
    reading a replay server at full speed; events/s until every event is durable."""
    from callscope.live.ami import make_client
    from callscope.live.outbox import FakeSender
    from callscope.live.service import LiveService
    from callscope.settings import Settings
    from callscope.store import open_store

    events = ami_rounds(rounds)
    distinct = len({json.dumps(e, sort_keys=True) for e in events})  # repeats are kept once

    async def run() -> dict[str, Any]:
        server = ReplayServer(events, SECRET)
        await server.start()
        settings = Settings.model_validate(
            {"db": tmp / "ami.duckdb", "live": {"ami_port": server.port, "assemble_every_s": 0.1}}
        )
        with open_store(settings.db) as store:
            service = LiveService(store, settings, FakeSender())
            service.start()
            handled = 0

            async def handle(event: dict[str, str]) -> None:
                nonlocal handled
                await service.accept_ami(event)  # returns once the event is committed
                handled += 1

            client = make_client(settings, handle, secret=SECRET)
            start = time.monotonic()
            client.connect()
            while handled < len(events) and time.monotonic() - start < 300:
                await asyncio.sleep(0.05)
            elapsed = time.monotonic() - start
            count = service.store.con.cursor()
            while time.monotonic() - start < 300:  # until the assembly has caught up
                row = count.execute("SELECT count(*) FROM live_inbox").fetchone()
                if row and row[0] == 0:
                    break
                await asyncio.sleep(0.05)
            drained = time.monotonic() - start
            client.close()
            await asyncio.sleep(1)
            await service.stop()
            calls = store.con.execute("SELECT count(*) FROM calls").fetchone()
        await server.stop()
        return {"events": len(events), "distinct": distinct, "seconds": round(elapsed, 2),
                "events_per_s": round(len(events) / elapsed),
                "assembled_after_s": round(drained, 2),
                "calls_assembled": calls[0] if calls else 0}  # fmt: skip

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--ami-rounds", type=int, default=10)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    results: dict[str, Any] = {"machine": f"{os.cpu_count()} cores", "rate_asked": args.rate}
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_listener(Path(tmp), server.server_port)
        try:
            results["webhooks"] = asyncio.run(
                webhook_load(port, args.seconds, args.rate, args.batch, 1)
            )
            results["webhooks_single"] = asyncio.run(webhook_load(port, 5, 500, 1, 2))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
        results["service_no_http"] = service_load(Path(tmp), 4000)
        results["ami"] = ami_load(Path(tmp), args.ami_rounds)
    print(json.dumps(results, indent=2))
    server.shutdown()


if __name__ == "__main__":
    main()
