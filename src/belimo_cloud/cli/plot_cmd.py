"""`belimo plot KIND`: the toolkit's figures as PNG or SVG files, from the API or the store."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from belimo_cloud.cli.counter_options import (
    MaxPowerOption,
    ResetChoice,
    ResetPolicyOption,
    RolloverOption,
    SpreadGapsOption,
    policy_from_options,
)
from belimo_cloud.cli.energy_cmd import (
    DEFAULT_SPAN,
    FREQ,
    DeviceOption,
    Period,
    SearchOption,
    StoreReadOption,
    check_tz,
    period_range,
)
from belimo_cloud.cli.exit_codes import CommandError, ExitStatus
from belimo_cloud.cli.options import (
    DEFAULT_TZ,
    DataProfileOption,
    FromOption,
    LegacyProfileOption,
    State,
    ToOption,
    TzOption,
    data_profile,
    state_of,
)
from belimo_cloud.cli.progress import Step, working
from belimo_cloud.cli.render import note
from belimo_cloud.cli.sources import (
    Selection,
    Source,
    load,
    require_samples,
    store_energy_rows,
)

if TYPE_CHECKING:
    import pandas as pd

    from belimo_cloud.analysis import CounterPolicy

__all__ = ["Kind", "register"]


class Kind(StrEnum):
    """Figures of `belimo plot` (belimo_cloud.plot.PLOTS)."""

    consumption = "consumption"
    stacked = "stacked"
    heatmap = "heatmap"
    dt_flow = "dt-flow"
    fleet = "fleet"


class Direction(StrEnum):
    """Which energy counter."""

    heating = "heating"
    cooling = "cooling"


COUNTERS = ("Heating_E_J", "Cooling_E_J")
# dT and flow as bucket averages, like the report: a last sample per bucket is one moment of
# a valve that modulates. The setpoint is a setting, read as the bucket's last value.
AVERAGED = ("DeltaT_K", "RelFlow_Fb_Rel2Vmax")
SETPOINT = ("SpDeltaT_applied_K",)
HYDRONICS = AVERAGED + SETPOINT


def plot(  # noqa: PLR0917
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Argument(case_sensitive=False, help="Which figure.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The figure file: .png or .svg.")],
    store: StoreReadOption = None,
    search: SearchOption = None,
    dataprofile: DataProfileOption = None,
    old_profile: LegacyProfileOption = None,
    device: DeviceOption = None,
    start: FromOption = None,
    end: ToOption = None,
    by: Annotated[
        Period, typer.Option("--by", case_sensitive=False, help="Period of consumption bars.")
    ] = Period.day,
    direction: Annotated[
        Direction, typer.Option(case_sensitive=False, help="Heating or cooling energy.")
    ] = Direction.heating,
    tz: TzOption = DEFAULT_TZ,
    max_power: MaxPowerOption = None,
    spread_gaps: SpreadGapsOption = False,
    reset_policy: ResetPolicyOption = ResetChoice.rate,
    rollover: RolloverOption = None,
) -> None:
    """Draw a figure: consumption bars, stacked consumption, hourly heatmap, dT vs flow, fleet.

    Energy figures show one direction (--direction), never heating and cooling added up; on
    a fleet's bars only the share of the devices carrying a flag is marked. Counters are read
    as by `belimo energy` (same options); dT and flow are hourly averages. Dates without a
    zone are local times in --tz.
    """
    from belimo_cloud.plot import save

    if output.suffix.lower() not in (".png", ".svg"):
        raise CommandError(f"-o: {output.name!r} is not a .png or .svg file name")
    st = state_of(ctx)
    check_tz(tz)
    policy = policy_from_options(max_power, spread_gaps, reset_policy, rollover)
    begin, stop = period_range(
        start, end, DEFAULT_SPAN[by.value], from_store=store is not None, tz=tz
    )
    names: tuple[str, ...] = {Kind.fleet: (), Kind.dt_flow: HYDRONICS}.get(kind, COUNTERS)
    selection = Selection(
        search=search,
        profile=data_profile(dataprofile, old_profile),
        device_ids=tuple(device or ()),
        names=names,
        start=begin,
        end=stop,
    )
    with working(f"Drawing the {kind.value} figure") as step:
        if kind is Kind.fleet:
            figure = _fleet(load(st, selection, store, step=step))
        elif kind is Kind.dt_flow:
            figure = _dt_flow(_averaged_source(st, selection, store, step))
        else:
            freq = "h" if kind is Kind.heatmap else FREQ[by.value]
            if store is not None:
                # A batch of whole devices at a time; the heatmap keeps only the fleet's sums.
                devices, energy = store_energy_rows(
                    store,
                    selection,
                    [direction.value],
                    freq=freq,
                    tz=tz,
                    policy=policy,
                    step=step,
                    reduce=_fleet_sums if kind is Kind.heatmap else None,
                )
                if kind is Kind.heatmap:
                    energy = _fleet_sums(energy)
            else:
                source = load(st, selection, store, step=step)
                step("reading the counters")
                devices, energy = (
                    source.devices,
                    _energy_rows(source, freq=freq, tz=tz, span=(begin, stop), policy=policy),
                )
            figure = _draw(kind, devices, energy, direction=direction.value)
        path = save(figure, output)
    note(f"wrote the {kind.value} figure to {path}")


def _averaged_source(state: State, selection: Selection, store: Path | None, step: Step) -> Source:
    """dT and flow as ``avg`` buckets (from a store: where synced), the setpoint as ``last``."""
    from dataclasses import replace

    from belimo_cloud.cli.report_cmd import report_samples, store_samples

    if store is not None:
        # One valve is drawn: a selection of more is refused before anything is read.
        source, samples = store_samples(
            store,
            selection,
            state,
            step=step,
            last=SETPOINT,
            averaged=AVERAGED,
            check=lambda devices: _one_valve(devices) if devices > 1 else None,
        )
    else:
        with state.client() as client:
            source, samples = report_samples(
                client, selection, step=step, last=SETPOINT, averaged=AVERAGED
            )
    return replace(source, samples=samples.drop(columns="aggregation"))


def _energy_rows(
    source: Source,
    *,
    freq: str,
    tz: str,
    span: tuple[datetime | None, datetime | None],
    policy: CounterPolicy,
) -> pd.DataFrame:
    """Energy per device, direction and period of samples at hand."""
    from belimo_cloud.analysis.fleet import energy_by_device, named_samples

    require_samples(source, COUNTERS)
    named = named_samples(source.samples, source.catalogue, source.devices)
    begin, stop = span
    return energy_by_device(
        named,
        freq=freq,
        tz=tz,
        start=begin,
        end=stop,
        resolution=source.resolution,
        policy=policy,
    )


def _fleet_sums(energy: pd.DataFrame) -> pd.DataFrame:
    """Energy summed over the devices per direction and period (what the heatmap draws)."""
    sums = energy.groupby(["direction", "period"], sort=True)["consumption"].sum()
    return sums.reset_index()


def _energy(
    kind: Kind,
    source: Source,
    *,
    direction: str,
    freq: str,
    tz: str,
    span: tuple[datetime | None, datetime | None],
    policy: CounterPolicy,
) -> Any:
    """The energy figure of samples at hand."""
    energy = _energy_rows(source, freq=freq, tz=tz, span=span, policy=policy)
    return _draw(kind, source.devices, energy, direction=direction)


def _draw(kind: Kind, devices: pd.DataFrame, energy: pd.DataFrame, *, direction: str) -> Any:
    """An energy figure of one direction from energy rows per device (or the fleet's sums)."""
    from belimo_cloud.analysis.fleet import fleet_periods
    from belimo_cloud.plot import calendar_heatmap, consumption_bars, stacked_consumption

    energy = energy[energy["direction"] == direction]
    if energy.empty:
        raise CommandError(
            f"no {direction} energy in this selection: its {direction} counters never moved; "
            "try the other --direction",
            ExitStatus.NOT_FOUND,
        )
    what = f"{direction.capitalize()} energy"
    if kind is Kind.stacked:
        return stacked_consumption(energy, devices, title=f"{what} by device")
    label = _label(devices)
    if kind is Kind.heatmap:
        if "device_id" in energy.columns:  # rows per device: sum them as the fleet's
            energy = _fleet_sums(energy)
        hourly = energy.set_index("period")["consumption"]
        return calendar_heatmap(hourly, title=f"{what} per hour, {label}")
    total = fleet_periods(energy, direction=direction).set_index("period")
    return consumption_bars(total, title=f"{what}, {label}")


def _label(devices: pd.DataFrame) -> str:
    names = list(devices["display_name"].dropna())
    return names[0] if len(names) == 1 else f"{len(names)} devices"


def _dt_flow(source: Source) -> Any:
    from belimo_cloud.analysis.fleet import named_samples, series_of
    from belimo_cloud.plot import dt_vs_flow

    require_samples(source, HYDRONICS)
    devices = sorted(set(source.samples["device_id"]))
    if len(devices) != 1:
        _one_valve(len(devices))
    named = named_samples(source.samples, source.catalogue, source.devices)
    dt = series_of(named, devices[0], "DeltaT_K")
    flow = series_of(named, devices[0], "RelFlow_Fb_Rel2Vmax")
    setpoint = series_of(named, devices[0], "SpDeltaT_applied_K")
    if dt.empty or flow.empty:
        raise CommandError(
            "dt-flow needs DeltaT_K and RelFlow_Fb_Rel2Vmax samples of an Energy Valve",
            ExitStatus.NOT_FOUND,
        )
    return dt_vs_flow(
        dt,
        flow,
        setpoint=float(setpoint.median()) if not setpoint.empty else None,
        title=f"dT against flow, {_label(source.devices)}",
    )


def _one_valve(devices: int) -> NoReturn:
    raise CommandError(
        f"dt-flow draws one valve, but the selection has {devices}; "
        "narrow it with --device ID or --search"
    )


def _fleet(source: Source) -> Any:
    from belimo_cloud.plot import fleet_status

    if source.devices.empty:
        raise CommandError("no devices in this selection", ExitStatus.NOT_FOUND)
    return fleet_status(source.devices, title=f"Fleet status, {len(source.devices)} devices")


def register(app: typer.Typer) -> None:
    """Add the plot command to the app."""
    app.command(rich_help_panel="Analytics")(plot)
