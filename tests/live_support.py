"""Running the live code's coroutines from plain tests.

Each call gets a fresh event loop on its own thread, so a test never depends on whether an
earlier test (a browser driver, an ASGI client) left a loop running on the main thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

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
