"""Query parsing: every refusal is a ParameterError naming the parameter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from belimo_cloud.emulator import params
from belimo_cloud.emulator.params import ParameterError

T0 = int(datetime(2018, 6, 20, 10, 0, tzinfo=UTC).timestamp())


def refused(call: object, *args: object, **kwargs: object) -> ParameterError:
    with pytest.raises(ParameterError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    return info.value


def test_times_parse_iso_with_and_without_zone_and_epoch_ms() -> None:
    assert params.parse_time("from", "2018-06-20T10:00:00Z") == datetime(
        2018, 6, 20, 10, tzinfo=UTC
    )
    assert params.parse_time("from", "2018-06-20T12:00:00+02:00") == datetime(
        2018, 6, 20, 10, tzinfo=UTC
    )
    assert params.parse_time("from", "2018-06-20") == datetime(2018, 6, 20, tzinfo=UTC)
    assert params.parse_time("at", str(T0 * 1000), epoch_ms=True) == datetime(
        2018, 6, 20, 10, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "raw", ["yesterday", "2018-13-01", "", "1529488800000", "0001-01-01T00:00:00+01:00"]
)
def test_unparseable_time_names_the_parameter(raw: str) -> None:
    error = refused(params.parse_time, "from", raw)
    assert error.parameter == "from"
    assert "ISO-8601" in error.reason or "empty" in error.reason or "range" in error.reason


def test_to_must_be_after_from() -> None:
    default = datetime(2020, 1, 1, tzinfo=UTC)
    query = {"from": "2018-06-20T10:00:00Z", "to": "2018-06-20T10:00:00Z"}
    error = refused(params.time_range, query, default_from=default, default_to=default)
    assert error.parameter == "to"
    assert "after" in error.reason
    start, end = params.time_range(
        {"from": "2018-06-20T10:00:00Z"}, default_from=default, default_to=default
    )
    assert (start, end) == (datetime(2018, 6, 20, 10, tzinfo=UTC), default)


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"limit": "2001"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "x"}, "offset"),
    ],
)
def test_paging_refusals(query: dict[str, str], name: str) -> None:
    assert refused(params.paging, query).parameter == name


def test_paging_defaults_and_bounds() -> None:
    assert params.paging({}) == (20, 0)
    assert params.paging({"limit": "2000", "offset": "40"}) == (2000, 40)


def test_sort_and_choices() -> None:
    assert params.sort_direction({"sortDirection": "desc"}) == "DESC"
    assert refused(params.sort_direction, {"sortDirection": "UP"}).parameter == "sortDirection"
    assert params.sort_field(
        {"sortBy": "name"}, ("displayName",), "id", {"name": "displayName"}
    ) == ("displayName")
    assert refused(params.sort_field, {"sortBy": "x"}, ("id",), "id", {}).parameter == "sortBy"
    assert params.choice({"state": "registered"}, "state", ("REGISTERED", "ALL"), "ALL") == (
        "REGISTERED"
    )
    assert refused(params.choice, {"state": "ON"}, "state", ("ALL",), "ALL").parameter == "state"
    assert params.boolean({"expanded": "FALSE"}, "expanded", True) is False
    assert refused(params.boolean, {"expanded": "no"}, "expanded", True).parameter == "expanded"


def test_empty_search_is_refused() -> None:
    assert refused(params.nonempty, {"search": ""}, "search").parameter == "search"
    assert refused(params.nonempty, {"search": "  "}, "search").parameter == "search"
    assert params.nonempty({}, "search") is None


def test_datapoint_ids() -> None:
    assert params.datapoint_ids({"datapointIds": "a, b,,a"}, required=True) == ["a", "b"]
    assert refused(params.datapoint_ids, {}, required=True).parameter == "datapointIds"
    assert refused(params.datapoint_ids, {"datapointIds": " , "}, required=True).parameter == (
        "datapointIds"
    )
    assert params.datapoint_ids({}, required=False) is None


def test_aggregations() -> None:
    for name in params.AGGREGATIONS:
        assert params.aggregation({"aggregation": name.upper()}) == name
    assert params.aggregation({}) == "last"
    assert params.aggregation({"aggregation": "mean"}) == "avg"
    assert refused(params.aggregation, {"aggregation": "median"}).parameter == "aggregation"


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("1s", 1),
        ("30s", 30),
        ("15m", 900),
        ("1h", 3600),
        ("1d", 86400),
        ("7d", 604800),
        ("PT15M", 900),
        ("P1D", 86400),
        ("1w", 604800),
    ],
)
def test_durations(raw: str, seconds: int) -> None:
    assert params.parse_duration(raw) == seconds


def test_resolution_durations_and_limits() -> None:
    day = 86_400
    res = params.resolution({"resolution": "15m"}, T0, T0 + day)
    assert (res.step_s, res.buckets, res.text) == (900, 96, "15m")
    for raw in ("0s", "8d", "15 minutes", "1y", "-5m", "abc"):
        assert refused(params.resolution, {"resolution": raw}, T0, T0 + day).parameter == (
            "resolution"
        )
    # 10,000 buckets is the cap; one more is refused.
    assert params.resolution({"resolution": "1s"}, T0, T0 + 10_000).buckets == 10_000
    error = refused(params.resolution, {"resolution": "1s"}, T0, T0 + 10_001)
    assert "10000" in error.reason


def test_resolution_point_count_picks_a_grid_step() -> None:
    day = 86_400
    default = params.resolution({}, T0, T0 + day)
    assert default.buckets <= 100
    assert default.text == "15m"
    res = params.resolution({"resolution": "24"}, T0, T0 + day)
    assert (res.text, res.buckets) == ("1h", 24)
    long = params.resolution({}, T0, T0 + 3650 * day)
    assert long.buckets <= 100
    assert long.text.endswith("d")
    assert refused(params.resolution, {"resolution": "10001"}, T0, T0 + day).parameter == (
        "resolution"
    )
    assert refused(params.resolution, {"resolution": "0"}, T0, T0 + day).parameter == "resolution"


def test_bucket_grid_counts_partial_buckets() -> None:
    # 10:07 .. 11:15 at 15m touches the buckets 10:00, 10:15, 10:30, 10:45, 11:00.
    assert params.bucket_count(T0 + 420, T0 + 4500, 900) == 5
    assert params.bucket_count(T0, T0 + 4500, 900) == 5


def test_format_time() -> None:
    assert params.format_time(datetime(2018, 6, 20, 10, tzinfo=UTC)) == "2018-06-20T10:00:00Z"
    assert params.format_time(datetime(2018, 6, 20, 10, 0, 0, 5000, tzinfo=UTC)) == (
        "2018-06-20T10:00:00.005Z"
    )
    assert params.format_time_s(T0) == "2018-06-20T10:00:00Z"


def test_format_time_keeps_four_digit_years() -> None:
    assert params.format_time(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"
    assert params.format_time_ms(datetime(2018, 6, 20, 11, 4, 6, tzinfo=UTC)) == (
        "2018-06-20T11:04:06.000Z"
    )


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "from",
                "to",
                "resolution",
                "aggregation",
                "datapointIds",
                "limit",
                "offset",
                "sortBy",
                "sortDirection",
                "state",
                "search",
                "expanded",
                "at",
            ]
        ),
        st.text(max_size=30),
    )
)
@settings(max_examples=300, deadline=None)
def test_any_query_is_parsed_or_refused_with_a_parameter_error(query: dict[str, str]) -> None:
    default = datetime(2026, 11, 20, 12, tzinfo=UTC)
    first = datetime(2017, 1, 1, tzinfo=UTC)
    steps = [
        lambda: params.time_range(query, default_from=first, default_to=default),
        lambda: params.paging(query),
        lambda: params.sort_direction(query),
        lambda: params.aggregation(query),
        lambda: params.datapoint_ids(query, required=False),
        lambda: params.choice(query, "state", ("REGISTERED", "UNREGISTERED", "ALL"), "ALL"),
        lambda: params.nonempty(query, "search"),
        lambda: params.boolean(query, "expanded", True),
        lambda: params.optional_time(query, "at", epoch_ms=True),
    ]
    for step in steps:
        try:
            step()
        except ParameterError as exc:
            assert exc.parameter in query
    try:
        start, end = params.time_range(query, default_from=first, default_to=default)
    except ParameterError:
        return
    try:
        params.resolution(query, params.to_epoch_s(start), params.to_epoch_s(end) + 1)
    except ParameterError as exc:
        assert exc.parameter == "resolution"
