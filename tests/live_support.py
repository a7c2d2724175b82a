"""Running the live code's coroutines from plain tests.

Each call gets a fresh event loop on its own thread, so a test never depends on whether an
earlier test (a browser driver, an ASGI client) left a loop running on the main thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")


def run(make: Callable[[], Awaitable[T]]) -> T:
    """`asyncio.run(make())` on a new thread; the coroutine is created there, so nothing is
    left unawaited if the thread cannot start."""
    result: list[T] = []
    error: list[BaseException] = []

    async def main() -> T:
        return await make()

    def target() -> None:
        try:
            result.append(asyncio.run(main()))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def webhook_call(
    call_id: str, answered: bool, at: datetime, number: str = "+79161234567"
) -> list[dict[str, Any]]:
    """One inbound call in generic webhook events: started and ringing agent 101 in the sales
    queue at `at`, answered 5 s later (`answered`), ended 40 s after `at`."""
    events = [
        {"type": "call.started", "call_id": call_id, "direction": "inbound",
         "from": number, "to": "74951234567", "queue": "sales", "at": at.isoformat()},
        {"type": "call.ringing", "call_id": call_id, "agent": "101", "queue": "sales",
         "at": at.isoformat()},
    ]  # fmt: skip
    if answered:
        answer = (at + timedelta(seconds=5)).isoformat()
        events.append({"type": "call.answered", "call_id": call_id, "agent": "101", "at": answer})
    ended = (at + timedelta(seconds=40)).isoformat()
    return [*events, {"type": "call.ended", "call_id": call_id, "at": ended}]
