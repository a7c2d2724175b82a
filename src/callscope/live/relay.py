"""The socket between `callscope listen` and its intake process (`live.front`).

Why a second process: at one event per webhook request the HTTP work (parsing, signatures,
validation, answering) held the one interpreter lock most of the time, and every statement of
a missed call's assembly waited for it on the way back from DuckDB: a pass of 60 ms took
0.3-0.6 s under load (bench/live.py). The intake process does that work and hands the store
process only the events to keep, many requests' worth per message.

The protocol is local and private: a frame is a 4-byte big-endian length and a JSON document.
The intake sends `{"n": id, "texts": [stored event JSON, ...]}` and waits; the store process
answers `{"n": id}` once every event of the frame is committed to the inbox, or
`{"n": id, "error": "..."}`. One frame is in flight at a time: the requests that arrive while it
is out go together in the next one (`inbox.GroupCommit`), so a commit is shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from callscope.live.inbox import GroupCommit

_HEAD = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024


class RelayClosedError(ConnectionError):
    """The store process is gone (or restarting): nothing in flight was acknowledged."""


async def read_frame(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next document, or None at the end of the stream."""
    try:
        head = await reader.readexactly(_HEAD.size)
    except asyncio.IncompleteReadError:
        return None
    (size,) = _HEAD.unpack(head)
    if size > MAX_FRAME:
        raise ValueError(f"relay frame of {size} bytes")
    doc: dict[str, Any] = json.loads(await reader.readexactly(size))
    return doc


def frame(doc: dict[str, Any]) -> bytes:
    data = json.dumps(doc, ensure_ascii=False).encode()
    return _HEAD.pack(len(data)) + data


Keep = Callable[[list[str]], Awaitable[object]]


class RelayServer:
    """The store process's end: every frame's texts go to `keep` (the live service's intake,
    which returns once they are committed), then the frame is acknowledged."""

    def __init__(self, path: Path, keep: Keep) -> None:
        self.path = path
        self.keep = keep
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))

    async def close(self) -> None:
        """Stop listening and close the connections: the intake process stops on that."""
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while (doc := await read_frame(reader)) is not None:
                answer: dict[str, Any] = {"n": doc.get("n")}
                try:
                    await self.keep([str(t) for t in doc.get("texts", [])])
                except Exception as exc:  # the intake answers the requests 503 with this
                    answer["error"] = f"{type(exc).__name__}: {exc}"
                writer.write(frame(answer))
                await writer.drain()
        except (ConnectionError, ValueError, json.JSONDecodeError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


class RelayClient:
    """The intake process's end: `await keep(texts)` returns once the store process has
    committed them; raises RelayClosedError if the connection is lost (then `closed` is set,
    and the intake process stops: a new one comes with the next store process)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.closed = asyncio.Event()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._batch: GroupCommit[str] = GroupCommit(self._exchange)
        self._n = 0

    async def connect(self, attempts: int = 100, every_s: float = 0.05) -> None:
        for attempt in range(attempts):
            try:
                self._reader, self._writer = await asyncio.open_unix_connection(str(self.path))
                return
            except OSError:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(every_s)

    async def keep(self, texts: list[str]) -> None:
        if self.closed.is_set() or self._writer is None:
            raise RelayClosedError("the store process is not connected")
        await self._batch.put_many(texts)

    async def _exchange(self, texts: list[str]) -> None:
        """One frame out, its answer back (one at a time: `GroupCommit` waits for it)."""
        assert self._reader is not None and self._writer is not None
        if self.closed.is_set():
            raise RelayClosedError("the store process went away")
        self._n += 1
        try:
            self._writer.write(frame({"n": self._n, "texts": texts}))
            await self._writer.drain()
            answer = await read_frame(self._reader)
        except (ConnectionError, ValueError, json.JSONDecodeError):
            answer = None
        if answer is None:
            self.closed.set()
            raise RelayClosedError("the store process went away")
        if answer.get("error"):
            raise RuntimeError(str(answer["error"]))

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
        self.closed.set()
