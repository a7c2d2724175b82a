"""`callscope listen` takes generic webhooks in a process of its own (`live.front`): the same
answers as before (200 only once stored, 401, 422), the rest of its HTTP passed through to the
store process, and no intake process left behind when the store process stops or is killed.
Below that, the relay: many requests share one message, and a store process that fails or
goes away makes the intake answer 503 (nothing acknowledged that is not kept)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import HTTPException

from callscope.live import signing
from callscope.live.adapters import zadarma_signature_text
from callscope.live.events import parse_events
from callscope.live.front import RelayIntake
from callscope.live.inbox import TABLE as INBOX
from callscope.live.inbox import attach_inbox
from callscope.live.relay import RelayClient, RelayClosedError, RelayServer
from callscope.settings import Settings
from callscope.store import open_store
from callscope.testing import child_pids
from live_support import run
from test_live_restart import SECRET, Listener


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _call(cid: str, number: str) -> list[dict[str, object]]:
    return [
        {"type": "call.started", "call_id": cid, "at": "2026-11-24T10:00:00Z",
         "direction": "inbound", "from": number, "to": "74951234567"},
        {"type": "call.ended", "call_id": cid, "at": "2026-11-24T10:00:09Z"},
    ]  # fmt: skip


def test_listen_answers_through_its_intake_process_as_before(tmp_path: Path) -> None:
    listener = Listener(tmp_path)
    listener.start()
    try:
        assert listener.proc is not None
        (front,) = child_pids(listener.proc.pid)
        assert listener.post(_call("c1", "+79161234567")).status_code == 200
        assert listener.post(_call("c1", "+79161234567")).status_code == 200  # a repeat
        body = json.dumps(_call("c2", "+79161234568")).encode()
        url = f"http://127.0.0.1:{listener.port}/api/webhooks/events"
        forged = httpx.post(url, content=body, headers={signing.HEADER: "sha256=00"})
        assert forged.status_code == 401
        bad = json.dumps([{"type": "call.started", "call_id": "c3"}]).encode()
        refused = httpx.post(url, content=bad, headers={signing.HEADER: signing.sign(SECRET, bad)})
        assert refused.status_code == 422
        assert refused.json()["detail"] == "event 0: at: Field required"
        # Everything else is the store process's: the board, and a vendor's webhook.
        board = httpx.get(f"http://127.0.0.1:{listener.port}/api/live", timeout=5)
        assert board.status_code == 200 and "agents" in board.json()
        form = {"event": "NOTIFY_START", "call_start": "2026-11-24 13:00:00",
                "pbx_call_id": "in_z1", "caller_id": "79161234569", "called_did": "74951234567"}  # fmt: skip
        zadarma = httpx.post(
            f"http://127.0.0.1:{listener.port}/api/webhooks/zadarma", content=urlencode(form),
            headers={"Signature": signing.zadarma_signature(SECRET, zadarma_signature_text(form)),
                     "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        assert zadarma.status_code == 200
    finally:
        listener.stop()
    assert not _alive(front)  # stopped with the store process
    with open_store(listener.db) as store:
        attach_inbox(store)
        rows = store.con.execute(
            "SELECT payload ->> 'call_id', count(*) FROM ("
            f" SELECT payload FROM {INBOX} UNION ALL"
            " SELECT json_object('call_id', call_id) FROM raw_webhook_events_v1)"
            " GROUP BY ALL ORDER BY 1"
        ).fetchall()
    assert rows == [("c1", 2), ("in_z1", 1)]  # c1 once (two events), nothing of c2 or c3


def test_no_intake_process_outlives_a_killed_listen(tmp_path: Path) -> None:
    listener = Listener(tmp_path)
    listener.start()
    assert listener.proc is not None
    (front,) = child_pids(listener.proc.pid)
    listener.kill()
    deadline = time.monotonic() + 10
    while _alive(front) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(front)
    listener.start()  # the port is free again
    try:
        assert listener.post(_call("c9", "+79161234570")).status_code == 200
    finally:
        listener.stop()


def test_listen_stops_when_its_port_is_taken(tmp_path: Path) -> None:
    listener = Listener(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", listener.port))
        taken.listen()
        env = {**os.environ, signing.SECRET_ENV: SECRET}
        done = subprocess.run(
            [sys.executable, "-c", "from callscope.cli import main; main()", "--config",
             str(listener.config), "listen", "--db", str(listener.db), "--port", str(listener.port)],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode != 0
    assert "address already in use" in done.stderr
    assert f"the intake process for 127.0.0.1:{listener.port} stopped" in done.stderr


def test_listen_without_an_intake_process(tmp_path: Path) -> None:
    listener = Listener(tmp_path, live=["intake_process = false"])
    listener.start()
    try:
        assert listener.proc is not None
        assert child_pids(listener.proc.pid) == []
        assert listener.post(_call("c1", "+79161234567")).status_code == 200
    finally:
        listener.stop()


def test_requests_waiting_for_a_commit_share_the_next_message(tmp_path: Path) -> None:
    kept: list[list[str]] = []

    async def go() -> int:
        release = asyncio.Event()

        async def keep(texts: list[str]) -> None:
            kept.append(texts)
            await release.wait()  # the first commit is slow: the others pile up meanwhile

        server = RelayServer(tmp_path / "relay.sock", keep)
        await server.start()
        client = RelayClient(tmp_path / "relay.sock")
        await client.connect()
        sends = [asyncio.create_task(client.keep(["e0"]))]
        while not kept:
            await asyncio.sleep(0.01)
        sends += [asyncio.create_task(client.keep([f"e{i}"])) for i in range(1, 50)]
        await asyncio.sleep(0.1)
        release.set()
        await asyncio.gather(*sends)
        await client.close()
        await server.close()
        return len(kept)

    messages = run(go)
    assert messages == 2
    assert kept == [["e0"], [f"e{i}" for i in range(1, 50)]]


def test_a_failed_or_lost_store_process_is_a_503(tmp_path: Path) -> None:
    events = parse_events(json.dumps(_call("c1", "+79161234567")).encode())

    async def go() -> tuple[HTTPException, HTTPException, bool]:
        async def keep(texts: list[str]) -> None:
            raise OSError("disk full")

        server = RelayServer(tmp_path / "relay.sock", keep)
        await server.start()
        client = RelayClient(tmp_path / "relay.sock")
        await client.connect()
        intake = RelayIntake(Settings(), client)
        with pytest.raises(HTTPException) as failed:
            await intake.accept_generic(events)
        await server.close()  # the store process stops: the connection closes
        with pytest.raises(HTTPException) as lost:
            await intake.accept_generic(events)
        with pytest.raises(RelayClosedError):
            await client.keep(["later"])
        return failed.value, lost.value, client.closed.is_set()

    failed, lost, closed = run(go)
    assert failed.status_code == 503 and "OSError: disk full" in str(failed.detail)
    assert lost.status_code == 503 and closed


def test_a_passed_through_stream_ends_when_its_client_leaves(tmp_path: Path) -> None:
    """The board's SSE stream, passed through the intake process, is closed on the store
    process's side as soon as the browser leaves, not at the stream's next heartbeat (15 s):
    a dashboard reloaded all day must not pile up connections there."""
    import uvicorn
    from fastapi import FastAPI

    from callscope.live.front import Passthrough
    from callscope.live.http import router
    from callscope.live.outbox import FakeSender
    from callscope.live.service import LiveService

    settings = Settings()
    http_socket = tmp_path / "http.sock"

    async def scenario() -> tuple[int, int, float]:
        with open_store(None) as store:
            service = LiveService(store, settings, FakeSender())
            web = FastAPI()
            web.include_router(router)
            web.state.live = service
            # (a stream left open must not hold the test up at shutdown either)
            quick = {"log_level": "warning", "timeout_graceful_shutdown": 1}
            inner = uvicorn.Server(uvicorn.Config(web, uds=str(http_socket), **quick))
            front_app = Passthrough(
                RelayIntake(settings, RelayClient(tmp_path / "relay.sock")), http_socket
            )
            front = uvicorn.Server(uvicorn.Config(front_app, host="127.0.0.1", port=0, **quick))
            tasks = [asyncio.create_task(inner.serve()), asyncio.create_task(front.serve())]
            while not (inner.started and front.started):
                await asyncio.sleep(0.02)
            port = front.servers[0].sockets[0].getsockname()[1]
            try:
                async with (
                    httpx.AsyncClient() as client,
                    client.stream("GET", f"http://127.0.0.1:{port}/api/live/stream") as answer,
                ):
                    async for line in answer.aiter_lines():
                        if line.startswith("event: board"):
                            break
                    open_then = len(inner.server_state.connections)
                left = time.monotonic()
                while inner.server_state.connections and time.monotonic() - left < 10:
                    await asyncio.sleep(0.05)
                return open_then, len(inner.server_state.connections), time.monotonic() - left
            finally:
                inner.should_exit = front.should_exit = True
                await asyncio.gather(*tasks)
                await front_app.client.aclose()
                service.close()

    open_then, open_after, took = run(scenario)
    assert open_then == 1
    assert open_after == 0
    assert took < 5  # the heartbeat would have come after 15 s
