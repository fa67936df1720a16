"""The dashboard's web application: pages, JSON endpoints and assets over one store.

``create_app(config)`` builds the FastAPI app; `belimo serve` runs it with uvicorn. Pages are
Jinja2 templates shared with the HTML report (one look); charts are drawn in the browser by
Plotly from the JSON endpoints, which answer from the store's snapshot in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from belimo_cloud.errors import DataError
from belimo_cloud.web import device_views, fleet_views
from belimo_cloud.web.assets import STATIC, plotly_gzip, plotly_js
from belimo_cloud.web.data import Snapshot, StoreData
from belimo_cloud.web.live import LiveFeed
from belimo_cloud.web.live_values import live_payload
from belimo_cloud.web.pages import PageRenderer
from belimo_cloud.web.security import SECURITY_HEADERS, Guard
from belimo_cloud.web.shapes import parse_local

__all__ = ["ServeConfig", "create_app"]


@dataclass(frozen=True)
class ServeConfig:
    """What `belimo serve` was asked for. The token never prints (``repr=False``)."""

    store: Path
    host: str = "127.0.0.1"
    port: int = 8050
    token: str | None = field(default=None, repr=False)
    tz: str = "Europe/Zurich"
    recheck: float = 5.0


def _by(value: str) -> str:
    if value not in fleet_views.PERIODS:
        raise DataError(f"by must be one of {', '.join(fleet_views.PERIODS)}, got {value!r}")
    return value


def _ids(values: list[str]) -> list[str]:
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def create_app(
    config: ServeConfig,
    *,
    live: LiveFeed | None = None,
    data: StoreData | None = None,
) -> FastAPI:
    """The dashboard over ``config.store`` (opened read-only), with ``live`` values if given."""
    store = data or StoreData(config.store, tz=config.tz, recheck=config.recheck)
    guard = Guard(config.host, config.token)
    pages = PageRenderer(config.tz)
    tz = config.tz

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if live is not None:
            live.start()
        try:
            yield
        finally:
            if live is not None:
                live.close()

    app = FastAPI(
        title="belimo dashboard",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    # Level 5: JSON of a few hundred kB compresses nearly as well, in a third of level 9's time.
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=5)
    plotly_gzip()  # compressed once, before the first page asks for it

    @app.middleware("http")
    async def protect(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        refused = guard.check(request)
        response = refused if refused is not None else await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if request.url.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(DataError)
    async def bad_input(_request: Request, exc: DataError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=400)

    def device_or_404(device_id: str) -> Snapshot:
        snap = store.snapshot()
        if device_id not in set(snap.devices["device_id"].astype(str)):
            raise HTTPException(404, f"no device {device_id} in the store")
        return snap

    # -- pages -------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def fleet_page() -> HTMLResponse:
        return HTMLResponse(pages.fleet(store.snapshot(), store.problem, live_status(live)))

    @app.get("/devices/{device_id}", response_class=HTMLResponse)
    def device_page(device_id: str) -> HTMLResponse:
        snap = store.snapshot()
        if device_id not in set(snap.devices["device_id"].astype(str)):
            return HTMLResponse(pages.missing(device_id), status_code=404)
        return HTMLResponse(pages.device(snap, device_id, live_status(live)))

    @app.get("/compare", response_class=HTMLResponse)
    def compare_page(ids: Annotated[list[str], Query()] = []) -> HTMLResponse:  # noqa: B006
        return HTMLResponse(pages.compare(store.snapshot(), _ids(ids)))

    # -- JSON --------------------------------------------------------------------------------

    @app.get("/api/status")
    def status() -> dict[str, Any]:
        snap = store.snapshot()
        return {
            "store": config.store.name,
            "loaded_at": snap.loaded_at.isoformat(),
            "rows": snap.rows,
            "devices": len(snap.devices),
            "problem": store.problem,
            "live": live_status(live),
        }

    @app.get("/api/fleet")
    def fleet() -> dict[str, Any]:
        return fleet_views.fleet_status(store.snapshot())

    @app.get("/api/fleet/energy")
    def fleet_energy(by: str = "month") -> dict[str, Any]:
        return fleet_views.fleet_energy(store.snapshot(), _by(by), tz)

    @app.get("/api/devices")
    def devices() -> list[dict[str, Any]]:
        return fleet_views.device_rows(store.snapshot(), tz)

    @app.get("/api/devices/{device_id}/series")
    def series(
        device_id: str,
        names: str = ",".join(n for chart in device_views.CHARTS.values() for n in chart),
        start: str | None = None,
        end: str | None = None,
        width: Annotated[int, Query(ge=1, le=100_000)] = 1200,
    ) -> dict[str, Any]:
        snap = device_or_404(device_id)
        return device_views.device_series(
            snap,
            device_id,
            _ids([names]),
            tz=tz,
            start=parse_local(start, tz),
            end=parse_local(end, tz),
            width=width,
        )

    @app.get("/api/devices/{device_id}/energy")
    def energy(device_id: str, by: str = "day") -> dict[str, Any]:
        return device_views.device_energy(device_or_404(device_id), device_id, _by(by), tz)

    @app.get("/api/devices/{device_id}/scatter")
    def scatter(device_id: str) -> dict[str, Any]:
        return device_views.device_scatter(device_or_404(device_id), device_id, tz)

    @app.get("/api/devices/{device_id}/timeline")
    def timeline(device_id: str) -> dict[str, Any]:
        return device_views.device_timeline(device_or_404(device_id), device_id, tz)

    @app.get("/api/devices/{device_id}/live")
    def live_values(device_id: str) -> dict[str, Any]:
        return live_payload(device_or_404(device_id), device_id, live, tz)

    @app.get("/api/compare")
    def compare(ids: Annotated[list[str], Query()] = []) -> dict[str, Any]:  # noqa: B006
        return fleet_views.compare(store.snapshot(), _ids(ids), tz)

    # -- assets ------------------------------------------------------------------------------

    @app.get("/assets/plotly.min.js", response_model=None)
    def plotly(request: Request) -> Response:
        # The address carries Plotly's version, so browsers may keep the script for good.
        headers = {
            "Cache-Control": "public, max-age=31536000, immutable",
            "Vary": "Accept-Encoding",
        }
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(plotly_gzip(), media_type="text/javascript", headers=headers)
        return FileResponse(plotly_js(), media_type="text/javascript", headers=headers)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def live_status(live: LiveFeed | None) -> str:
    """What the pages say about live values."""
    return "off (no account configured)" if live is None else live.status
