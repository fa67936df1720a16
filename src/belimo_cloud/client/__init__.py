"""The client library: typed, rate-limited, paging and chunking access to the Belimo Cloud API v3.

``from belimo_cloud.client import Client``; the models describe what the API returns.
"""

from __future__ import annotations

from belimo_cloud.client.chunking import plan_windows
from belimo_cloud.client.client import Client
from belimo_cloud.client.frames import catalogue_frame, devices_frame
from belimo_cloud.client.models import (
    Datapoint,
    DataProfile,
    Device,
    DeviceData,
    DeviceStats,
    DownloadLink,
    Health,
    RawSample,
    Ref,
    TimelineEvent,
)
from belimo_cloud.client.semantics import SEMANTIC_NAMES, resolve
from belimo_cloud.client.session import Session

__all__ = [
    "SEMANTIC_NAMES",
    "Client",
    "DataProfile",
    "Datapoint",
    "Device",
    "DeviceData",
    "DeviceStats",
    "DownloadLink",
    "Health",
    "RawSample",
    "Ref",
    "Session",
    "TimelineEvent",
    "catalogue_frame",
    "devices_frame",
    "plan_windows",
    "resolve",
]
