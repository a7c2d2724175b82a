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
from typing import Annotated, Any, Protocol
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from callscope.live import adapters, signing
from callscope.live.events import InvalidEventError, LiveEvent, parse_events
from callscope.live.service import LiveService
from callscope.settings import Settings

router = APIRouter(tags=["live"])
EVENTS_PATH = "/api/webhooks/events"
TENANT_HEADER = "x-callscope-tenant"


class Accepted(BaseModel):
    """The answer to a stored webhook: every event of it is committed."""

    ok: bool
    accepted: int


def _service(request: Request) -> LiveService:
    service: LiveService | None = getattr(request.app.state, "live", None)
    if service is None:
        raise HTTPException(503, "live intake is not running")
    return service


async def live_service(request: Request) -> LiveService:
    """Async on purpose: FastAPI runs a plain `def` dependency on a thread pool, a hop that
    cost more than the rest of a webhook request."""
    return _service(request)


ServiceDep = Annotated[LiveService, Depends(live_service)]


class Intake(Protocol):
    """What takes checked generic events: the live service, or in the intake process the relay
    to it (`live.front`)."""

    @property
    def settings(self) -> Settings: ...

    def secrets(self) -> dict[str, str]: ...

    async def accept_generic(self, events: list[LiveEvent]) -> int: ...


def _secret(service: Intake, tenant: str) -> str:
    secret = service.secrets().get(tenant)
    if not secret:
        raise HTTPException(401, f"no webhook secret configured for tenant {tenant!r}")
    if tenant != service.settings.tenant:
        raise HTTPException(403, f"this intake serves tenant {service.settings.tenant!r}")
    return secret


async def _accept(service: LiveService, events: list[Any]) -> Response:
    count = await service.accept_generic(events)
    return Response(_accepted(count), media_type="application/json")


def _accepted(count: int) -> bytes:
    return b'{"ok":true,"accepted":%d}' % count


async def intake_events(
    service: Intake, body: bytes, signature: str | None, tenant: str | None
) -> int:
    """Check, parse and store one generic webhook; raises HTTPException for a refused one."""
    tenant = tenant or service.settings.tenant
    if not signing.verify(_secret(service, tenant), body, signature):
        raise HTTPException(401, f"bad or missing {signing.HEADER} (HMAC-SHA256 of the body)")
    try:
        events = parse_events(body)
    except InvalidEventError as exc:
        raise HTTPException(422, str(exc)) from None
    return await service.accept_generic(events)


@router.post(EVENTS_PATH, response_model=Accepted)
async def post_events(request: Request) -> Response:
    """Headers are read by hand and the answer is written as bytes: at a few thousand requests
    a second FastAPI's parameter solving and response encoding were a third of the cost."""
    service = _service(request)
    count = await intake_events(
        service,
        await request.body(),
        request.headers.get(signing.HEADER),
        request.headers.get(TENANT_HEADER),
    )
    return Response(_accepted(count), media_type="application/json")


class FastIntake:
    """ASGI wrapper that answers `POST /api/webhooks/events` itself and hands every other
    request to the app: the same checks and the same durable acknowledgement as the route,
    without the framework's middleware stack and router, which cost about twice the handler
    per request at thousands of requests a second (bench/live.py). Serve `FastIntake(app)`."""

    MAX_BODY = 8 * 1024 * 1024

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = getattr(getattr(self.app, "state", None), "live", None)
        if (
            scope["type"] != "http"
            or scope["path"] != EVENTS_PATH
            or scope["method"] != "POST"
            or service is None
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        signature = headers.get(signing.HEADER.lower().encode())
        tenant = headers.get(TENANT_HEADER.encode())
        status, answer = 200, b""
        body = await _read_body(receive, self.MAX_BODY)
        try:
            if body is None:
                raise HTTPException(413, f"body larger than {self.MAX_BODY} bytes")
            count = await intake_events(
                service,
                body,
                signature.decode("latin-1") if signature else None,
                tenant.decode("latin-1") if tenant else None,
            )
            answer = _accepted(count)
        except HTTPException as exc:
            status, answer = exc.status_code, json.dumps({"detail": exc.detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(answer)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer})


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None past `limit` bytes (the rest is still drained)."""
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks) if size <= limit else None


@router.post("/api/webhooks/zadarma", response_model=Accepted)
async def post_zadarma(
    request: Request,
    service: ServiceDep,
    signature: Annotated[str | None, Header()] = None,
    tenant: Annotated[str | None, Query()] = None,
) -> Response:
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


@router.post("/api/webhooks/mango/events/{kind}", response_model=Accepted)
async def post_mango(
    kind: str, request: Request, service: ServiceDep, tenant: Annotated[str | None, Query()] = None
) -> Response:
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
