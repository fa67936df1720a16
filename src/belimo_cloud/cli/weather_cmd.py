"""`belimo emulator weather`: the demo cloud's outdoor temperature as a weather CSV.

The demo fleet's loads follow the emulator's weather model; writing that model's outdoor
temperature in the toolkit's CSV form (see :mod:`belimo_cloud.analysis.weather`) lets
`belimo baseline` and `belimo degree-days` run on the demo with no internet.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from belimo_cloud.cli.exit_codes import CommandError
from belimo_cloud.cli.options import DEFAULT_TZ, TzOption, check_range, parse_when, tz_of
from belimo_cloud.cli.render import note, say

__all__ = ["DEMO_SITE", "demo_weather", "weather"]

#: Site name of the demo cloud's weather rows.
DEMO_SITE = "demo"
_STEP_S = 300  # the emulator's sample interval: the daily mean uses every sample of a day


def demo_weather(
    start: datetime,
    end: datetime,
    *,
    seed: int = 0,
    tz: str = DEFAULT_TZ,
    hourly: bool = False,
) -> str:
    """The emulator's outdoor temperature [degC] from ``start`` to ``end`` as weather CSV:
    daily means of the local days that start in the range, or hourly means (UTC hours)."""
    import numpy as np
    import pandas as pd

    from belimo_cloud.analysis.weather import weather_csv
    from belimo_cloud.emulator.model.weather import EPOCH0, Climate

    first = pd.Timestamp(start).tz_convert(tz).ceil("D") if not hourly else None
    begin = int(first.timestamp()) if first is not None else int(start.timestamp())
    stop = int(end.timestamp())
    begin = max(begin, EPOCH0)
    begin -= begin % _STEP_S if hourly else 0
    if stop <= begin:
        raise CommandError("the emulator's weather starts on 2017-01-01; move --from/--to later")
    times = np.arange(begin, stop, _STEP_S, dtype=np.int64)
    outdoor = Climate(seed).at(times).outdoor
    stamps = pd.to_datetime(times, unit="s", utc=True)
    series = pd.Series(outdoor, index=stamps)
    if hourly:
        means = series.groupby(stamps.floor("h")).mean()
        labels = pd.DatetimeIndex(means.index).strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        local = stamps.tz_convert(tz)
        days = local.normalize()
        grouped = series.groupby(days)
        counts = grouped.count()
        # Only whole local days: the last one may be cut by --to.
        expected = pd.Series(
            [
                int(((d + timedelta(days=1)).normalize() - d) / timedelta(seconds=_STEP_S))
                for d in counts.index
            ],
            index=counts.index,
        )
        means = grouped.mean()[counts >= expected]
        labels = pd.DatetimeIndex(means.index).strftime("%Y-%m-%d")
    rows = pd.DataFrame(
        {"site": DEMO_SITE, "timestamp": labels, "temperature": means.to_numpy(np.float64)}
    )
    return weather_csv(rows)


def weather(  # noqa: PLR0917
    start: Annotated[
        str, typer.Option("--from", help="First local day (ISO date; local time in --tz).")
    ],
    end: Annotated[str, typer.Option("--to", help="End (exclusive), same forms as --from.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the CSV here (default: stdout).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the demo fleet (as `emulator serve`).")] = 0,
    tz: TzOption = DEFAULT_TZ,
    hourly: Annotated[
        bool, typer.Option("--hourly", help="Hourly rows (UTC) instead of daily means.")
    ] = False,
) -> None:
    """The demo cloud's outdoor temperature (°C) as weather CSV: site,timestamp,temperature."""
    tz_of(tz)
    now = datetime.now(UTC)
    begin = parse_when(start, "--from", now=now, tz=tz)
    stop = parse_when(end, "--to", now=now, tz=tz)
    if begin is None or stop is None:
        raise CommandError("--from and --to are both needed")
    check_range(begin, stop)
    text = demo_weather(begin, stop, seed=seed, tz=tz, hourly=hourly)
    if output is None:
        say(text.rstrip("\n"))
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    rows = text.count("\n") - 1
    note(f"wrote {rows} row{'s' if rows != 1 else ''} of demo weather to {output}")
