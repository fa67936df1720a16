"""The client library: typed, rate-limited, paging and chunking access to the Belimo Cloud API v3.

``from belimo_cloud.client import Client``; the models describe what the API returns.
"""

from __future__ import annotations

from belimo_cloud.client.chunking import plan_windows
from belimo_cloud.client.client import Client
from belimo_cloud.client.frames import catalogue_frame, devices_frame
from belimo_cloud.client.jobs import Job, JobInfo, JobTimeout
from belimo_cloud.client.live_events import DeviceEvent
from belimo_cloud.client.live_subscription import Subscription
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
from belimo_cloud.client.write_checks import ReadOnlyDatapoint, ValueOutOfRange, WriteRefused
from belimo_cloud.client.writes import WriteNotPermitted, WriteRequest

__all__ = [
    "SEMANTIC_NAMES",
    "Client",
    "DataProfile",
    "Datapoint",
    "Device",
    "DeviceData",
    "DeviceEvent",
    "DeviceStats",
    "DownloadLink",
    "Health",
    "Job",
    "JobInfo",
    "JobTimeout",
    "RawSample",
    "ReadOnlyDatapoint",
    "Ref",
    "Session",
    "Subscription",
    "TimelineEvent",
    "ValueOutOfRange",
    "WriteNotPermitted",
    "WriteRefused",
    "WriteRequest",
    "catalogue_frame",
    "devices_frame",
    "plan_windows",
    "resolve",
]
