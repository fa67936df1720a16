"""`belimo baseline` (weather-normalised savings per device and fleet) and `belimo
degree-days` (HDD, CDD and HGT 20/12 per local day, month or year)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from belimo_cloud.cli.energy_cmd import DeviceOption, SearchOption, StoreReadOption
from belimo_cloud.cli.exit_codes import CommandError, ExitStatus
from belimo_cloud.cli.options import (
    DEFAULT_TZ,
    DataProfileOption,
    FormatOption,
    LegacyProfileOption,
    OutputOption,
    TzOption,
    data_profile,
    parse_when,
    state_of,
    tz_of,
)
from belimo_cloud.cli.progress import working
from belimo_cloud.cli.render import emit, note
from belimo_cloud.cli.sources import Selection, load, require_samples

if TYPE_CHECKING:
    import pandas as pd

    from belimo_cloud.analysis.mv_daytypes import DayTypes
    from belimo_cloud.analysis.mv_fleet import Period

__all__ = ["baseline", "degree_days_command", "parse_period", "register"]


class DayTypeChoice(StrEnum):
    """`belimo baseline --day-types`: one model, one per day type, or the better fit."""

    AUTO = "auto"
    SINGLE = "single"
    SPLIT = "split"


class By(StrEnum):
    """Periods of `belimo degree-days --by`."""

    day = "day"
    month = "month"
    year = "year"


_LABEL = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
WeatherOption = Annotated[
    str,
    typer.Option(
        "--weather",
        help="Weather CSV (site,timestamp,temperature, or a MeteoSwiss open-data file), or "
        "open-meteo:LAT,LON for the Open-Meteo archive (cached).",
    ),
]
WeatherUrlOption = Annotated[
    str | None,
    typer.Option("--weather-url", help="Another Open-Meteo archive URL (a mirror).", hidden=True),
]
SiteOption = Annotated[
    str | None, typer.Option("--site", help="Site of the weather file (if it has several).")
]
_TABLE = (
    "display_name",
    "direction",
    "form",
    "day_types",
    "heating_balance",
    "r2",
    "cvrmse",
    "savings_kwh",
    "savings_uncertainty_kwh",
    "savings_percent",
    "normalised_savings_percent",
    "sufficient",
)


def parse_period(text: str, option: str, *, tz: str) -> Period:
    """``START..END`` (dates local to ``tz``, end exclusive) as a local :class:`Period`."""
    import pandas as pd

    from belimo_cloud.analysis.mv_fleet import Period

    first, sep, last = text.partition("..")
    if not sep or not first.strip() or not last.strip():
        raise CommandError(
            f"{option}: {text!r} is not a period; use START..END, e.g. 2017-01-01..2018-01-01"
        )
    now = datetime.now(UTC)
    start = parse_when(first, option, now=now, tz=tz)
    end = parse_when(last, option, now=now, tz=tz)
    if start is None or end is None or end <= start:
        raise CommandError(f"{option}: the end of {text!r} must be after its start")
    return Period(pd.Timestamp(start).tz_convert(tz), pd.Timestamp(end).tz_convert(tz))


_OPEN_METEO = "open-meteo:"


def weather_temperatures(
    spec: str,
    *,
    tz: str,
    site: str | None,
    span: tuple[datetime | None, datetime | None] = (None, None),
    url: str | None = None,
) -> pd.Series[float]:
    """Daily mean temperatures from a weather file or, for ``open-meteo:LAT,LON``, from the
    Open-Meteo archive over the local days of ``span``."""
    from belimo_cloud.analysis.weather import daily_temperature, read_weather

    if spec.startswith(_OPEN_METEO):
        weather = _open_meteo(spec, tz=tz, span=span, url=url)
        site = None
    else:
        path = Path(spec)
        if not path.is_file():
            raise CommandError(
                f"--weather: {path} does not exist; `belimo emulator weather -o {path}` writes "
                "the demo's, or give a CSV with site,timestamp,temperature",
                ExitStatus.NOT_FOUND,
            )
        weather = read_weather(path, tz=tz)
    daily = daily_temperature(weather, tz=tz, site=site)
    if daily.empty:
        raise CommandError(f"--weather: {spec} holds no daily temperatures")
    return daily


def _open_meteo(
    spec: str, *, tz: str, span: tuple[datetime | None, datetime | None], url: str | None
) -> pd.DataFrame:
    from platformdirs import user_cache_dir

    from belimo_cloud.client.openmeteo import ARCHIVE_URL, OpenMeteo

    try:
        lat_text, lon_text = spec.removeprefix(_OPEN_METEO).split(",")
        latitude, longitude = float(lat_text), float(lon_text)
    except ValueError:
        raise CommandError(
            f"--weather: {spec!r} is not open-meteo:LAT,LON, e.g. open-meteo:47.38,8.54"
        ) from None
    start, end = span
    if start is None or end is None:
        raise CommandError("--weather open-meteo: needs the period (--from and --to)")
    first = start.astimezone(ZoneInfo(tz)).date()
    last = (end - timedelta(microseconds=1)).astimezone(ZoneInfo(tz)).date()
    cache = Path(user_cache_dir("belimo-cloud")) / "open-meteo"
    with OpenMeteo(cache, base_url=url or ARCHIVE_URL) as archive:
        return archive.daily(latitude, longitude, first, last, tz=tz, site=spec)


def baseline(  # noqa: PLR0917
    ctx: typer.Context,
    baseline_period: Annotated[
        str,
        typer.Option("--baseline", help="Baseline period START..END (local dates, end exclusive)."),
    ],
    weather: WeatherOption,
    reporting_period: Annotated[
        str | None,
        typer.Option("--reporting", help="Reporting period START..END to compare with."),
    ] = None,
    store: StoreReadOption = None,
    search: SearchOption = None,
    dataprofile: DataProfileOption = None,
    old_profile: LegacyProfileOption = None,
    device: DeviceOption = None,
    site: SiteOption = None,
    tz: TzOption = DEFAULT_TZ,
    confidence: Annotated[
        float, typer.Option("--confidence", help="Confidence of the savings interval (0..1).")
    ] = 0.95,
    day_types: Annotated[
        DayTypeChoice,
        typer.Option(
            "--day-types",
            case_sensitive=False,
            help="One model for all days (single), one for workdays and one for weekends "
            "(split), or the better fit (auto).",
        ),
    ] = DayTypeChoice.AUTO,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Save the first device's energy signature (.png/.svg)."),
    ] = None,
    savings_plot: Annotated[
        Path | None,
        typer.Option("--savings-plot", help="Save the first device's cumulative savings."),
    ] = None,
    weather_url: WeatherUrlOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """Weather-normalised baselines and savings (kWh, %) per device and for the fleet.

    Fits each device's daily energy signature (change-point model of kWh/day on outdoor
    temperature) over --baseline, predicts --reporting from its weather and reports the
    avoided energy with its uncertainty, the fit statistics (R2, CV(RMSE), NMBE against
    ASHRAE Guideline 14) and the consumption normalised to a typical year.
    """
    from belimo_cloud.analysis.fleet import energy_by_device, named_samples
    from belimo_cloud.analysis.mv_fleet import fleet_savings

    st = state_of(ctx)
    tz_of(tz)
    profile = data_profile(dataprofile, old_profile)
    if not 0.0 < confidence < 1.0:
        raise CommandError("--confidence must be between 0 and 1, e.g. 0.95")
    base = parse_period(baseline_period, "--baseline", tz=tz)
    report = parse_period(reporting_period, "--reporting", tz=tz) if reporting_period else None
    start = min(base.start, report.start) if report else base.start
    end = max(base.end, report.end) if report else base.end
    temperature = weather_temperatures(
        weather,
        tz=tz,
        site=site,
        span=(start.to_pydatetime(), end.to_pydatetime()),
        url=weather_url,
    )
    selection = Selection(
        search=search,
        profile=profile,
        device_ids=tuple(device or ()),
        start=start.to_pydatetime(),
        end=end.to_pydatetime(),
    )
    with working("Fitting baselines") as step:
        source = load(st, selection, store, step=step)
        require_samples(source, ["Heating_E_J", "Cooling_E_J"])
        step("daily energy")
        named = named_samples(source.samples, source.catalogue, source.devices)
        daily = energy_by_device(
            named, freq="D", tz=tz, start=start, end=end, resolution=source.resolution
        )
        step("fitting")
        result = fleet_savings(
            daily,
            temperature,
            baseline=base,
            reporting=report,
            confidence=confidence,
            day_types=day_types.value,
        )
    if result.empty:
        raise CommandError(
            "no device has energy in the baseline period; check --baseline and --search",
            ExitStatus.NOT_FOUND,
        )
    names = source.devices.set_index("device_id")["display_name"].to_dict()
    names["fleet"] = "fleet"
    result.insert(1, "display_name", result["device_id"].map(names))
    if plot is not None or savings_plot is not None:
        _plots(daily, temperature, result, (base, report), (plot, savings_plot), day_types.value)
    emit(
        result.round(4),
        st.format(fmt),
        st.out(output),
        table_columns=_TABLE,
    )


def _plots(  # noqa: PLR0917
    daily: pd.DataFrame,
    temperature: pd.Series[float],
    result: pd.DataFrame,
    periods: tuple[Period, Period | None],
    paths: tuple[Path | None, Path | None],
    day_types: DayTypes,
) -> None:
    base, report = periods
    plot, savings_plot = paths
    import pandas as pd

    from belimo_cloud.analysis.baseline import cumulative_savings, fit_baseline, pair_days
    from belimo_cloud.analysis.mv_fleet import FLEET, day_energy
    from belimo_cloud.plot._figure import save
    from belimo_cloud.plot.signature import cumulative_savings_plot, energy_signature

    first = result[result["device_id"] != FLEET].iloc[0]
    part = daily[
        (daily["device_id"] == first["device_id"]) & (daily["direction"] == first["direction"])
    ]
    paired = pair_days(temperature, day_energy(part, pd.DatetimeIndex(temperature.index).tz))
    before = paired[(paired.index >= base.start) & (paired.index < base.end)]
    after = paired[(paired.index >= report.start) & (paired.index < report.end)] if report else None
    model = fit_baseline(before, day_types=day_types)
    title = f"{first['display_name']} ({first['direction']})"
    if plot is not None:
        save(energy_signature(before, model, reporting=after, title=title), plot)
        note(f"wrote the energy signature to {plot}")
    if savings_plot is not None:
        if after is None or after.empty:
            raise CommandError("--savings-plot needs --reporting with data")
        figure = cumulative_savings_plot(
            cumulative_savings(model, after),
            uncertainty=float(first["savings_uncertainty_kwh"]),
            title=f"Cumulative savings: {title}",
        )
        save(figure, savings_plot)
        note(f"wrote the cumulative savings to {savings_plot}")


def degree_days_command(  # noqa: PLR0917
    ctx: typer.Context,
    weather: WeatherOption,
    start: Annotated[
        str | None, typer.Option("--from", help="First local day (default: the file's first).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="End, exclusive (default: after the file's last).")
    ] = None,
    base: Annotated[
        float, typer.Option("--base", help="Base temperature of HDD (and CDD) [°C].")
    ] = 18.0,
    cooling_base: Annotated[
        float | None, typer.Option("--cooling-base", help="Own base of CDD [°C].")
    ] = None,
    by: Annotated[By, typer.Option("--by", case_sensitive=False, help="Local period.")] = By.day,
    site: SiteOption = None,
    tz: TzOption = DEFAULT_TZ,
    weather_url: WeatherUrlOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """Heating and cooling degree days [K·d] with a base, and Swiss HGT 20/12, per local
    day, month or year."""
    from belimo_cloud.analysis.degree_days import degree_days

    st = state_of(ctx)
    tz_of(tz)
    now = datetime.now(UTC)
    begin = parse_when(start, "--from", now=now, tz=tz)
    stop = parse_when(end, "--to", now=now, tz=tz)
    if begin is not None and stop is not None and stop <= begin:
        raise CommandError("--to must be after --from")
    temperature = weather_temperatures(
        weather, tz=tz, site=site, span=(begin, stop), url=weather_url
    )
    if begin is not None:
        temperature = temperature[temperature.index >= begin]
    if stop is not None:
        temperature = temperature[temperature.index < stop]
    if temperature.empty:
        raise CommandError("no temperatures in --from/--to", ExitStatus.NOT_FOUND)
    table = degree_days(temperature, base=base, cooling_base=cooling_base, by=by.value)
    table = table.round(3).reset_index()
    table["period"] = table["period"].dt.strftime(_LABEL[by.value])
    emit(table, st.format(fmt), st.out(output))


def register(app: typer.Typer) -> None:
    """Add `baseline` and `degree-days` to the app."""
    app.command("baseline", rich_help_panel="Analytics")(baseline)
    app.command("degree-days", rich_help_panel="Analytics")(degree_days_command)
