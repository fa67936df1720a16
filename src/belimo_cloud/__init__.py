"""belimo-cloud: an unofficial Python toolkit for the Belimo Cloud API v3.

Not made or endorsed by Belimo. The names below are the public API; everything else may
change between versions::

    from belimo_cloud import Client
    client = Client.from_env()          # or Client(client_id=..., client_secret=..., ...)
    client.devices.stats()
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from belimo_cloud.analysis import CounterPolicy, consumption, consumption_frame
from belimo_cloud.client import (
    Client,
    Datapoint,
    DataProfile,
    Device,
    DeviceData,
    DeviceStats,
    catalogue_frame,
    devices_frame,
)
from belimo_cloud.config import Settings, load_settings
from belimo_cloud.errors import (
    APIError,
    AuthError,
    BadRequest,
    BelimoError,
    ConfigError,
    DataError,
    InvalidCredentials,
    NotFound,
    RateLimited,
    ServerError,
    StoreError,
    TokenExpired,
    TransportError,
)
from belimo_cloud.store import Store, StoreInfo
from belimo_cloud.syncer import SyncReport, sync

try:
    __version__ = version("belimo-cloud")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "APIError",
    "AuthError",
    "BadRequest",
    "BelimoError",
    "Client",
    "ConfigError",
    "CounterPolicy",
    "DataError",
    "DataProfile",
    "Datapoint",
    "Device",
    "DeviceData",
    "DeviceStats",
    "InvalidCredentials",
    "NotFound",
    "RateLimited",
    "ServerError",
    "Settings",
    "Store",
    "StoreError",
    "StoreInfo",
    "SyncReport",
    "TokenExpired",
    "TransportError",
    "__version__",
    "catalogue_frame",
    "consumption",
    "consumption_frame",
    "devices_frame",
    "load_settings",
    "sync",
]
