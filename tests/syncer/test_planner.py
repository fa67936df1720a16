"""The sync planner: fewest grid-aligned requests for what the store lacks plus the horizon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from belimo_cloud.store.intervals import merge
from belimo_cloud.syncer.planner import (
    ChunkRequest,
    DeviceRange,
    align,
    minimum_requests,
    plan,
    plan_device,
)

RES = timedelta(minutes=15)
LO = datetime(2024, 1, 1, tzinfo=UTC)
HI = datetime(2026, 1, 1, tzinfo=UTC)
NOW = HI
SETTLED = NOW - timedelta(days=2)


def device(*dps: str, lo: datetime = LO, hi: datetime = HI) -> DeviceRange:
    return DeviceRange("dev", dict.fromkeys(dps, (lo, hi)))


def covered_span(requests: list[ChunkRequest]) -> list[tuple[datetime, datetime]]:
    return merge((r.start, r.end) for r in requests)


def test_fresh_two_years_take_the_minimum() -> None:
    requests, fresh = plan_device(device("e", "p"), {}, resolution=RES, settled_before=SETTLED)
    buckets = (HI - LO) // RES  # 70,176 buckets in 2024 (leap year) + 2025
    assert len(requests) == -(-buckets // 10_000) == minimum_requests((LO, HI), RES)
    assert all(r.datapoint_ids == ("e", "p") for r in requests)
    assert all(r.buckets(RES) <= 10_000 for r in requests)
    assert covered_span(requests) == [(LO, HI)]
    assert all((r.start - LO) % RES == timedelta(0) for r in requests)
    assert fresh == 0
    assert not any(r.refresh for r in requests)


def test_covered_store_needs_only_the_horizon() -> None:
    covered = {"e": [(LO, HI)], "p": [(LO, HI)]}
    requests, fresh = plan_device(device("e", "p"), covered, resolution=RES, settled_before=SETTLED)
    assert requests == [ChunkRequest("dev", ("e", "p"), SETTLED, HI, refresh=True)]
    assert fresh == 2


def test_zero_horizon_and_full_coverage_needs_nothing() -> None:
    covered = {"e": [(LO, HI)]}
    requests, fresh = plan_device(device("e"), covered, resolution=RES, settled_before=HI)
    assert requests == []
    assert fresh == 1


def test_new_tail_joins_the_horizon() -> None:
    later = HI + timedelta(hours=5, minutes=7)  # not on the grid
    covered = {"e": [(LO, HI)]}
    requests, _ = plan_device(
        device("e", hi=later), covered, resolution=RES, settled_before=later - timedelta(days=2)
    )
    (only,) = requests
    assert only.start == datetime(2025, 12, 30, 5, 0, tzinfo=UTC)
    assert only.end == HI + timedelta(hours=5, minutes=15)  # ceiled to the grid
    assert only.refresh  # all it brings is recent data


def test_a_long_new_tail_is_not_a_refresh() -> None:
    later = HI + timedelta(days=10)
    covered = {"e": [(LO, HI - timedelta(days=2))]}  # the last run's settled boundary
    settled = later - timedelta(days=2)
    requests, fresh = plan_device(
        device("e", hi=later),
        covered,
        resolution=RES,
        settled_before=settled,
        recent_from=settled - timedelta(days=2),
    )
    assert [(r.start, r.end, r.refresh) for r in requests] == [
        (HI - timedelta(days=2), later, False)
    ]
    assert fresh == 0


def test_new_datapoint_rides_with_the_horizon_only_where_needed() -> None:
    covered = {"e": [(LO, HI)]}
    requests, fresh = plan_device(device("e", "p"), covered, resolution=RES, settled_before=SETTLED)
    assert fresh == 1
    assert len(requests) == minimum_requests((LO, HI), RES)
    assert all("p" in r.datapoint_ids for r in requests)
    assert [r.datapoint_ids for r in requests if "e" in r.datapoint_ids] == [("e", "p")]
    assert requests[-1].end == HI


def test_small_hole_and_horizon_share_one_request() -> None:
    hole = (HI - timedelta(days=20), HI - timedelta(days=19))
    covered = {"e": [(LO, hole[0]), (hole[1], HI)]}
    requests, _ = plan_device(device("e"), covered, resolution=RES, settled_before=SETTLED)
    assert requests == [ChunkRequest("dev", ("e",), hole[0], HI)]


def test_far_apart_holes_stay_separate() -> None:
    old = (LO + timedelta(days=10), LO + timedelta(days=11))
    covered = {"e": [(LO, old[0]), (old[1], HI)]}
    requests, _ = plan_device(device("e"), covered, resolution=RES, settled_before=SETTLED)
    assert [(r.start, r.end, r.refresh) for r in requests] == [
        (old[0], old[1], False),
        (SETTLED, HI, True),
    ]


def test_unaligned_range_is_widened_to_the_grid() -> None:
    start = datetime(2024, 3, 1, 10, 7, tzinfo=UTC)
    end = datetime(2024, 3, 1, 12, 1, tzinfo=UTC)
    assert align((start, end), RES) == (
        datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
        datetime(2024, 3, 1, 12, 15, tzinfo=UTC),
    )
    requests, _ = plan_device(
        device("e", lo=start, hi=end), {}, resolution=RES, settled_before=end - timedelta(days=2)
    )
    assert [(r.start, r.end) for r in requests] == [align((start, end), RES)]


def test_plan_across_devices() -> None:
    targets = [DeviceRange(f"d{i}", {"e": (LO, HI), "p": (LO, HI)}) for i in range(3)]
    coverage = {("d1", "e"): [(LO, HI)], ("d1", "p"): [(LO, HI)]}
    result = plan(targets, coverage, resolution=RES, settled_before=SETTLED)
    per_device = minimum_requests((LO, HI), RES)
    assert len(result.requests) == 2 * per_device + 1
    assert result.refresh_requests == 1
    assert result.series == 6 and result.up_to_date == 2
    assert [r.device_id for r in result.requests] == sorted(r.device_id for r in result.requests)
