"""`belimo plot dt-flow` reads dT and flow as hourly averages, from the API and from a store,
like the report does; the demo's report does too."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from belimo_cloud.cli.options import State
from belimo_cloud.cli.plot_cmd import HYDRONICS, _averaged_source
from belimo_cloud.cli.sources import Selection, Source
from tests.cli.conftest import Invoke

VALVE = "Heizung EG Süd-West"
START = datetime(2018, 1, 9, 23, tzinfo=UTC)
END = datetime(2018, 1, 11, 23, tzinfo=UTC)


def _ignore(_text: str) -> None:
    return None


def _series(source: Source, name: str) -> pd.Series[float]:
    ids = set(source.catalogue.loc[source.catalogue["name"] == name, "datapoint_id"])
    rows = source.samples[source.samples["datapoint_id"].isin(ids)]
    return rows.set_index("timestamp")["value"].sort_index().astype(float)


def _api(name: str, aggregation: str) -> pd.Series[float]:
    """The valve's hourly ``name`` buckets straight from the client."""
    with State().client() as client:
        device = next(d for d in client.devices.list(search=VALVE) if VALVE in (d.name or ""))
        profile = client.dataprofiles.for_device(device)
        assert profile is not None
        point = profile.by_name(name)
        assert point is not None
        hour = pd.Timedelta(hours=1)
        frame = client.history.timeseries(
            device.id,
            [point.id],
            START - hour,
            END + hour,
            resolution="1h",
            aggregation=aggregation,
        )
    return frame.set_index("timestamp")["value"].sort_index().astype(float)


def test_dt_flow_reads_average_buckets_from_the_api(on_emulator: str) -> None:
    selection = Selection(search=VALVE, names=HYDRONICS, start=START, end=END)
    source = _averaged_source(State(), selection, None, _ignore)
    for name in ("DeltaT_K", "RelFlow_Fb_Rel2Vmax"):
        got = _series(source, name)
        average, last = _api(name, "avg"), _api(name, "last")
        assert len(got) > 40
        pd.testing.assert_series_equal(got, average.loc[got.index], check_names=False)
        # The two aggregations differ on a modulating valve: the test tells them apart.
        assert not got.equals(last.loc[got.index])
    assert not _series(source, "SpDeltaT_applied_K").empty


@pytest.mark.slow
def test_dt_flow_reads_average_buckets_from_a_store(
    invoke: Invoke, on_emulator: str, tmp_path: Path
) -> None:
    store = tmp_path / "fleet.duckdb"
    for aggregation, points in (("avg", "delta_t,relative_flow"), ("last", "delta_t_setpoint")):
        synced = invoke(
            "sync",
            "--search",
            VALVE,
            "--datapoints",
            points,
            "--aggregation",
            aggregation,
            "--from",
            "2018-01-10",
            "--to",
            "2018-01-12",
            "--resolution",
            "1h",
            "--store",
            str(store),
        )
        assert synced.exit_code == 0, synced.output
    selection = Selection(search=VALVE, names=HYDRONICS, start=START, end=END)
    source = _averaged_source(State(), selection, store, _ignore)
    got = _series(source, "DeltaT_K")
    assert len(got) > 40
    average = _api("DeltaT_K", "avg")
    pd.testing.assert_series_equal(got, average.loc[got.index], check_names=False)
    figure = tmp_path / "dt.png"
    drawn = invoke(
        "plot",
        "dt-flow",
        "--store",
        str(store),
        "--from",
        "2018-01-10",
        "--to",
        "2018-01-12",
        "-o",
        str(figure),
    )
    assert drawn.exit_code == 0, drawn.output
    assert figure.read_bytes().startswith(b"\x89PNG")
