"""The live agent board: who is on a call (with whom, for how long), ringing, free, paused (and
why), offline (since when), and the callers waiting per queue — drawn on the server from the
board `callscope.live` keeps, then kept current by server-sent events (static/live.js).

The stream is the page's own (`/live/stream`), not `/api/live/stream`: it narrows the board to
the caller before anything leaves the server, so an agent-role user receives only their own
card (and the queue sizes, which name no one), never a colleague's caller.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from callscope.live.service import LiveService
from callscope.settings import Settings
from callscope.web.access import Principal
from callscope.web.deps import authenticate
from callscope.web.i18n import Translator
from callscope.web.view import Page, PageDep, phone

router = APIRouter()

STATES = ("on_call", "ringing", "available", "paused", "offline")
REASONS = ("lunch", "dnd", "break", "meeting", "training")  # pause reasons PBXs commonly send
POLL_S = 0.25  # how often a stream looks at the board's version (cheap: an integer compare)
HEARTBEAT_S = 15.0


def _service(request: Request) -> LiveService | None:
    service: LiveService | None = getattr(request.app.state, "live", None)
    return service


def board_for(request: Request, who: Principal, settings: Settings) -> dict[str, Any]:
    """The board as `who` may see it, each agent with a display name and numbers in E.164."""
    service = _service(request)
    snap: dict[str, Any] = (
        service.board.snapshot()
        if service is not None
        else {"at": datetime.now(UTC).isoformat(), "version": 0, "agents": [], "queues": []}
    )
    cards = [c for c in snap["agents"] if not who.is_agent or c["agent"] == who.agent]
    for card in cards:
        card["name"] = settings.agent_name(card["agent"])
        card["with"] = phone(card["with"], settings.region) if card.get("with") else None
    cards.sort(key=lambda c: (str(c["name"]).casefold(), c["agent"]))
    counts = {s: sum(1 for c in cards if c["state"] == s) for s in STATES}
    return {**snap, "agents": cards, "counts": counts, "running": service is not None}


def words(t: Translator) -> dict[str, Any]:
    """What live.js needs to redraw a card in the reader's language."""
    return {
        "states": {s: t(f"live.state.{s}") for s in STATES},
        "reasons": {r: t(f"live.reason.{r}") for r in REASONS},
        "with": t("live.with", number="{number}"),
        "from": t("live.from", number="{number}"),
        "since": t("live.since", time="{time}"),
        "queue": t("live.queue", queue="{queue}"),
        "no_queue": t("live.no_queue"),
        "nobody": t("live.nobody"),
        "units": {
            "s": t("unit.s", n="{n}"),
            "min_s": t("unit.min_s", m="{m}", s="{s}"),
            "h_min": t("unit.h_min", h="{h}", m="{m}"),
        },
        "live": t("live.live"),
        "connecting": t("live.connecting"),
        "lost": t("live.lost"),
        "tz": t.tz.key,
    }


@router.get("/live")
async def live_page(
    ctx: PageDep,
) -> Response:
    request, settings, who, t = ctx.request, ctx.settings, ctx.who, ctx.t
    board = board_for(request, who, settings)
    page = Page("live", t("nav.live"), "live.html", periods=False)
    page.json = board
    page.data = {
        "board": board,
        "states": STATES,
        "words": words(t),
        "subtitle": t("live.subtitle"),
        "clock": lambda iso: t.time(datetime.fromisoformat(iso)),
        "reason": lambda text: t(f"live.reason.{text}") if text in REASONS else text,
    }
    return ctx.respond(page, None)


@router.get("/live/stream")
async def live_stream(request: Request) -> StreamingResponse:
    """Server-sent events named `board` (the narrowed board) on every change, and a comment
    every 15 s so proxies keep the connection open."""
    who = authenticate(request)
    settings: Settings = request.app.state.settings

    async def frames() -> AsyncIterator[str]:
        last = -1
        quiet = 0.0
        while not await request.is_disconnected():
            service = _service(request)
            version = service.board.version if service is not None else 0
            if version != last:
                last = version
                quiet = 0.0
                yield f"event: board\ndata: {json.dumps(board_for(request, who, settings))}\n\n"
            elif quiet >= HEARTBEAT_S:
                quiet = 0.0
                yield ": heartbeat\n\n"
            await asyncio.sleep(POLL_S)
            quiet += POLL_S

    return StreamingResponse(
        frames(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
