"""kill -9 in the middle: `callscope listen` runs as its own process and is killed without
warning. Every event it acknowledged is in the store after the restart, and every missed-call
notification arrives, each under its own Idempotency-Key (a copy, if the kill fell between a
send and its commit, carries the same key, so the receiver drops it)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from callscope.live import signing
from callscope.live.inbox import TABLE as INBOX
from callscope.live.inbox import attach_inbox
from callscope.store import open_store

SECRET = "restart-test-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Listener:
    def __init__(
        self, tmp: Path, routes: dict[str, list[str]] | None = None, live: list[str] | None = None
    ) -> None:
        self.db = tmp / "live.duckdb"
        self.config = tmp / "callscope.toml"
        lines = ['timezone = "Europe/Moscow"', "[live]", "assemble_every_s = 0.1", *(live or [])]
        if routes:
            lines += ["[live.notify.routes]"] + [
                f"{k} = {json.dumps(v)}" for k, v in routes.items()
            ]
        self.config.write_text("\n".join(lines) + "\n")
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, signing.SECRET_ENV: SECRET}
        code = "from callscope.cli import main; main()"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, "--config", str(self.config), "listen",
             "--db", str(self.db), "--port", str(self.port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(200):
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{self.port}/api/live", timeout=1).status_code
                    == 200
                ):
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        pytest.fail("callscope listen did not start")

    def post(self, events: Sequence[Mapping[str, object]]) -> httpx.Response:
        body = json.dumps(events).encode()
        return httpx.post(
            f"http://127.0.0.1:{self.port}/api/webhooks/events", content=body, timeout=5,
            headers={signing.HEADER: signing.sign(SECRET, body)},
        )  # fmt: skip

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    item = Listener(tmp_path)
    yield item
    item.stop()


def test_every_acknowledged_event_survives_kill_9(listener: Listener) -> None:
    listener.start()
    stream = f"http://127.0.0.1:{listener.port}/api/live/stream"
    with httpx.stream("GET", stream, timeout=5) as sse:  # the board's SSE feed answers first
        first = next(sse.iter_lines())
    assert first == "event: board"
    acked: list[str] = []
    now = datetime.now(UTC)
    killer = threading.Timer(1.0, listener.kill)
    killer.start()
    for batch in range(10_000):
        events = [
            {"type": "agent.state", "agent": str(100 + i), "state": "paused", "reason": "lunch",
             "event_id": f"b{batch}-{i}", "at": (now + timedelta(seconds=batch)).isoformat()}
            for i in range(10)
        ]  # fmt: skip
        try:
            response = listener.post(events)
        except httpx.HTTPError:
            break
        if response.status_code == 503:  # the intake process outlived the store process
            break  # for a moment: not acknowledged, the sender sends them again
        assert response.status_code == 200
        acked += [str(e["event_id"]) for e in events]
    killer.join()
    assert len(acked) >= 10
    with open_store(listener.db) as store:
        attach_inbox(store)  # a kill -9 loses nothing acknowledged: every event is in one of them
        kept = {
            r[0]
            for r in store.con.execute(
                f"SELECT payload ->> 'event_id' FROM {INBOX} UNION ALL "
                "SELECT payload ->> 'event_id' FROM raw_webhook_events_v1"
            ).fetchall()
        }
    assert set(acked) <= kept


class _SlowReceiver(BaseHTTPRequestHandler):
    got: list[tuple[str, str]] = []  # noqa: RUF012

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(0.05)
        _SlowReceiver.got.append((self.headers.get("Idempotency-Key", ""), body["title"]))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_notifications_arrive_once_across_kill_9(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _SlowReceiver.got = []
    url = f"json://127.0.0.1:{server.server_port}/hook"
    listener = Listener(tmp_path, {"default": [url]})
    try:
        listener.start()
        start = datetime.now(UTC) - timedelta(minutes=2)
        numbers = [f"+7916{1000000 + i}" for i in range(20)]
        for i, number in enumerate(numbers):
            at = start + timedelta(seconds=i)
            response = listener.post([
                {"type": "call.started", "call_id": f"m{i}", "at": at.isoformat(),
                 "direction": "inbound", "from": number, "to": "74951234567"},
                {"type": "call.ringing", "call_id": f"m{i}", "agent": "101",
                 "at": (at + timedelta(seconds=1)).isoformat()},
                {"type": "call.ended", "call_id": f"m{i}", "at": (at + timedelta(seconds=20)).isoformat()},
            ])  # fmt: skip
            assert response.status_code == 200
        for _ in range(400):
            if len(_SlowReceiver.got) >= 5:
                break
            time.sleep(0.02)
        listener.kill()
        delivered_before = len(_SlowReceiver.got)
        listener.start()
        deadline = time.monotonic() + 120  # generous: CI shares two cores with other tests
        while time.monotonic() < deadline:
            if len({k for k, _ in _SlowReceiver.got}) >= len(numbers):
                break
            time.sleep(0.05)
        listener.stop()
    finally:
        server.shutdown()
        server.server_close()
    keys = [k for k, _ in _SlowReceiver.got]
    assert 5 <= delivered_before < len(numbers)
    assert len(set(keys)) == len(numbers) and all(k.startswith("missed:") for k in keys)
    assert {t for _, t in _SlowReceiver.got} == {f"Missed call from {n}" for n in numbers}
    assert len(keys) - len(set(keys)) <= 1  # at most the one in flight at the kill, same key
