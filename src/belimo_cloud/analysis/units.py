"""Unit conversion for analysis code: the same module as :mod:`belimo_cloud.units`.

Re-exported so that analysis users find it next to the functions that use it; there is one
implementation only.
"""

from __future__ import annotations

from belimo_cloud.units import (
    CANONICAL,
    DEFAULT_TARGET,
    J_PER_KWH,
    KELVIN_OFFSET,
    canonical_unit,
    convert,
    convert_delta,
    default_target,
    display_unit,
    scale_factor,
    targets,
)

__all__ = [
    "CANONICAL",
    "DEFAULT_TARGET",
    "J_PER_KWH",
    "KELVIN_OFFSET",
    "canonical_unit",
    "convert",
    "convert_delta",
    "default_target",
    "display_unit",
    "scale_factor",
    "targets",
]
