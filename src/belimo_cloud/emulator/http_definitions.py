"""Definition routes: data profiles (paged list and one), subprofiles, datapoints, aspects.

They need scope ``read:dataprofile``. ``last`` as a version means the newest one.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from belimo_cloud.emulator import params
from belimo_cloud.emulator.http_common import (
    API,
    ApiError,
    authorize,
    envelope,
    json_response,
    state_of,
)

router = APIRouter()

SCOPE = "read:dataprofile"
EXPANDED_ONLY = ("aspects", "subprofiles", "datapoints")


def _version_key(version: str) -> tuple[tuple[int, Any], ...]:
    """Natural order of versions: 1.2 < 1.11, numbers before text."""
    parts = re.split(r"[.\-]", version)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


@router.get(API + "/definitions/dataprofiles")
def list_dataprofiles(request: Request) -> Response:
    """Every data profile, paged; ``expanded=false`` leaves out aspects, subprofiles, datapoints."""
    authorize(request, SCOPE)
    query = request.query_params
    field = params.sort_field(query, ("name", "version"), "name", {})
    direction = params.sort_direction(query)
    expanded = params.boolean(query, "expanded", default=True)
    limit, offset = params.paging(query)
    profiles = state_of(request).fleet.definitions.dataprofiles()
    if field == "name":
        profiles = sorted(
            profiles, key=lambda p: (str(p.get("name")), _version_key(str(p.get("version"))))
        )
    else:
        profiles = sorted(
            profiles, key=lambda p: (_version_key(str(p.get("version"))), str(p.get("name")))
        )
    if direction == "DESC":
        profiles.reverse()
    page = profiles[offset : offset + limit]
    if not expanded:
        page = [{k: v for k, v in p.items() if k not in EXPANDED_ONLY} for p in page]
    return json_response(
        envelope(
            page, total=len(profiles), offset=offset, limit=limit, field=field, direction=direction
        )
    )


def _found(kind: str, id_: str, version: str, body: dict[str, Any] | None) -> Response:
    if body is None:
        raise ApiError(404, "not_found", f"{kind} {id_[:60]}/{version[:20]} not found")
    return json_response(body)


@router.get(API + "/definitions/dataprofiles/{id_}/{version}")
def get_dataprofile(request: Request) -> Response:
    """One data profile, expanded."""
    authorize(request, SCOPE)
    id_, version = request.path_params["id_"], request.path_params["version"]
    body = state_of(request).fleet.definitions.dataprofile(id_, version, expanded=True)
    return _found("data profile", id_, version, body)


@router.get(API + "/definitions/subprofiles/{id_}/{version}")
def get_subprofile(request: Request) -> Response:
    """One subprofile with its aspects and datapoints."""
    authorize(request, SCOPE)
    id_, version = request.path_params["id_"], request.path_params["version"]
    return _found(
        "subprofile", id_, version, state_of(request).fleet.definitions.subprofile(id_, version)
    )


@router.get(API + "/definitions/datapoints/{id_}/{version}")
def get_datapoint(request: Request) -> Response:
    """One datapoint definition (feature values are strings)."""
    authorize(request, SCOPE)
    id_, version = request.path_params["id_"], request.path_params["version"]
    return _found(
        "datapoint", id_, version, state_of(request).fleet.definitions.datapoint(id_, version)
    )


@router.get(API + "/definitions/aspects/{id_}/{version}")
def get_aspect(request: Request) -> Response:
    """One aspect with its features."""
    authorize(request, SCOPE)
    id_, version = request.path_params["id_"], request.path_params["version"]
    return _found("aspect", id_, version, state_of(request).fleet.definitions.aspect(id_, version))
