"""The local store: one DuckDB file of devices, datapoint catalogue, samples and sync coverage."""

from belimo_cloud.store.info import SeriesInfo, StoreInfo
from belimo_cloud.store.schema import SCHEMA_VERSION, default_store_path
from belimo_cloud.store.store import Store

__all__ = ["SCHEMA_VERSION", "SeriesInfo", "Store", "StoreInfo", "default_store_path"]
