"""SyncReport: what one sync did, for the CLI, benchmarks and tests."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class SyncReport:
    """Figures of one sync run.

    ``requests`` counts timeseries windows fetched and stored; ``requests_sent`` every HTTP
    request the client made during the run (device list, profiles, probes, retries included).
    """

    store: str = ""
    resolution: str = ""
    aggregation: str = ""
    devices: int = 0  # devices with work planned or up to date
    series: int = 0  # (device, datapoint) pairs
    planned_requests: int = 0
    refresh_requests: int = 0  # planned requests that only re-read the settled horizon
    requests: int = 0  # windows fetched and committed
    probe_requests: int = 0  # requests spent finding where each device's data starts
    requests_sent: int = 0
    points: int = 0  # samples written (new or updated)
    seconds: float = 0.0
    up_to_date: int = 0  # series that lacked nothing outside the settled horizon
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (device_id, reason)
    interrupted: bool = False
    start: str = ""  # ISO UTC: the earliest time any series must cover ('' before planning)
    end: str = ""  # ISO UTC: the latest

    def plan(self) -> str:
        """One line for people, before the first request: what will be fetched."""
        span = f" from {self.start} to {self.end}" if self.start else ""
        return (
            f"plan: {self.devices} devices, {self.series} series{span} at {self.resolution} "
            f"({self.aggregation}): {self.planned_requests} requests "
            f"({self.up_to_date} series up to date)"
        )

    @property
    def points_stored(self) -> int:
        """Alias of ``points``."""
        return self.points

    @property
    def requests_planned(self) -> int:
        """Alias of ``planned_requests``."""
        return self.planned_requests

    @property
    def points_per_s(self) -> float:
        """Samples written per second of the run."""
        return self.points / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """One line for people: what was fetched and what was already there."""
        state = "interrupted after" if self.interrupted else "synced"
        text = (
            f"{state} {self.devices} devices, {self.series} series: {self.requests} of "
            f"{self.planned_requests} requests ({self.refresh_requests} settled-horizon "
            f"refresh), {self.points:,} points in {self.seconds:.1f} s"
        )
        if self.skipped:
            text += f"; {len(self.skipped)} devices skipped"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        data = asdict(self)
        data["skipped"] = [{"device_id": d, "reason": r} for d, r in self.skipped]
        data["points_per_s"] = round(self.points_per_s, 1)
        data["seconds"] = round(self.seconds, 3)
        return data
