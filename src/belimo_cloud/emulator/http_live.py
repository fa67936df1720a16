"""The change stream: subscription offers and the ``text/event-stream`` of device events.

A stream sends ``data:{"deviceId", "device"}`` for every new sample of a subscribed device
(each one, in order, however fast the fleet clock runs) and after every write or metadata
change, ``:heartbeat`` comments on a fixed beat, and ends when its offer expires. The control
plane can drop or stall every open stream. Each event goes out as three HTTP chunks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import anyio
import msgspec
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from belimo_cloud.emulator import params
from belimo_cloud.emulator.http_common import (
    API,
    ApiError,
    EmulatorState,
    authorize,
    json_response,
    state_of,
)
from belimo_cloud.emulator.model.subscriptions import Offer
from belimo_cloud.emulator.model.types import SAMPLE_PERIOD_S, DeviceSpec

router = APIRouter()
TICK_S = 0.05  # [s, real] how often a stream looks for new samples
MAX_BACKLOG = 200  # samples per device and tick; older ones are left to history backfill
_ENCODER = msgspec.json.Encoder()
_ABORT = b""


def _id_list(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, "invalid_request", f"{name} must be a list of strings")
    return list(dict.fromkeys(value))


@router.post(API + "/devices/change-stream")
async def create_subscription(request: Request) -> Response:
    """An offer to open a change stream: ``{token, validUntil}``."""
    _, tenant = authorize(request)
    raw = await request.body()
    try:
        body = msgspec.json.decode(raw) if raw.strip() else {}
    except msgspec.DecodeError:
        raise ApiError(400, "invalid_request", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "the body must be a JSON object")
    devices = _id_list(body, "includedDeviceIds")
    datapoints = _id_list(body, "includedDatapointIds")
    state = state_of(request)
    offer = state.backend.streams.offer(
        tenant.user_id, devices, datapoints, max(1.0, state.options.subscription_ttl)
    )
    until = datetime.fromtimestamp(offer.valid_until, tz=UTC)
    return json_response({"token": offer.token, "validUntil": params.format_time_ms(until)})


class _Stream:
    """What one open stream has sent so far and what it still owes."""

    def __init__(self, state: EmulatorState, offer: Offer) -> None:
        self.state = state
        self.offer = offer
        fleet = state.fleet
        mine = {d.id: d for d in fleet.devices if d.owner.user_id == offer.user_id}
        wanted = offer.device_ids or tuple(mine)
        self.devices: list[DeviceSpec] = [mine[d] for d in wanted if d in mine]
        self.invisible = [d for d in wanted if d not in mine]
        self.datapoints = set(offer.datapoint_ids)
        now = state.now()
        self.last: dict[str, int] = {}
        for device in self.devices:
            seen = fleet.last_seen(device, now)
            self.last[device.id] = int(seen.timestamp()) if seen else 0
        self.revision = fleet.changes.revision
        self.slot = _slot(now)

    def _event(self, device: DeviceSpec, at: datetime) -> bytes | None:
        """The device's event at ``at``; None when it has none of the included datapoints."""
        body = dict(self.state.device_json(device, at))
        if self.datapoints:
            state = body["state"]
            kept = {k: v for k, v in state["datapoints"].items() if k in self.datapoints}
            if not kept:
                return None
            body["state"] = {"timestamp": state["timestamp"], "datapoints": kept}
        return b"data:" + _ENCODER.encode({"deviceId": device.id, "device": body}) + b"\n\n"

    def poll(self) -> list[bytes]:
        """Events due now: new samples in time order, then devices changed by writes."""
        fleet = self.state.fleet
        now = self.state.now()
        if _slot(now) == self.slot and fleet.changes.revision == self.revision:
            return []  # no new sample before the clock reaches the next grid time
        self.slot = _slot(now)
        out: list[tuple[int, bytes]] = []
        for device in self.devices:
            seen = fleet.last_seen(device, now)
            latest = int(seen.timestamp()) if seen else 0
            last = self.last[device.id]
            if latest <= last:
                continue
            first = max(last + SAMPLE_PERIOD_S, latest - (MAX_BACKLOG - 1) * SAMPLE_PERIOD_S)
            for t in range(first, latest + 1, SAMPLE_PERIOD_S):
                at = datetime.fromtimestamp(t, tz=UTC)
                if fleet.last_seen(device, at) != at:
                    continue  # no sample there (a gap)
                event = self._event(device, at)
                if event is not None:
                    out.append((t, event))
            self.last[device.id] = latest
        out.sort(key=lambda item: item[0])
        events = [event for _, event in out]
        revision = fleet.changes.revision
        if revision != self.revision:
            changed = set(fleet.changes.changed_since(self.revision))
            self.revision = revision
            for device in self.devices:
                event = self._event(device, now) if device.id in changed else None
                if event is not None:
                    events.append(event)
        return events


