"""The report's "Weather-normalised, year over year" section, laid out from
:class:`~belimo_cloud.report.weather_content.WeatherComparison`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from belimo_cloud.report.format import missing, number, png
from belimo_cloud.report.page import Block, Cell, Figure, Heading, Row, Section, Table, Text

if TYPE_CHECKING:
    from belimo_cloud.report.weather_content import Signature, WeatherComparison

__all__ = ["SECTION_ID", "SECTION_TITLE", "weather_section"]

SECTION_ID = "weather"
SECTION_TITLE = "Weather-normalised, year over year"
_DIRECTION = {"heating": "Heating energy", "cooling": "Cooling energy"}
_NUMERIC = (
    "Last year [kWh]",
    "This year [kWh]",
    "NAC last year [kWh]",
    "NAC this year [kWh]",
    "Normalised change",
    "±",
    "R²",
    "CV(RMSE)",
)


def _signed(value: Any, digits: int = 1) -> str:
    if missing(value) or not math.isfinite(float(value)):
        return ""
    return f"{float(value):+.{digits}f} %"


def _plain(value: Any, digits: int, suffix: str = "") -> str:
    if missing(value) or not math.isfinite(float(value)):
        return ""
    return f"{float(value):.{digits}f}{suffix}"


def _row(r: dict[Any, Any]) -> Row:
    fleet = r["device_id"] == "fleet"
    passes = bool(r["guideline_14"])
    note = "" if r["sufficient"] else "too little data: " + str(r["warnings"])
    change = r["change_percent"]
    attrs = [("device", str(r["device_id"])), ("direction", str(r["direction"]))]
    if not missing(change) and math.isfinite(float(change)):
        attrs.append(("change", f"{float(change):.2f}"))
    return Row(
        cells=(
            Cell(str(r["display_name"])),
            Cell(number(r["last_kwh"], 0), numeric=True),
            Cell(number(r["this_kwh"], 0), numeric=True),
            Cell(number(r["nac_last_kwh"], 0), numeric=True),
            Cell(number(r["nac_this_kwh"], 0), numeric=True),
            Cell(_signed(change), numeric=True),
            Cell(_plain(r["change_uncertainty_percent"], 1, " %"), numeric=True),
            Cell(_plain(r["r2"], 3), numeric=True),
            Cell(_plain(100.0 * float(r["cvrmse"]), 1, " %"), numeric=True),
            Cell("pass" if passes else "fail", tag="ok" if passes else "warn"),
            Cell(note, tag="warn" if note else ""),
        ),
        level="" if r["sufficient"] else "warn",
        attrs=(*attrs, ("fleet", "true" if fleet else "false")),
    )


def _table(data: WeatherComparison, direction: str) -> Table:
    rows = data.rows[data.rows["direction"] == direction]
    heads = (
        "Device",
        *_NUMERIC[:6],
        "R²",
        "CV(RMSE)",
        "Guideline 14",
        "Note",
    )
    return Table(
        tuple(Cell(h, numeric=h in _NUMERIC) for h in heads),
        tuple(_row(r) for r in rows.to_dict("records")),
        empty=f"No device with {direction} energy in both years.",
        name=f"weather-{direction}",
    )


def _degree_day_table(data: WeatherComparison) -> Table:
    frame = data.degree_days
    base = float(frame["base"].iloc[0]) if len(frame) else math.nan
    heads = (
        "Year",
        "Local days",
        "Days",
        "Mean [°C]",
        f"HDD {base:g} [K·d]",
        "HGT 20/12 [K·d]",
        f"CDD {base:g} [K·d]",
    )
    rows = tuple(
        Row(
            cells=(
                Cell(str(r["year"]).capitalize()),
                Cell(str(r["period"])),
                Cell(str(r["days"]), numeric=True),
                Cell(_plain(r["mean_temperature"], 1), numeric=True),
                Cell(number(r["hdd"], 0), numeric=True),
                Cell(number(r["hgt"], 0), numeric=True),
                Cell(number(r["cdd"], 0), numeric=True),
            ),
            attrs=(("year", str(r["year"]).replace(" ", "-")),),
        )
        for r in frame.to_dict("records")
    )
    return Table(
        tuple(Cell(h, numeric=i >= 2) for i, h in enumerate(heads)),
        rows,
        empty="No weather in either year.",
        name="weather-degree-days",
    )


def _figure(sig: Signature) -> Figure:
    from belimo_cloud.plot.signature import energy_signature

    what = _DIRECTION.get(sig.direction, sig.direction)
    fig = energy_signature(
        sig.baseline,
        sig.model,
        reporting=sig.reporting,
        title=f"{sig.display_name}: {what.lower()} against outdoor temperature",
    )
    return Figure(
        png(fig),
        f"The fleet's largest normalised change ({sig.change_percent:+.1f} %): "
        f"{sig.display_name}, {sig.direction}. Grey: last year's days with its model; "
        "coloured: this year's days.",
        f"Energy signature of {sig.display_name}",
    )


def weather_section(data: WeatherComparison | None, figures: bool) -> Section:
    """The section; one line saying what is missing when there is nothing to compare."""
    if data is None:
        from belimo_cloud.report.weather_content import NO_WEATHER

        return Section(SECTION_ID, SECTION_TITLE, (Text(NO_WEATHER, muted=True),))
    if data.missing or data.baseline is None or data.reporting is None:
        return Section(SECTION_ID, SECTION_TITLE, (Text(data.missing, muted=True),))
    from belimo_cloud.report.weather_content import period_span

    base, rep = data.baseline, data.reporting
    blocks: list[Block] = [
        Text(
            f"Last year is the {(base.end - base.start).days} local days before the report "
            f"({period_span(base)}); "
            f"this year is the report's period ({period_span(rep)}). Each year's "
            "daily energy signature (change-point model of kWh/day on the day's mean outdoor "
            "temperature) is evaluated for a typical year made from all the weather given: the "
            "normalised annual consumption (NAC). The normalised change is NAC this year against "
            "NAC last year; ± is the 95 % uncertainty of last year's model over this year's "
            "days. R², CV(RMSE) and the ASHRAE Guideline 14 check (CV(RMSE) ≤ 30 %, "
            "|NMBE| ≤ 10 %) are last year's model's. Heating and cooling are never added up."
        ),
        Heading("Weather of each year"),
        _degree_day_table(data),
    ]
    for direction in ("heating", "cooling"):
        if (data.rows["direction"] == direction).any():
            blocks.append(Heading(f"{_DIRECTION[direction]}, normalised"))
            blocks.append(_table(data, direction))
    if figures and data.signature is not None:
        blocks.append(Heading("Energy signature of the largest change"))
        blocks.append(_figure(data.signature))
    return Section(SECTION_ID, SECTION_TITLE, tuple(blocks))
