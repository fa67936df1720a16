"""energy, report and plot read counters with one CounterPolicy, from the same four options."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from belimo_cloud.analysis import CounterPolicy
from belimo_cloud.cli.counter_options import ResetChoice, policy_from_options
from belimo_cloud.cli.exit_codes import CommandError
from belimo_cloud.cli.options import State
from belimo_cloud.cli.plot_cmd import Kind, _energy
from belimo_cloud.cli.sources import Selection, load
from tests.cli.conftest import Invoke, one_line

VALVE = "Heizung EG Süd-West"
DAYS = ("--from", "2018-01-08", "--to", "2018-01-11")
COUNTER_OPTIONS = ("--max-power", "--spread-gaps", "--reset-policy", "--rollover")


@pytest.mark.parametrize("command", ["energy", "report", "plot"])
def test_the_three_commands_offer_the_same_counter_options(invoke: Invoke, command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0, result.output
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    for option in COUNTER_OPTIONS:
        assert option in text, f"{command} --help lacks {option}"
    assert "Counter policy" in text


@pytest.mark.parametrize("command", ["energy", "report", "plot"])
@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--max-power", "nan"), "--max-power"),
        (("--max-power", "0"), "--max-power"),
        (("--max-power", "-5"), "--max-power"),
        (("--max-power", "1e999"), "--max-power"),
        (("--rollover", "lots"), "--rollover"),
        (("--rollover", "0"), "--rollover"),
        (("--reset-policy", "sometimes"), "reset-policy"),
    ],
)
def test_bad_counter_options_are_usage_errors(
    invoke: Invoke, tmp_path: Path, command: str, args: tuple[str, ...], named: str
) -> None:
    # Refused before any data is read: no server and no store are needed.
    extra = ("fleet", "-o", str(tmp_path / "x.png")) if command == "plot" else ()
    result = invoke(command, *extra, *args, "--store", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 1, result.output
    assert named in one_line(result.stderr)
    assert "bug" not in result.stderr


def test_policy_from_options_maps_every_option() -> None:
    assert policy_from_options() == CounterPolicy()
    policy = policy_from_options("2500", True, ResetChoice.first, "4294967296")
    assert policy == CounterPolicy(
        max_power=2500.0, spread_gaps=True, reset_policy="first", rollover=4294967296.0
    )
    with pytest.raises(CommandError, match="--max-power"):
        policy_from_options("inf")


def _energy_rows(invoke: Invoke, *args: str) -> list[dict[str, Any]]:
    result = invoke(
        "energy", "--search", VALVE, "--direction", "heating", *DAYS, *args, "--format", "json"
    )
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def _bar_total(policy: CounterPolicy) -> float:
    """The heights of `belimo plot consumption`'s bars, drawn with ``policy``."""
    start = datetime(2018, 1, 7, 23, tzinfo=UTC)
    end = datetime(2018, 1, 10, 23, tzinfo=UTC)
    selection = Selection(search=VALVE, start=start, end=end)
    source = load(State(), selection, None)
    figure = _energy(
        Kind.consumption,
        source,
        direction="heating",
        freq="D",
        tz="Europe/Zurich",
        span=(start, end),
        policy=policy,
    )
    # The bars are drawn as two stacked containers (measured, and the flagged part on top).
    heights = [bar.get_height() for ax in figure.axes for box in ax.containers for bar in box]
    return float(sum(heights))


def test_plot_bars_and_energy_rows_agree_under_the_same_options(
    invoke: Invoke, on_emulator: str
) -> None:
    loose = sum(r["kwh"] for r in _energy_rows(invoke))
    tight_rows = _energy_rows(invoke, "--max-power", "1", "--reset-policy", "first")
    tight = sum(r["kwh"] for r in tight_rows)
    # A 1 W bound makes every step of a heating valve a spike: the option changes the result.
    assert tight < loose
    assert _bar_total(CounterPolicy()) == pytest.approx(loose, abs=0.01)
    plotted = _bar_total(policy_from_options("1", False, ResetChoice.first))
    assert plotted == pytest.approx(tight, abs=0.01)


def test_plot_takes_the_counter_options(invoke: Invoke, on_emulator: str, tmp_path: Path) -> None:
    target = tmp_path / "bars.png"
    result = invoke(
        "plot",
        "consumption",
        "--search",
        VALVE,
        *DAYS,
        "--max-power",
        "3000",
        "--spread-gaps",
        "--reset-policy",
        "zero",
        "--rollover",
        "4294967296",
        "-o",
        str(target),
    )
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"\x89PNG")


def test_report_takes_the_counter_options(invoke: Invoke, on_emulator: str, tmp_path: Path) -> None:
    default, bounded = tmp_path / "default.html", tmp_path / "bounded.html"
    plain = invoke("report", "--search", VALVE, *DAYS, "-o", str(default))
    assert plain.exit_code == 0, plain.output
    result = invoke("report", "--search", VALVE, *DAYS, "--max-power", "1", "-o", str(bounded))
    assert result.exit_code == 0, result.output
    text = bounded.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html")
    # A 1 W bound makes every step a spike: the report reads the counters with that policy.
    plain_text = default.read_text(encoding="utf-8").lower()
    assert text.lower().count("spike") > plain_text.count("spike")