def _slot(now: datetime) -> int:
    """The 5-minute grid interval of ``now``: every device samples on that grid, so a poll
    within the same interval as the last one finds no new sample (a fleet of thousands is
    then not scanned every tick)."""
    return int(now.timestamp()) // SAMPLE_PERIOD_S


async def _events(
    state: EmulatorState, offer: Offer, generation: int, gone: asyncio.Event
) -> AsyncIterator[bytes]:
    """The stream's chunks until the offer expires, the client leaves or it is dropped."""
    streams = state.backend.streams
    stream = await anyio.to_thread.run_sync(_Stream, state, offer)
    yield b":heartbeat\n\n"
    for device_id in stream.invisible:
        yield b"data:" + _ENCODER.encode({"deviceId": device_id}) + b"\n\n"
    # Heartbeats go out on time even while events flow: MST's watchdog counts only them.
    last_beat = time.monotonic()
    while time.time() < offer.valid_until and not gone.is_set():
        if streams.drops != generation:
            if streams.abort:
                yield _ABORT
            return
        if time.time() < streams.stalled_until:
            await asyncio.sleep(TICK_S)
            continue
        for event in await anyio.to_thread.run_sync(stream.poll):
            yield event
        if time.monotonic() - last_beat >= state.options.heartbeat:
            yield b":heartbeat\n\n"
            last_beat = time.monotonic()
        await asyncio.sleep(min(TICK_S, max(0.01, state.options.heartbeat)))


class EventStreamResponse(Response):
    """Server-sent events; stops when the client leaves, cuts the connection on ``_ABORT``."""

    media_type = "text/event-stream"

    def __init__(
        self,
        events: Callable[[asyncio.Event], AsyncIterator[bytes]],
        on_close: Callable[[], None],
    ) -> None:
        super().__init__(headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        # Response sets a length for its (empty) body; a stream has none.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self._events = events
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.ensure_future(watch())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in self._events(gone):
                if gone.is_set():
                    return
                if chunk is _ABORT:
                    _cut(send)
                    return
                try:
                    for part in _frames(chunk):
                        await send({"type": "http.response.body", "body": part, "more_body": True})
                except OSError:
                    return  # the client is gone
                # Let the disconnect watcher run: a burst of events must not outlive the client.
                await asyncio.sleep(0)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            self._on_close()


def _frames(event: bytes) -> tuple[bytes, ...]:
    """An event as the HTTP chunks Belimo's server writes: ``data:``, the JSON, the blank line.

    MST's connector reads chunk by chunk: a chunk holding ``data:`` announces the next chunk
    as the JSON, so all three in one chunk would be lost on it.
    """
    if event.startswith(b"data:") and event.endswith(b"\n\n"):
        return (b"data:", event[5:-2], b"\n\n")
    return (event,)


def _cut(send: Send) -> None:
    """Close the connection mid-response, so the client sees a broken stream."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None and hasattr(transport, "close"):
        transport.close()


@router.get(API + "/devices/change-stream/{token}")
async def open_subscription(request: Request) -> Response:
    """The event stream of an offer; the token is the credential (no bearer token needed)."""
    state = state_of(request)
    token = request.path_params["token"]
    offer = state.backend.streams.find(token)
    if offer is None:
        raise ApiError(404, "not_found", "unknown change-stream token; subscribe again")
    if offer.valid_until <= time.time():
        raise ApiError(410, "expired", "this change-stream offer has expired; subscribe again")
    streams = state.backend.streams
    generation = streams.enter()
    return EventStreamResponse(lambda gone: _events(state, offer, generation, gone), streams.leave)
