"""`callscope listen` (webhooks, AMI, replays), `callscope outbox` and `callscope digest`."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from callscope.cli.common import (
    SHUTDOWN_GRACE_S,
    DbOpt,
    TzOpt,
    app,
    keep_contacts_current,
    load_cli_settings,
    out,
)
from callscope.live.ami import make_client
from callscope.live.ami_text import read_events
from callscope.live.digest import send_digest
from callscope.live.front import FrontProcess, Sockets
from callscope.live.outbox import AppriseSender, FakeSender
from callscope.live.relay import RelayServer
from callscope.live.service import LiveService, utcnow
from callscope.settings import Settings
from callscope.store import open_store


@app.command()
def listen(
    db: DbOpt = None,
    tz: TzOpt = None,
    host: Annotated[str, typer.Option(help="Address for POST /api/webhooks/*")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the webhook intake and /api/live")] = 8080,
    ami: Annotated[bool, typer.Option("--ami", help="Also connect to Asterisk AMI")] = False,
    replay: Annotated[
        Path | None, typer.Option(help="Feed a recorded AMI transcript instead of listening")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Record notifications, send nothing")] = False,
) -> None:
    """Receive live events until stopped: store each before acknowledging it, assemble finished
    calls, notify missed calls, serve the agent board (GET /api/live, /api/live/stream)."""
    settings = load_cli_settings(db, tz)
    sender = FakeSender() if dry_run else AppriseSender()
    with open_store(settings.db) as store:
        keep_contacts_current(store, settings)
        if settings.live.duckdb_threads:  # (after the rebuild above, which uses every core)
            store.con.execute(f"SET threads = {int(settings.live.duckdb_threads)}")
        if replay is not None:
            asyncio.run(_replay(LiveService(store, settings, sender), replay))
            return
        import uvicorn
        from fastapi import FastAPI

        from callscope.live.front import run_dir
        from callscope.live.http import FastIntake, router

        # The public port is the intake process's (`live.front`); this one serves it on
        # private sockets. Without Unix sockets (or with it turned off), this one serves all.
        sockets = None
        if settings.live.intake_process and hasattr(socket, "AF_UNIX"):
            where = run_dir()
            sockets = Sockets(where / "relay.sock", where / "http.sock")

        @contextlib.asynccontextmanager
        async def lifespan(web: FastAPI) -> AsyncIterator[None]:
            service = LiveService(store, settings, sender)
            web.state.live = service
            service.start()
            client = make_client(settings, service.accept_ami) if ami else None
            if client is not None:
                client.connect()
            try:
                async with _intake_process(service, settings, host, port, sockets):
                    yield
            finally:
                if client is not None:
                    client.close()
                await service.stop()

        web = FastAPI(title="callscope live", lifespan=lifespan)
        web.include_router(router)
        where_to = {"uds": str(sockets.http)} if sockets else {"host": host, "port": port}
        try:
            uvicorn.run(
                FastIntake(web),  # webhook events skip the framework's stack; the rest: web
                **where_to,
                log_level="warning",
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
            )
        finally:
            if sockets is not None:
                shutil.rmtree(sockets.relay.parent, ignore_errors=True)


@contextlib.asynccontextmanager
async def _intake_process(
    service: LiveService, settings: Settings, host: str, port: int, sockets: Sockets | None
) -> AsyncIterator[None]:
    """The relay and the intake process for as long as the service runs (none without
    `sockets`). The intake process is stopped first: what it has taken in is still kept."""
    if sockets is None:
        yield
        return
    relay = RelayServer(sockets.relay, service.accept_stored)
    await relay.start()
    front = FrontProcess(settings, host, port, sockets)
    try:
        await front.start_ready()
    except RuntimeError:
        front.stop()
        await relay.close()
        raise
    keeper = asyncio.create_task(front.keep_running())
    try:
        yield
    finally:
        keeper.cancel()
        await asyncio.to_thread(front.stop)
        await relay.close()


async def _replay(service: LiveService, path: Path) -> None:
    events = read_events(path)
    for event in events:
        await service.accept_ami(event)
    counts = await service.worker.run(lambda: service.cycle(flush=True))
    service.close()
    out.print(f"{len(events)} events replayed; {counts['calls']} calls assembled")


@app.command()
def outbox(db: DbOpt = None, tz: TzOpt = None) -> None:
    """What the notifier has queued, sent and given up on."""
    settings = load_cli_settings(db, tz)
    with open_store(settings.db) as store:
        rows = store.con.execute(
            "SELECT kind, count(*) FILTER (WHERE sent_at IS NOT NULL),"
            " count(*) FILTER (WHERE sent_at IS NULL AND dead_at IS NULL),"
            " count(*) FILTER (WHERE dead_at IS NOT NULL),"
            " arg_max(last_error, due_at) FILTER (WHERE sent_at IS NULL) FROM notify_outbox"
            " WHERE tenant = ? GROUP BY kind ORDER BY kind",
            [settings.tenant],
        ).fetchall()
    for kind, sent, pending, dead, error in rows:
        last = f" (last error: {error})" if error else ""
        out.print(f"{kind}: {sent} sent, {pending} pending, {dead} failed{last}", highlight=False)
    if not rows:
        out.print("the outbox is empty")


@app.command()
def digest(
    db: DbOpt = None,
    tz: TzOpt = None,
    weekly: Annotated[
        bool, typer.Option("--weekly", help="Last 7 days instead of yesterday")
    ] = False,
    send: Annotated[
        bool, typer.Option("--send", help="E-mail and notify (once per period)")
    ] = False,
    today: Annotated[
        str | None, typer.Option(help="Pretend today is this day (YYYY-MM-DD)")
    ] = None,
) -> None:
    """Yesterday's (or last week's) digest: totals, missed share, top missers, callbacks in norm."""
    settings = load_cli_settings(db, tz)
    day = date.fromisoformat(today) if today else None
    kind = "weekly" if weekly else "daily"
    with open_store(settings.db) as store:
        from callscope.live.digest import build_digest
        from callscope.live.notifier import today_in

        now = utcnow()
        day = day or today_in(settings, now)
        if send:
            result = send_digest(store, settings, AppriseSender(), kind, day, now)
        else:
            result = build_digest(store, settings, kind, day)
    out.print(result.title, highlight=False)
    out.print(result.text(), highlight=False)
