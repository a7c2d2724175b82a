"""The Asterisk AMI client (panoramisk) and a replay server that speaks the same protocol.

The client logs in, hands every event to the live service (stored in the inbox before it counts
as handled) and, when the connection drops, reconnects with a doubling delay capped at
`live.reconnect_max_s`; a successful login resets the delay. The server is the built-in fake
(style.md 6): it greets with the real banner, answers Login and Ping, and streams the events of
a recorded transcript, so tests and `callscope listen replay` exercise the real client code.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from panoramisk import Manager

from callscope.errors import ConfigError
from callscope.live.ami_text import format_message, parse_message
from callscope.settings import Settings

BANNER = "Asterisk Call Manager/11.0.0\r\n"
Handler = Callable[[dict[str, str]], Awaitable[None]]


def ami_secret(settings: Settings) -> str:
    live = settings.live
    if live.ami_secret_file is not None:
        return live.ami_secret_file.read_text(encoding="utf-8").strip()
    secret = os.environ.get(live.ami_secret_env)
    if not secret:
        raise ConfigError(f"set ${live.ami_secret_env} or live.ami_secret_file (AMI secret)")
    return secret


class BackoffManager(Manager):  # type: ignore[misc]
    """panoramisk's Manager with a doubling reconnect delay instead of a fixed one."""

    reconnect_timeout: float

    def __init__(self, *, max_delay: float, **config: Any) -> None:
        super().__init__(**config)
        self.base_delay = float(config.get("reconnect_timeout", 1))
        self.max_delay = max_delay
        self.delay = self.base_delay
        self.attempts = 0

    def _next_delay(self) -> float:
        delay, self.delay = self.delay, min(self.delay * 2, self.max_delay)
        self.attempts += 1
        return delay

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        self.reconnect_timeout = self._next_delay() if f.exception() else self.reconnect_timeout
        super().connection_made(f)

    def connection_lost(self, exc: Exception | None) -> None:
        self.reconnect_timeout = self._next_delay()
        super().connection_lost(exc)

    def login(self, future: asyncio.Future[Any]) -> bool:
        ok: bool = super().login(future)
        if ok:
            self.delay = self.base_delay
        return ok


def make_client(settings: Settings, handler: Handler, *, secret: str | None = None) -> Manager:
    live = settings.live
    manager = BackoffManager(
        host=live.ami_host,
        port=live.ami_port,
        username=live.ami_username,
        secret=secret if secret is not None else ami_secret(settings),
        reconnect_timeout=1,
        max_delay=live.reconnect_max_s,
        ping_delay=10,
        loop=asyncio.get_running_loop(),
    )

    async def on_event(_: Manager, message: Any) -> None:
        await handler({str(k): str(v) for k, v in message.items()})

    manager.register_event("*", on_event)
    return manager


class ReplayServer:
    """A local AMI server replaying `events` (header dicts) to each client after its Login."""

    def __init__(self, events: Sequence[dict[str, str]], secret: str, *, pace: float = 0) -> None:
        self.events = list(events)
        self.secret = secret
        self.pace = pace
        self.server: asyncio.Server | None = None
        self.logins = 0
        self.drop_after: int | None = None  # close the connection after this many events once

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(BANNER.encode())
        try:
            while True:
                block = (await reader.readuntil(b"\r\n\r\n")).decode()
                action = parse_message(block.replace("\r\n", "\n"))
                reply = {"Response": "Success", "ActionID": action.get("ActionID", "")}
                name = action.get("Action", "").lower()
                if name == "login":
                    if action.get("Secret") != self.secret:
                        reply = {"Response": "Error", "ActionID": reply["ActionID"],
                                 "Message": "Authentication failed"}  # fmt: skip
                        writer.write(format_message(reply).encode())
                        break
                    reply["Message"] = "Authentication accepted"
                    writer.write(format_message(reply).encode())
                    self.logins += 1
                    await self._stream(writer)
                elif name == "ping":
                    reply["Ping"] = "Pong"
                    writer.write(format_message(reply).encode())
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _stream(self, writer: asyncio.StreamWriter) -> None:
        for index, event in enumerate(self.events):
            if self.drop_after is not None and index == self.drop_after:
                self.drop_after = None
                raise ConnectionResetError("replay server dropped the connection")
            writer.write(format_message(event).encode())
            if self.pace or index % 200 == 0:
                await writer.drain()
                await asyncio.sleep(self.pace)
        await writer.drain()
