"""The counter options of `belimo energy`, `belimo report` and `belimo plot`, defined once.

Each command that reads energy counters takes the same four options and turns them into one
:class:`~belimo_cloud.analysis.CounterPolicy` with :func:`policy_from_options`, so the three
commands read a counter the same way.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from belimo_cloud.cli.exit_codes import CommandError
from belimo_cloud.cli.options import parse_number

if TYPE_CHECKING:
    from belimo_cloud.analysis import CounterPolicy

__all__ = [
    "COUNTER_PANEL",
    "MaxPowerOption",
    "ResetChoice",
    "ResetPolicyOption",
    "RolloverOption",
    "SpreadGapsOption",
    "policy_from_options",
]

# The help groups the four options, so `--help` shows them as one policy.
COUNTER_PANEL = "Counter policy"


class ResetChoice(StrEnum):
    """What the interval of a lasting counter drop contributes (`--reset-policy`)."""

    rate = "rate"
    zero = "zero"
    first = "first"


# Numbers are taken as text and parsed by the shared grammar: click's float type accepts
# "nan" and "inf", which would pass any range check.
MaxPowerOption = Annotated[
    str | None,
    typer.Option(
        "--max-power",
        metavar="<watts>",
        help="Nominal power (W): steps faster than 1.5 x this are spikes, excluded "
        "(default: a bound derived from each counter's own steps).",
        show_default=False,
        rich_help_panel=COUNTER_PANEL,
    ),
]
SpreadGapsOption = Annotated[
    bool,
    typer.Option(
        "--spread-gaps",
        help="Spread the energy across a gap evenly over it (default: to the period where "
        "the gap ends).",
        rich_help_panel=COUNTER_PANEL,
    ),
]
ResetPolicyOption = Annotated[
    ResetChoice,
    typer.Option(
        "--reset-policy",
        case_sensitive=False,
        help="After a lasting drop, the drop's interval counts the surrounding rate (rate), "
        "nothing (first) or the new reading (zero).",
        rich_help_panel=COUNTER_PANEL,
    ),
]
RolloverOption = Annotated[
    str | None,
    typer.Option(
        "--rollover",
        metavar="<joules>",
        help="The counter's range (J, e.g. 4294967296): a drop from its top quarter wraps. "
        "Off by default.",
        show_default=False,
        rich_help_panel=COUNTER_PANEL,
    ),
]


def policy_from_options(
    max_power: str | None = None,
    spread_gaps: bool = False,
    reset_policy: ResetChoice = ResetChoice.rate,
    rollover: str | None = None,
) -> CounterPolicy:
    """The one CounterPolicy of the command's counter options (a usage error if invalid)."""
    from belimo_cloud.analysis import CounterPolicy
    from belimo_cloud.errors import DataError

    power = _positive(max_power, "--max-power")
    wrap = _positive(rollover, "--rollover")
    try:
        return CounterPolicy(
            max_power=power,
            spread_gaps=spread_gaps,
            reset_policy=ResetChoice(reset_policy).value,
            rollover=wrap,
        )
    except DataError as exc:
        raise CommandError(str(exc)) from None


def _positive(text: str | None, option: str) -> float | None:
    if text is None:
        return None
    return parse_number(text, option, minimum=0.0, exclusive_minimum=True)
