"""The fleet clock: frozen, following the wall clock, or faster than real time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from belimo_cloud.emulator.model.clock import LAST, FleetClock

START = datetime(2026, 11, 20, 12, tzinfo=UTC)


def test_a_start_alone_freezes() -> None:
    clock = FleetClock(START)
    assert clock.speed == 0
    assert clock.at_wall(10**10) == START


def test_speed_multiplies_real_time() -> None:
    clock = FleetClock(START, 300.0)
    wall0 = clock.wall_origin
    assert clock.at_wall(wall0 + 2.0) == START + timedelta(seconds=600)
    assert clock.at_wall(wall0 - 5.0) == START  # never before its start


def test_no_start_follows_the_wall_clock() -> None:
    clock = FleetClock()
    assert clock.speed == 1
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_fast_clock_stops_where_the_data_end() -> None:
    clock = FleetClock(START, 1e9)
    assert clock.at_wall(clock.wall_origin + 10**6) == LAST


def test_reconfiguring_restarts_only_on_a_change() -> None:
    clock = FleetClock(START, 60.0)
    wall0 = clock.wall_origin
    clock.configure(START, 60.0)
    assert clock.wall_origin == wall0
    clock.configure(START, None)
    assert clock.speed == 0 and clock.now() == START


def test_restart_starts_again_from_the_start() -> None:
    clock = FleetClock(START, 1e6)
    before = clock.wall_origin
    clock.restart()
    assert clock.wall_origin >= before
    assert clock.at_wall(clock.wall_origin) == START
    assert clock.speed == 1e6
