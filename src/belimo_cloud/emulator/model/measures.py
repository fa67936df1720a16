"""Designed efficiency measures: known savings that measurement-and-verification must find.

A measure lowers one valve's heat load by a documented share from a documented moment on, at
equal weather: the demand the physics computes from the weather and the schedule is scaled
by ``1 - share``. Since the valve delivers its demand at the dT it holds (flow well below
Vmax), its heating energy falls by the same share on every heating day.

The demo tenant's measure, the truth `belimo baseline` is checked against:

- **Energieventil Heizung EG Nord-Ost**: heating curve corrected (supply temperature lowered
  and night setback extended) on 2018-01-01 00:00 local time (2017-12-31T23:00:00Z); heating
  energy 15 % lower at equal weather. 2017 is its baseline year, 2018 its reporting year.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from belimo_cloud.emulator.model.physics import ValveParams

__all__ = ["MEASURES", "EfficiencyMeasure", "with_measure"]


@dataclass(frozen=True)
class EfficiencyMeasure:
    """A load reduction of ``share`` (0..1) on the demo tenant's valve ``display_name`` from
    ``start`` (ISO 8601, Z) on."""

    display_name: str
    start: str
    share: float
    description: str

    @property
    def start_epoch(self) -> int:
        """``start`` in epoch seconds."""
        return int(datetime.fromisoformat(self.start.replace("Z", "+00:00")).timestamp())


MEASURES: tuple[EfficiencyMeasure, ...] = (
    EfficiencyMeasure(
        "Energieventil Heizung EG Nord-Ost",
        "2017-12-31T23:00:00Z",
        0.15,
        "Heating curve corrected (supply temperature lowered, night setback extended): "
        "heating energy 15 % lower at equal weather from 2018-01-01 00:00 local time.",
    ),
)


def with_measure(name: str, tenant: int, valve: ValveParams) -> ValveParams:
    """``valve`` with its designed measure, if the demo tenant's ``name`` has one."""
    for measure in MEASURES:
        if tenant == 0 and measure.display_name == name:
            return replace(valve, measure=(measure.start_epoch, measure.share))
    return valve
