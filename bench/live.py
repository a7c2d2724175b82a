"""Live intake benchmark: sustained events per second and missed-call notification latency.

`callscope listen` runs as its own process (a DuckDB file, the real HTTP server, the real AMI
client); this process is the load: webhook senders, a replaying AMI server, and the HTTP
receiver the notifications go to (Apprise json://). Goal (issue 6): 2,000 events/s sustained,
p99 under 1 s from the event that makes a call missed to its notification leaving the outbox.

The two cores are shared: the sender is a small keep-alive HTTP/1.1 client on raw sockets with
pre-signed bodies, so that it takes a few percent of a core and the figures are the server's;
its CPU seconds and the server's are reported next to each figure, with the load average.
Each webhook figure is taken twice in the same run: through the FastAPI route alone
(`route`) and with `callscope.live.http.FastIntake` in front (`fast`), the baseline and the
change side by side.

    python bench/live.py                 # everything (about two minutes)
    python bench/live.py --seconds 8 --rate 2000 --skip-ami
    python bench/live.py --seconds 45 --modes fast --skip-ami --trace /tmp/trace  # where the
        # notification time went: waiting, the pass, the report, the delivery (live_trace.py)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
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
from callscope.live.inbox import TABLE as INBOX
from callscope.testing import SHARED_DATA, child_pids

SECRET = "bench-secret"
ARRIVED: dict[str, float] = {}
# `callscope listen` with FastIntake in front of its app (a no-op if listen already has it).
WRAPPED = (
    "import uvicorn; from callscope.live.http import FastIntake; _run = uvicorn.run; "
    "uvicorn.run = lambda app, **kw: _run(FastIntake(app), **kw); "
)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ARRIVED.setdefault(body["title"], time.monotonic())
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def start_listener(
    tmp: Path,
    receiver_port: int,
    fast: bool,
    src: str | None = None,
    trace: Path | None = None,
    live: list[str] | None = None,
) -> tuple[Any, int]:
    """`callscope listen` of this tree, or of the package under `src` (a copy of an older
    tree: the baseline run in the same benchmark); `trace`: a file for bench/live_trace.py;
    `live`: more `[live]` settings, as TOML lines (`assemble_every_s = 0.5`)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = tmp / f"callscope-{port}.toml"
    lines = ['timezone = "Europe/Moscow"', "[live]"]
    live = live or []
    if not any(line.split("=")[0].strip() == "assemble_every_s" for line in live):
        lines.append("assemble_every_s = 0.1")
    lines += live
    lines += ["[live.notify.routes]", f'default = ["json://127.0.0.1:{receiver_port}/hook"]']
    config.write_text("\n".join(lines) + "\n")
    env = {**os.environ, signing.SECRET_ENV: SECRET}
    if src:
        env["PYTHONPATH"] = src
    cli = (WRAPPED if fast else "") + "from callscope.cli import main; main()"
    if trace is not None:
        paths = (src, str(Path(__file__).parent), os.environ.get("PYTHONPATH"))
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        env["LIVE_TRACE_FILE"] = str(trace)
        cli = "import live_trace; " + cli
    db = tmp / f"bench-{port}.duckdb"
    cmd = [sys.executable, "-c", cli, "--config", str(config), "listen", "--db", str(db)]
    cmd += ["--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/live", timeout=1).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("callscope listen did not start")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and of those it started (listen's intake process), from
    /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(c) for c in child_pids(pid))


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


