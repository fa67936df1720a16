"""Pure analytics over pandas/numpy: units, counters to consumption, hydronics, fleet.

No I/O here: functions take Series and DataFrames (from the store or straight from the
client) and return new ones. Timestamps are tz-aware UTC; local calendars appear only where a
function takes ``tz``.
"""

from __future__ import annotations

from belimo_cloud.analysis import units
from belimo_cloud.analysis.baseline import fit_baseline, savings
from belimo_cloud.analysis.degree_days import degree_days
from belimo_cloud.analysis.energy import COLUMNS, QUALITY_FLAGS, consumption, consumption_frame
from belimo_cloud.analysis.episodes import (
    RECOMMENDATIONS,
    condition_episodes,
    event_episodes,
    low_delta_t_episodes,
    vmax_episodes,
)
from belimo_cloud.analysis.events import EVENT_COLUMNS, counter_events, counter_events_frame
from belimo_cloud.analysis.fleet import (
    COUNTER_NAMES,
    device_status,
    energy_by_device,
    energy_events,
    fleet_periods,
    fleet_summary,
    heating_cooling_split,
    named_samples,
    problem_devices,
    ranking,
    series_of,
)
from belimo_cloud.analysis.hydronics import (
    coil_saturation,
    delta_t,
    delta_t_vs_flow,
    energy_check,
    low_delta_t,
    power_check,
    sample_hours,
    time_at_vmax,
)
from belimo_cloud.analysis.mv_fleet import fleet_savings
from belimo_cloud.analysis.mv_models import fit_change_point
from belimo_cloud.analysis.periods import normalize_freq, period_bounds
from belimo_cloud.analysis.policy import RESET_POLICIES, CounterPolicy
from belimo_cloud.analysis.valves import VALVE_COLUMNS, valve_episodes, valve_kpis
from belimo_cloud.analysis.weather import daily_temperature, read_weather

__all__ = [
    "COLUMNS",
    "COUNTER_NAMES",
    "EVENT_COLUMNS",
    "QUALITY_FLAGS",
    "RECOMMENDATIONS",
    "RESET_POLICIES",
    "VALVE_COLUMNS",
    "CounterPolicy",
    "coil_saturation",
    "condition_episodes",
    "consumption",
    "consumption_frame",
    "counter_events",
    "counter_events_frame",
    "daily_temperature",
    "degree_days",
    "delta_t",
    "delta_t_vs_flow",
    "device_status",
    "energy_by_device",
    "energy_check",
    "energy_events",
    "event_episodes",
    "fit_baseline",
    "fit_change_point",
    "fleet_periods",
    "fleet_savings",
    "fleet_summary",
    "heating_cooling_split",
    "low_delta_t",
    "low_delta_t_episodes",
    "named_samples",
    "normalize_freq",
    "period_bounds",
    "power_check",
    "problem_devices",
    "ranking",
    "read_weather",
    "sample_hours",
    "savings",
    "series_of",
    "time_at_vmax",
    "units",
    "valve_episodes",
    "valve_kpis",
    "vmax_episodes",
]
