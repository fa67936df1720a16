"""The package root's public names are pinned: adding or removing one is a deliberate change."""

from __future__ import annotations

import belimo_cloud

PUBLIC = [
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


def test_all_is_pinned() -> None:
    assert sorted(belimo_cloud.__all__) == sorted(PUBLIC)


def test_every_name_resolves() -> None:
    for name in belimo_cloud.__all__:
        assert getattr(belimo_cloud, name) is not None, name


def test_sync_is_the_function_and_errors_are_one_tree() -> None:
    assert callable(belimo_cloud.sync)
    for name in ("AuthError", "APIError", "TransportError", "ConfigError", "DataError"):
        assert issubclass(getattr(belimo_cloud, name), belimo_cloud.BelimoError)
    assert issubclass(belimo_cloud.InvalidCredentials, belimo_cloud.AuthError)
    assert issubclass(belimo_cloud.NotFound, belimo_cloud.APIError)


def test_version_is_text() -> None:
    assert isinstance(belimo_cloud.__version__, str)
    assert belimo_cloud.__version__
