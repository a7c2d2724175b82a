"""HTTP intake and the live board: `POST /api/webhooks/events` (generic events, HMAC per
tenant), vendor endpoints, `GET /api/live` (board snapshot) and `GET /api/live/stream` (SSE).

The app that mounts `router` puts a started `LiveService` in `app.state.live`. A request is
answered 200 only after its events are committed to the inbox; a bad signature is 401, a bad
payload 422 with the event index and field, and nothing of a refused request is stored.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from callscope.live import adapters, signing
from callscope.live.events import InvalidEventError, parse_events
from callscope.live.service import LiveService

router = APIRouter(tags=["live"])


def live_service(request: Request) -> LiveService:
    service: LiveService | None = getattr(request.app.state, "live", None)
    if service is None:
        raise HTTPException(503, "live intake is not running")
    return service


ServiceDep = Annotated[LiveService, Depends(live_service)]


def _secret(service: LiveService, tenant: str) -> str:
    secret = signing.load_secrets(service.settings).get(tenant)
    if not secret:
        raise HTTPException(401, f"no webhook secret configured for tenant {tenant!r}")
    if tenant != service.settings.tenant:
        raise HTTPException(403, f"this intake serves tenant {service.settings.tenant!r}")
    return secret


async def _accept(service: ServiceDep, events: list[Any]) -> dict[str, Any]:
    count = await service.accept_generic(events)
    return {"ok": True, "accepted": count}


@router.post("/api/webhooks/events")
async def post_events(
    request: Request,
    service: ServiceDep,
    x_callscope_signature: Annotated[str | None, Header()] = None,
    x_callscope_tenant: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    body = await request.body()
    tenant = x_callscope_tenant or service.settings.tenant
    if not signing.verify(_secret(service, tenant), body, x_callscope_signature):
        raise HTTPException(401, f"bad or missing {signing.HEADER} (HMAC-SHA256 of the body)")
    try:
        events = parse_events(body)
    except InvalidEventError as exc:
        raise HTTPException(422, str(exc)) from None
    return await _accept(service, events)


@router.post("/api/webhooks/zadarma")
async def post_zadarma(
    request: Request,
    service: ServiceDep,
    signature: Annotated[str | None, Header()] = None,
    tenant: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    secret = _secret(service, tenant or service.settings.tenant)
    expected = signing.zadarma_signature(secret, adapters.zadarma_signature_text(form))
    if signature != expected:
        raise HTTPException(401, "bad or missing Signature")
    try:
        events = adapters.zadarma_events(form, service.settings.timezone, datetime.now(UTC))
    except InvalidEventError as exc:
        raise HTTPException(422, str(exc)) from None
    return await _accept(service, events)


@router.post("/api/webhooks/mango/events/{kind}")
async def post_mango(
    kind: str, request: Request, service: ServiceDep, tenant: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    secret = _secret(service, tenant or service.settings.tenant)
    text = form.get("json", "")
    if form.get("sign") != signing.mango_sign(form.get("vpbx_api_key", ""), text, secret):
        raise HTTPException(401, "bad or missing sign")
    if kind not in ("call", "summary"):
        raise HTTPException(404, f"events/{kind} is not a call event")
    try:
        doc = json.loads(text)
        events = adapters.mango_events(kind, doc)
    except (json.JSONDecodeError, InvalidEventError, TypeError, ValueError) as exc:
        raise HTTPException(422, f"json: {exc}") from None
    return await _accept(service, events)


@router.get("/api/live")
async def get_live(service: ServiceDep) -> dict[str, Any]:
    return service.board.snapshot()


@router.get("/api/live/stream")
async def live_stream(service: ServiceDep, request: Request) -> StreamingResponse:
    """Server-sent events: the board whenever it changes, and a heartbeat every 15 s."""

    async def frames() -> AsyncIterator[str]:
        last = -1
        while not await request.is_disconnected():
            if service.board.version != last:
                last = service.board.version
                yield f"event: board\ndata: {json.dumps(service.board.snapshot())}\n\n"
            service.changed.clear()
            try:
                await asyncio.wait_for(service.changed.wait(), timeout=15)
            except TimeoutError:
                yield ": heartbeat\n\n"

    return StreamingResponse(frames(), media_type="text/event-stream")
