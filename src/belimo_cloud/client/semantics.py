"""Names for what an Energy Valve measures, resolved against a data profile at run time.

Datapoint ids differ between profile versions; ``default.name`` does not. Users and the sync
planner speak of "heating_energy" or "Heating_E_J", and this module finds the id.
"""

from __future__ import annotations

from belimo_cloud.client.models import Datapoint, DataProfile
from belimo_cloud.errors import DataError

__all__ = ["SEMANTIC_NAMES", "resolve", "resolve_many", "semantic_name"]

SEMANTIC_NAMES: dict[str, str] = {
    "heating_energy": "Heating_E_J",
    "cooling_energy": "Cooling_E_J",
    "power": "AbsPower_Fb_W",
    "relative_flow": "RelFlow_Fb_Rel2Vmax",
    "flow": "AbsFlow_Fb_m3s",
    "supply_temperature": "T1_remote_K",
    "return_temperature": "T2_embeded_K",
    "delta_t": "DeltaT_K",
    "delta_t_setpoint": "SpDeltaT_applied_K",
    "relative_power": "RelPower_Fb_Rel2Pmax",
    "volume": "Flow_Volume_total_m3",
}


def resolve(profile: DataProfile, name_or_id: str) -> Datapoint:
    """The datapoint meant by an id ("evcloud.210"), a default.name ("Heating_E_J") or a
    semantic name ("heating_energy"); DataError when the profile has none of them."""
    text = name_or_id.strip()
    if text in profile:
        return profile.get(text)
    found = profile.by_name(text)
    if found is not None:
        return found
    default_name = SEMANTIC_NAMES.get(text.lower().replace("-", "_").replace(" ", "_"))
    if default_name is not None:
        found = profile.by_name(default_name)
        if found is not None:
            return found
    known = ", ".join(sorted(SEMANTIC_NAMES))
    raise DataError(
        f"profile {profile.key} has no datapoint {name_or_id!r}; give a datapoint id, "
        f"a default.name or one of: {known}"
    )


def resolve_many(profile: DataProfile, names: str | list[str] | tuple[str, ...]) -> list[Datapoint]:
    """:func:`resolve` for several names, keeping their order and dropping repeats."""
    items = [names] if isinstance(names, str) else list(names)
    out: list[Datapoint] = []
    for item in items:
        dp = resolve(profile, item)
        if all(existing.id != dp.id for existing in out):
            out.append(dp)
    return out


def semantic_name(datapoint: Datapoint) -> str | None:
    """The semantic name of a datapoint ("heating_energy"), or None when it has none."""
    for semantic, default_name in SEMANTIC_NAMES.items():
        if datapoint.name == default_name:
            return semantic
    return None
