"""The intake process of `callscope listen` (`live.intake_process`): it owns the public port.

Generic webhooks (`POST /api/webhooks/events`) are checked here as in the store process
(`http.intake_events`: tenant, HMAC, validation, the same 4xx) and their events are handed to
the store process over `relay`; the answer is 200 only once they are committed there, and 503
if the store process went away before. Every other request (the board, its stream, the vendor
webhooks) is passed to the store process's own HTTP server on a private Unix socket.

The process lives as long as its store process: it stops when the relay closes or its parent
dies, and `callscope listen` starts a new one with itself (see `FrontProcess`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from starlette.types import Message, Receive, Scope, Send

from callscope.live import signing
from callscope.live.events import LiveEvent
from callscope.live.relay import RelayClient, RelayClosedError
from callscope.settings import Settings

if TYPE_CHECKING:
    import httpx

READY = b"callscope-intake-ready"
# Headers that belong to one connection, not to the request or answer passed on.
_HOP = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"upgrade", b"host"})


@dataclass
class Sockets:
    """Where the store process listens: the relay and its HTTP server (Unix sockets)."""

    relay: Path
    http: Path


class RelayIntake:
    """The `http.Intake` of the intake process: checked events go over the relay."""

    def __init__(self, settings: Settings, relay: RelayClient) -> None:
        self.settings = settings
        self.relay = relay
        self.secrets = signing.Secrets(settings)

    async def accept_generic(self, events: list[LiveEvent]) -> int:
        from fastapi import HTTPException

        try:
            await self.relay.keep([e.to_json() for e in events])
        except (RelayClosedError, RuntimeError) as exc:
            raise HTTPException(503, f"events not stored, send them again: {exc}") from None
        return len(events)


class Passthrough:
    """An ASGI app that sends every request on to the store process's HTTP server and streams
    its answer back (the board's server-sent events included)."""

    def __init__(self, intake: RelayIntake, http_socket: Path) -> None:
        import httpx

        self.state = SimpleNamespace(live=intake)  # (read by FastIntake)
        self.client = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=str(http_socket)),
            base_url="http://callscope",
            timeout=httpx.Timeout(30.0, read=None),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        import httpx

        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP]
        query = scope.get("query_string", b"").decode("latin-1")
        request = self.client.build_request(
            scope["method"], scope["path"] + (f"?{query}" if query else ""),
            headers=headers, content=body,
        )  # fmt: skip
        try:
            answer = await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            await _plain(send, 503, f"callscope is starting or stopping: {exc}")
            return
        try:
            await send({
                "type": "http.response.start", "status": answer.status_code,
                "headers": [(k, v) for k, v in answer.headers.raw if k.lower() not in _HOP],
            })  # fmt: skip
            # A stream (the board's) ends when the client leaves, not at its next heartbeat.
            pump = asyncio.create_task(_pump(answer, send))
            gone = asyncio.create_task(_disconnected(receive))
            await asyncio.wait({pump, gone}, return_when=asyncio.FIRST_COMPLETED)
            gone.cancel()
            if not pump.done():
                pump.cancel()
            elif pump.exception() is None:
                await send({"type": "http.response.body", "body": b""})
        finally:
            await answer.aclose()


async def _pump(answer: httpx.Response, send: Send) -> None:
    async for chunk in answer.aiter_raw():
        await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _plain(send: Send, status: int, text: str) -> None:
    data = json.dumps({"detail": text}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})  # fmt: skip
    await send({"type": "http.response.body", "body": data})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _die_with_parent() -> None:
    """Linux: the kernel stops this process when its parent dies (kill -9 included), so the
    port is free for the next `callscope listen` at once."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


async def serve(settings: Settings, host: str, port: int, sockets: Sockets, parent: int) -> None:
    import uvicorn

    from callscope.live.http import FastIntake

    relay = RelayClient(sockets.relay)
    await relay.connect()
    app = Passthrough(RelayIntake(settings, relay), sockets.http)
    server = uvicorn.Server(
        uvicorn.Config(FastIntake(app), host=host, port=port, log_level="warning",
                       timeout_graceful_shutdown=3)
    )  # fmt: skip

    async def announce() -> None:  # to `FrontProcess.start_ready`, once the port is ours
        while not server.started:
            await asyncio.sleep(0.02)
        sys.stdout.buffer.write(READY + b"\n")
        sys.stdout.flush()

    async def watch() -> None:
        # The relay closed (the store process stopped), or this process was orphaned.
        while not relay.closed.is_set() and os.getppid() == parent:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(relay.closed.wait(), timeout=0.5)
        server.should_exit = True

    watcher = asyncio.create_task(watch())
    ready = asyncio.create_task(announce())
    try:
        await server.serve()
    finally:
        watcher.cancel()
        ready.cancel()
        await relay.close()
        await app.client.aclose()


def main() -> None:
    """`python -m callscope.live.front`: its settings and sockets come as JSON on stdin."""
    _die_with_parent()
    job = json.loads(sys.stdin.read())
    settings = Settings.model_validate(job["settings"])
    sockets = Sockets(Path(job["relay"]), Path(job["http"]))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings, job["host"], int(job["port"]), sockets, int(job["parent"])))


class FrontProcess:
    """The intake process as `callscope listen` runs it: started, restarted if it dies on its
    own, stopped with the store process."""

    def __init__(self, settings: Settings, host: str, port: int, sockets: Sockets) -> None:
        self.job = {
            "settings": settings.model_dump(mode="json"), "host": host, "port": port,
            "relay": str(sockets.relay), "http": str(sockets.http), "parent": os.getpid(),
        }  # fmt: skip
        self.host, self.port = host, port
        self.proc: subprocess.Popen[bytes] | None = None

    async def start_ready(self, timeout_s: float = 60.0) -> None:
        """Start it and wait until it serves its port; raise if it stops first (the port is
        taken, say: its own error is on stderr)."""
        self.start()
        assert self.proc is not None and self.proc.stdout is not None
        try:
            line = await asyncio.wait_for(asyncio.to_thread(self.proc.stdout.readline), timeout_s)
        except TimeoutError:
            line = b""
        if line.strip() != READY:
            self.stop()
            raise RuntimeError(
                f"the intake process for {self.host}:{self.port} stopped ({self.proc.returncode})"
            )

    def start(self) -> None:
        self.proc = subprocess.Popen(
            # its own session: a Ctrl-C at the terminal stops `listen`, which stops this one
            [sys.executable, "-m", "callscope.live.front"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(self.job).encode())
        self.proc.stdin.close()

    async def keep_running(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self.proc is not None and self.proc.poll() is not None:
                print(
                    f"callscope: the intake process stopped ({self.proc.returncode}); restarting",
                    file=sys.stderr,
                )
                with contextlib.suppress(RuntimeError):  # (said on stderr; tried again)
                    await self.start_ready()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_dir() -> Path:
    """A private directory for the sockets (mode 0700: only this user may post to the relay)."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix="callscope-listen-"))


if __name__ == "__main__":
    main()