def request(events: list[dict[str, Any]]) -> bytes:
    """One signed keep-alive POST, as bytes on the wire."""
    body = json.dumps(events).encode()
    head = (
        "POST /api/webhooks/events HTTP/1.1\r\nHost: bench\r\n"
        "Content-Type: application/json\r\n"
        f"{signing.HEADER}: {signing.sign(SECRET, body)}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Connection:
    """A keep-alive HTTP/1.1 connection that sends prepared requests one at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, data: bytes) -> None:
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.decode("latin-1"))
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def webhook_load(
    port: int, seconds: float, rate: int, batch: int, conns: int, run_id: int
) -> dict[str, Any]:
    """Offer `rate` events/s of answered calls in `batch`-event requests over `conns` keep-alive
    connections (open loop: a request waits for a free connection, and that wait counts in its
    ack time), and a missed call every 0.5 s on a connection of its own; returns throughput,
    ack latency and the latency of each missed call's notification."""
    # The event stream: each call's four opening events, and its call.ended about a second
    # (`rate` events) later, as a PBX would send them - not all five at once, which over many
    # connections lets an end overtake its answer and turns an answered call into a missed one.
    stream: list[dict[str, Any]] = []
    ends: list[tuple[int, dict[str, Any]]] = []
    n = 0
    while len(stream) < seconds * rate:
        *opening, end = answered_call(run_id * 10_000_000 + n, datetime.now(UTC))
        n += 1
        stream += opening
        ends.append((len(stream) + rate, end))
        while ends and ends[0][0] <= len(stream):
            stream.append(ends.pop(0)[1])
    stream += [end for _, end in ends]
    requests = [
        (request(stream[i : i + batch]), len(stream[i : i + batch]))
        for i in range(0, len(stream), batch)
    ]
    queue: asyncio.Queue[tuple[bytes, int, float] | None] = asyncio.Queue()
    ack_ms: list[float] = []
    done = 0

    async def sender() -> None:
        nonlocal done
        conn = await Connection.open(port)
        while (item := await queue.get()) is not None:
            data, count, offered = item
            await conn.post(data)
            ack_ms.append((time.monotonic() - offered) * 1000)
            done += count
        conn.close()

    missed_at: dict[str, float] = {}

    async def missed_calls(stop: float) -> None:
        conn = await Connection.open(port)
        while time.monotonic() < stop:
            number = f"+7916{run_id % 100:02d}{len(missed_at):05d}"
            at = datetime.now(UTC)
            await conn.post(request([
                {"type": "call.started", "call_id": f"miss-{number}", "direction": "inbound",
                 "from": number, "to": "74951234567", "at": at.isoformat()},
                {"type": "call.ringing", "call_id": f"miss-{number}", "agent": "103",
                 "at": at.isoformat()},
            ]))  # fmt: skip
            end = request([{"type": "call.ended", "call_id": f"miss-{number}",
                            "at": datetime.now(UTC).isoformat()}])  # fmt: skip
            missed_at[f"Missed call from {number}"] = time.monotonic()
            await conn.post(end)
            await asyncio.sleep(0.5)
        conn.close()

    known = set(ARRIVED)
    senders = [asyncio.create_task(sender()) for _ in range(conns)]
    cpu0, start = time.process_time(), time.monotonic()
    misses = asyncio.create_task(missed_calls(start + seconds))
    offered = i = 0
    while i < len(requests):
        now = time.monotonic()
        while i < len(requests) and offered < (now - start) * rate:
            queue.put_nowait((requests[i][0], requests[i][1], now))
            offered += requests[i][1]
            i += 1
        await asyncio.sleep(0.002)
    for _ in senders:
        queue.put_nowait(None)
    await asyncio.gather(*senders, misses)
    elapsed = time.monotonic() - start
    generator_cpu = time.process_time() - cpu0
    await asyncio.sleep(3)
    latency = sorted(ARRIVED[k] - t for k, t in missed_at.items() if k in ARRIVED)
    loaded = {k for k in ARRIVED if k not in known and k.startswith("Missed call from +7926")}
    return {
        "events": done, "seconds": round(elapsed, 2), "events_per_s": round(done / elapsed),
        "batch": batch, "connections": conns, "offered_per_s": rate,
        "ack_p50_ms": round(_pct(ack_ms, 0.5), 1), "ack_p99_ms": round(_pct(ack_ms, 0.99), 1),
        "generator_cpu_s": round(generator_cpu, 2),
        "missed_calls": len(missed_at), "notified": len(latency),
        "notify_p50_s": round(_pct(latency, 0.5), 3), "notify_p99_s": round(_pct(latency, 0.99), 3),
        "notify_max_s": round(max(latency, default=float("nan")), 3),
        "answered_calls_notified": len(loaded),  # must stay 0
        "_sent": missed_at, "_arrived": {k: ARRIVED[k] for k in missed_at if k in ARRIVED},
    }  # fmt: skip


async def warm_up(port: int, number: str) -> float:
    """One missed call before the load, waited for: the figures are those of a service that
    has been running (its first pass compiles the metric queries), not of its first second."""
    conn = await Connection.open(port)
    at = datetime.now(UTC).isoformat()
    cid = f"warm-{number}"
    await conn.post(request([
        {"type": "call.started", "call_id": cid, "direction": "inbound", "from": number,
         "to": "74951234567", "at": at},
        {"type": "call.ringing", "call_id": cid, "agent": "103", "at": at},
        {"type": "call.ended", "call_id": cid, "at": at},
    ]))  # fmt: skip
    conn.close()
    start = time.monotonic()
    while f"Missed call from {number}" not in ARRIVED and time.monotonic() - start < 60:
        await asyncio.sleep(0.05)
    return round(time.monotonic() - start, 2)


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
            while (row := count.execute(f"SELECT count(*) FROM {INBOX}").fetchone()) and row[0]:
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
                row = count.execute(f"SELECT count(*) FROM {INBOX}").fetchone()
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


def listener_runs(tmp: Path, args: argparse.Namespace, receiver_port: int) -> dict[str, Any]:
    """The webhook loads against `callscope listen`, without and with FastIntake (and, with
    --baseline, each of them first against the older tree, alternating `--repeat` times)."""
    results: dict[str, Any] = {}
    run_id = 1
    runs = [(m, None) for m in args.modes.split(",")]
    if args.baseline:
        runs = [(m, src) for m in args.modes.split(",") for src in (args.baseline, None)]
    for n, (mode, src) in enumerate(runs * args.repeat):
        live = None if src else args.live
        trace = Path(args.trace) / f"server-{n}.jsonl" if args.trace else None
        if trace is not None:
            trace.parent.mkdir(parents=True, exist_ok=True)
            trace.unlink(missing_ok=True)
        proc, port = start_listener(tmp, receiver_port, mode == "fast", src, trace, live)
        mode = f"{mode}{'_baseline' if src else ''}_{n // len(runs) + 1}"
        try:
            warm_s = asyncio.run(warm_up(port, f"+7915{n:07d}"))
            loads = [("single", 1, 64), ("batch20", 20, 8)]
            for label, batch, conns in [x for x in loads if args.rate_only in (0, x[1])]:
                run_id += 1
                cpu0 = cpu_seconds(proc.pid)
                row = asyncio.run(webhook_load(port, args.seconds, args.rate, batch, conns, run_id))
                row["server_cpu_s"] = round(cpu_seconds(proc.pid) - cpu0, 2)
                row["load_1min"] = round(os.getloadavg()[0], 2)
                row["first_missed_call_s"] = warm_s
                sent, arrived = row.pop("_sent"), row.pop("_arrived")
                if trace is not None:
                    from live_trace import breakdown

                    wait = 0.1 if src or args.grace is None else args.grace
                    row["trace"] = breakdown(trace, sent, arrived, wait)
                results[f"webhooks_{label}_{mode}"] = row
                print(f"{mode} {label}: {json.dumps(row)}", file=sys.stderr, flush=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--ami-rounds", type=int, default=10)
    parser.add_argument("--skip-ami", action="store_true", help="webhook loads only")
    parser.add_argument("--modes", default="route,fast", help="route, fast or both")
    parser.add_argument("--rate-only", type=int, default=0, help="only this batch size")
    parser.add_argument("--baseline", help="src dir of an older tree to run first, same load")
    parser.add_argument("--repeat", type=int, default=1, help="run the listener loads n times")
    parser.add_argument("--grace", type=float, help="live.late_answer_grace_s (this tree)")
    parser.add_argument(
        "--live", action="append", help="a [live] setting for this tree: 'assemble_every_s = 0.5'"
    )
    parser.add_argument("--trace", help="dir: where each notification's time went (live_trace)")
    args = parser.parse_args()
    if args.grace is not None:  # (a [live] setting like any other, named for the breakdown)
        args.live = [*(args.live or []), f"late_answer_grace_s = {args.grace}"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    results: dict[str, Any] = {"machine": f"{os.cpu_count()} cores", "rate_asked": args.rate}
    with tempfile.TemporaryDirectory() as tmp:
        results.update(listener_runs(Path(tmp), args, server.server_port))
        if not args.skip_ami:
            results["service_no_http"] = service_load(Path(tmp), 4000)
            results["service_no_http"]["load_1min"] = round(os.getloadavg()[0], 2)
            results["ami"] = ami_load(Path(tmp), args.ami_rounds)
            results["ami"]["load_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(results, indent=2))
    server.shutdown()


if __name__ == "__main__":
    main()
