"""Files the pages load from this server: Plotly from its installed package, our own assets.

Nothing is fetched from elsewhere (no CDN, no web font): the dashboard works offline.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from belimo_cloud.errors import ConfigError

__all__ = ["STATIC", "plotly_js"]

STATIC = Path(__file__).with_name("static")


@cache
def plotly_js() -> Path:
    """The ``plotly.min.js`` bundled with the installed ``plotly`` package."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "belimo serve needs Plotly: pip install 'belimo-cloud[web]' (or pip install plotly)"
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "package_data" / "plotly.min.js"
        if path.is_file():
            return path
    raise ConfigError("the installed plotly package has no package_data/plotly.min.js")
