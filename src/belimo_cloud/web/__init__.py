"""`belimo serve`: a local web dashboard over the store and, with an account, the live stream.

``create_app(ServeConfig(store=...))`` builds the FastAPI application: the fleet, device and
compare pages (Jinja2 templates shared with the HTML report), JSON endpoints for the charts
(series reduced on the server), Plotly served from its installed package. The store is
opened read-only, only while a snapshot is read.
"""

from __future__ import annotations

from belimo_cloud.web.app import ServeConfig, create_app
from belimo_cloud.web.data import StoreData
from belimo_cloud.web.live import LiveFeed
from belimo_cloud.web.reduce import minmax_reduce
from belimo_cloud.web.security import check_binding, is_loopback

__all__ = [
    "LiveFeed",
    "ServeConfig",
    "StoreData",
    "check_binding",
    "create_app",
    "is_loopback",
    "minmax_reduce",
]
