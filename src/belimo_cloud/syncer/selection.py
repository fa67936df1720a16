"""Which devices and datapoints a sync covers, resolved and checked before anything is written."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from belimo_cloud.client.models import DataProfile, Device
from belimo_cloud.client.semantics import resolve
from belimo_cloud.errors import DataError

if TYPE_CHECKING:
    from belimo_cloud.client import Client

__all__ = ["Selection", "Target", "datapoint_names", "select"]


@dataclass(frozen=True)
class Target:
    """One device to sync and the datapoint ids resolved through its profile."""

    device: Device
    profile: DataProfile
    datapoint_ids: tuple[str, ...]


@dataclass
class Selection:
    """The devices of a sync: those with work, and those skipped with the reason."""

    devices: list[Device] = field(default_factory=list)  # every selected device (snapshot)
    targets: list[Target] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (device_id, reason)

    @property
    def profiles(self) -> list[DataProfile]:
        """The distinct profiles of the targets."""
        seen: dict[str, DataProfile] = {}
        for target in self.targets:
            seen.setdefault(target.profile.key, target.profile)
        return list(seen.values())


def datapoint_names(datapoints: str | Iterable[str]) -> list[str]:
    """Names from "a,b", ["a", "b"] or ["a,b"]; DataError when none is given."""
    items = [datapoints] if isinstance(datapoints, str) else list(datapoints)
    names: list[str] = []
    for item in items:
        for name in str(item).split(","):
            if name.strip() and name.strip() not in names:
                names.append(name.strip())
    if not names:
        raise DataError("no datapoint given; name at least one, e.g. heating_energy")
    return names


def select(
    client: Client,
    *,
    search: str | None = None,
    profile: str | None = None,
    state: str | None = None,
    device_ids: Sequence[str] | str | None = None,
    datapoints: str | Iterable[str] = ("heating_energy",),
) -> Selection:
    """Resolve the selection; NotFound for an unknown device, DataError for an unknown datapoint.

    Devices named by id must carry every datapoint asked for. In a fleet-wide selection a device
    whose profile lacks them is skipped with a reason, but a datapoint that no selected device
    knows is an error.
    """
    names = datapoint_names(datapoints)
    wanted = [device_ids] if isinstance(device_ids, str) else list(device_ids or [])
    listed = list(client.devices.list(state=state, search=search or None))
    devices = _pick(client, listed, wanted, search=search, state=state)
    if profile:
        devices = [d for d in devices if _profile_matches(d, profile)]
        if wanted and len(devices) < len(set(wanted)):
            raise DataError(f"a device given by id does not have the data profile {profile!r}")
    if not devices:
        hint = (
            "; `belimo devices` lists the devices and their data profiles "
            "(energyvalve3, energyvalve3/1.2 ...)"
            if profile
            else "; `belimo devices` lists the devices"
        )
        raise DataError(f"no device matches {_describe(search, profile, state)}{hint}")
    selection = Selection(devices=devices)
    resolved_somewhere: set[str] = set()
    first_error: DataError | None = None
    for device in devices:
        device_profile = client.dataprofiles.for_device(device) if device.dataprofile_id else None
        if device_profile is None:
            if wanted:
                raise DataError(f"device {device.id} ({device.name}) has no data profile")
            selection.skipped.append((device.id, "no data profile"))
            continue
        ids: list[str] = []
        lacking: list[str] = []
        for name in names:
            try:
                datapoint = resolve(device_profile, name)
            except DataError as exc:
                if wanted:
                    raise DataError(f"device {device.id} ({device.name}): {exc}") from None
                first_error = first_error or exc
                lacking.append(name)
                continue
            if not datapoint.numeric:
                raise DataError(
                    f"datapoint {datapoint.id} ({datapoint.name}) is not numeric; "
                    "the timeseries history has numbers only"
                )
            resolved_somewhere.add(name)
            if datapoint.id not in ids:
                ids.append(datapoint.id)
        if not ids:
            selection.skipped.append(
                (device.id, f"profile {device_profile.key} has none of {', '.join(lacking)}")
            )
            continue
        selection.targets.append(Target(device, device_profile, tuple(ids)))
    unknown = [n for n in names if n not in resolved_somewhere]
    if unknown:
        raise DataError(
            f"no selected device has the datapoint {unknown[0]!r}"
            + (f" ({first_error})" if first_error else "")
        )
    return selection


def _pick(
    client: Client,
    listed: list[Device],
    wanted: list[str],
    *,
    search: str | None,
    state: str | None,
) -> list[Device]:
    if not wanted:
        return listed
    by_id = {d.id: d for d in listed}
    picked: list[Device] = []
    for device_id in dict.fromkeys(wanted):
        device = by_id.get(device_id)
        if device is None:
            # The API's own 404 when the id is unknown; otherwise the filters excluded it.
            found = client.devices.get(device_id)
            raise DataError(
                f"device {found.id} ({found.name}) does not match {_describe(search, None, state)}"
            )
        picked.append(device)
    return picked


def _profile_matches(device: Device, wanted: str) -> bool:
    key = device.dataprofile_id
    if not key:
        return False
    wanted = wanted.strip().strip("/").removeprefix("definitions/dataprofiles/")
    return key == wanted or key.split("/")[0] == wanted


def _describe(search: str | None, profile: str | None, state: str | None) -> str:
    parts = [
        f"{name}={value!r}"
        for name, value in (("search", search), ("data profile", profile), ("state", state))
        if value
    ]
    return "the selection (" + ", ".join(parts) + ")" if parts else "the selection"
