"""The emulator's definitions catalogue as data: aspects, subprofiles, datapoints, profiles.

Ids, feature names, formats and restrictions follow Belimo's spec and API_FACTS.md; the
descriptions are ours. Energy Valve ids the public sources do not give are invented here and
listed in the profile's ``properties["syntheticDatapoints"]``.

``evcloud.200``/``evcloud.210`` keep the ``b32`` restriction seen on the real profile. We read
it as the storage width of a real value (as on the spec's real-valued temperature setpoint),
not as a wrapping 32-bit integer: the emulated energy counters never roll over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ASPECT_DEFAULT = "default/0.3"
ASPECT_GUI = "bMg3Fgui/0.1"

EV_PROFILE = "energyvalve3/1.2"
GATEWAY_PROFILE = "ethernetgateway/1.0"


@dataclass(frozen=True)
class Aspect:
    """An aspect: the features (metadata fields) a datapoint may carry."""

    id: str
    version: str
    name: str
    properties: dict[str, str]
    features: tuple[tuple[str, bool], ...]  # (name, optional)


@dataclass(frozen=True)
class Subprofile:
    """A subprofile: a named, versioned group of datapoints."""

    id: str
    version: str
    name: str
    properties: dict[str, str]
    aspects: tuple[str, ...]  # supported aspect refs
    datapoints: tuple[dict[str, Any], ...]  # {"id", "featureValues"}


@dataclass(frozen=True)
class Profile:
    """A data profile: the subprofiles one device type implements."""

    id: str
    version: str
    name: str
    state: str
    properties: dict[str, str]
    subprofiles: tuple[str, ...]  # subprofile refs


ASPECTS: tuple[Aspect, ...] = (
    Aspect(
        "default",
        "0.3",
        "default",
        {
            "date": "2016-12-02",
            "state": "final",
            "desc": "Core features: access, base type, name, unit and restrictions.",
        },
        (
            ("unit", True),
            ("access", False),
            ("format", True),
            ("name", False),
            ("restriction", True),
            ("basetype", False),
            ("description", True),
            ("privacy", True),
        ),
    ),
    Aspect(
        "bMg3Fgui",
        "0.1",
        "belimo.common.gui",
        {
            "date": "2016-09-06",
            "state": "final",
            "desc": "How user interfaces display a datapoint.",
        },
        (
            ("min", True),
            ("visibility", True),
            ("max", True),
            ("displayname", False),
            ("displayunit", True),
            ("enumeration", True),
        ),
    ),
)


def _dp(
    id_: str,
    name: str,
    description: str,
    access: str,
    basetype: str,
    *,
    unit: str | None = None,
    restriction: str | None = None,
    fmt: str | None = None,
    privacy: bool = False,
    displayname: str | None = None,
    displayunit: str | None = None,
) -> dict[str, Any]:
    """One datapoint definition; every feature value is a string, as the API serves them."""
    values = {
        "bMg3Fgui.displayname": displayname or description,
        "bMg3Fgui.visibility": "normal",
        "default.access": access,
        "default.basetype": basetype,
        "default.description": description,
        "default.name": name,
    }
    if displayunit is not None:
        values["bMg3Fgui.displayunit"] = displayunit
    if fmt is not None:
        values["default.format"] = fmt
    if privacy:
        values["default.privacy"] = "true"
    if restriction is not None:
        values["default.restriction"] = restriction
    if unit is not None:
        values["default.unit"] = unit
    return {"id": id_, "featureValues": dict(sorted(values.items()))}


_ENERGY_UNIT = "si=kilowattHour,uscs=kiloBritishThermalUnit"

EVCLOUD_DATAPOINTS: tuple[dict[str, Any], ...] = (
    _dp(
        "evcloud.00009",
        "ValveType",
        "Valve Type",
        "r",
        "int",
        fmt="application/vnd.belimo.enum;0|1",
        restriction="uint8",
    ),
    _dp("evcloud.10", "DN_Size", "DN Size of Valve", "r", "int", restriction="int32"),
    _dp(
        "evcloud.30",
        "Override_Write",
        "Override control: 0 none, 1|2 closed, 3 minimum, 4|8 open, 5..7|11 auto",
        "rw",
        "int",
        fmt="application/vnd.belimo.enum;0|1|2|3|4|5|6|7|8|11",
        restriction="uint8",
    ),
    _dp(
        "evcloud.40",
        "SpDeltaT_K_Write",
        "Delta T Setpoint in K",
        "rw",
        "real",
        unit="kelvin",
        restriction="b32;[1.0,30.0]",
    ),
    _dp(
        "evcloud.50",
        "Vmax_Rel_Write",
        "Maximum flow in % of the nominal flow",
        "rw",
        "real",
        unit="percent",
        restriction="b32;[10.0,100.0]",
    ),
    _dp(
        "evcloud.100",
        "RelFlow_Fb_Rel2Vmax",
        "Relative Flow in %",
        "r",
        "real",
        unit="percent",
        restriction="b32",
    ),
    _dp(
        "evcloud.110",
        "AbsFlow_Fb_m3s",
        "Absolute Flow in m3/s",
        "r",
        "real",
        unit="cubicMeterPerSecond",
        restriction="b32",
        displayunit="si=literPerSecond,uscs=gallonPerMinute",
    ),
    _dp(
        "evcloud.130",
        "RelPower_Fb_Rel2Pmax",
        "Relative Power in %",
        "r",
        "real",
        unit="percent",
        restriction="b32",
    ),
    _dp(
        "evcloud.140",
        "AbsPower_Fb_W",
        "Absolute Power in W",
        "r",
        "real",
        unit="watt",
        restriction="b32",
        displayunit="si=kilowatt,uscs=ton",
    ),
    _dp(
        "evcloud.160",
        "T1_remote_K",
        "Temperature 1 remote (supply) in K",
        "r",
        "real",
        unit="kelvin",
        restriction="b32",
        displayunit="si=degreeCelsius,uscs=degreeFahrenheit",
    ),
    _dp(
        "evcloud.170",
        "T2_embeded_K",
        "Temperature 2 embedded (return) in K",
        "r",
        "real",
        unit="kelvin",
        restriction="b32",
        displayunit="si=degreeCelsius,uscs=degreeFahrenheit",
    ),
    _dp(
        "evcloud.180",
        "DeltaT_K",
        "Delta T in K",
        "r",
        "real",
        unit="kelvin",
        restriction="b32",
    ),
    _dp(
        "evcloud.190",
        "SpDeltaT_applied_K",
        "Applied Delta T Setpoint in K",
        "r",
        "real",
        unit="kelvin",
        restriction="b32",
    ),
    _dp(
        "evcloud.200",
        "Cooling_E_J",
        "Cooling Energy in J",
        "r",
        "real",
        unit="joule",
        restriction="b32",
        displayunit=_ENERGY_UNIT,
    ),
    _dp(
        "evcloud.210",
        "Heating_E_J",
        "Heating Energy in J",
        "r",
        "real",
        unit="joule",
        restriction="b32",
        displayunit=_ENERGY_UNIT,
    ),
    _dp(
        "evcloud.220",
        "Flow_Volume_total_m3",
        "Total Volume in m3",
        "r",
        "real",
        unit="cubicMeter",
        restriction="b32",
    ),
)

#: Energy Valve ids no public source gives; the emulator invented them.
EV_SYNTHETIC_IDS: tuple[str, ...] = (
    "evcloud.40",
    "evcloud.50",
    "evcloud.110",
    "evcloud.130",
    "evcloud.160",
    "evcloud.170",
    "evcloud.180",
    "evcloud.190",
    "evcloud.220",
)

GWCLOUD_DATAPOINTS: tuple[dict[str, Any], ...] = (
    _dp(
        "gwcloud.1", "ConnectedDevices", "Connected field devices", "r", "int", restriction="uint8"
    ),
    _dp(
        "gwcloud.2",
        "Uptime_h",
        "Uptime since last restart in h",
        "r",
        "real",
        unit="hour",
        restriction="b32",
    ),
    _dp(
        "gwcloud.3",
        "Board_T_K",
        "Board temperature in K",
        "r",
        "real",
        unit="kelvin",
        restriction="b32",
    ),
    _dp(
        "gwcloud.4",
        "Network_Address",
        "IPv4 address on the field network",
        "r",
        "text",
        fmt="application/vnd.belimo.ipv4",
    ),
)

_FAKLIST = (
    r"re:\[(?:(\{[\s\w_-]+,[A-Za-z0-9_-]+,[0-9]+,[0-9]+,[0-9]+\})"
    r"(,\{[\s\w_-]+,[A-Za-z0-9_-]+,[0-9]+,[0-9]+,[0-9]+\})*)?\]"
)

DEFAULT_DATAPOINTS: tuple[dict[str, Any], ...] = (
    _dp(
        "default.1",
        "/device/info/health/status",
        "Health status of the device",
        "r",
        "text",
        fmt="text/plain",
        restriction="re:(OK|WARN|ERROR|UNKNOWN)",
        displayname="Device health status",
    ),
    _dp(
        "default.2",
        "/device/info/health/description",
        "What the health status is about, set together with it",
        "r",
        "text",
        fmt="text/plain",
        restriction="len:[0,255]",
        displayname="Device health description",
    ),
    _dp(
        "default.3",
        "/device/info/activatedFeatures",
        "Features activated on the device",
        "r",
        "text",
        fmt="application/vnd.belimo.faklist",
        restriction=_FAKLIST,
        displayname="Activated features",
    ),
)


def _meta(  # noqa: PLR0917 - a table of calls reads best positionally
    n: int,
    name: str,
    label: str,
    access: str,
    basetype: str,
    restriction: str | None = None,
    fmt: str | None = "text/plain",
    unit: str | None = None,
) -> dict[str, Any]:
    return _dp(
        f"metadata.{n}",
        name,
        label,
        access,
        basetype,
        unit=unit,
        restriction=restriction,
        fmt=fmt if basetype == "text" else None,
        privacy=True,
        displayname=label,
    )


_DEG = "[-180.0,180.0]"
_ADDR = "/metadata/location/address/"
_COORD = "/metadata/location/coord/"

METADATA_DATAPOINTS: tuple[dict[str, Any], ...] = (
    _meta(
        1, "/metadata/server/clientIp", "Client IP", "r", "text", fmt="application/vnd.belimo.ipv4"
    ),
    _meta(2, "/metadata/server/owner", "Owner", "r", "text", "len:[0,10]"),
    _meta(
        3,
        "/metadata/server/dataProfile",
        "Data profile",
        "r",
        "text",
        "len:[0,255]",
        fmt="application/vnd.belimo.versionedref",
    ),
    _meta(4, "/metadata/server/softwareVersion", "Software version", "r", "text", "len:[0,10]"),
    _meta(5, "/metadata/server/cloudControlEnabled", "Cloud control enabled", "r", "bool"),
    _meta(6, "/metadata/server/swUpdateSupported", "Software update supported", "r", "bool"),
    _meta(7, "/metadata/server/swUpdateMode", "Software update mode", "r", "text", "len:[0,30]"),
    _meta(1001, "/metadata/deviceName", "Device name", "rw", "text", "len:[0,255]"),
    _meta(1002, "/metadata/projectName", "Project name", "rw", "text", "len:[0,255]"),
    _meta(
        1003,
        "/metadata/buildingType",
        "Type of building",
        "rw",
        "text",
        "len:[0,255]",
        fmt="application/vnd.belimo.buildingType",
    ),
    _meta(1004, "/metadata/location/name", "Device location", "rw", "text", "len:[0,255]"),
    _meta(1005, _ADDR + "description", "Address description", "rw", "text", "len:[0,255]"),
    _meta(1006, _ADDR + "line1", "Address line 1", "rw", "text", "len:[0,20]"),
    _meta(1007, _ADDR + "line2", "Address line 2", "rw", "text", "len:[0,50]"),
    _meta(1008, _ADDR + "zip", "ZIP", "rw", "text", "len:[0,10]"),
    _meta(1009, _ADDR + "city", "City", "rw", "text", "len:[0,50]"),
    _meta(1010, _ADDR + "state", "State, county or region", "rw", "text", "len:[0,50]"),
    _meta(
        1011,
        _ADDR + "countryCode",
        "Country code",
        "rw",
        "text",
        "len:[0,2]",
        fmt="application/vnd.belimo.iso3166;alpha2",
    ),
    _meta(1012, _COORD + "lat", "Latitude", "rw", "real", _DEG, unit="degree"),
    _meta(1013, _COORD + "long", "Longitude", "rw", "real", _DEG, unit="degree"),
    _meta(
        1014,
        _COORD + "source",
        "Coordinates source",
        "rw",
        "text",
        "re:(user:.*|gps|ip);len:[0,255]",
    ),
    _meta(
        1015,
        "/metadata/applicationType",
        "Type of application",
        "rw",
        "text",
        "len:[0,255]",
        fmt="application/vnd.belimo.applicationType",
    ),
    _meta(1016, _COORD + "latBlurred", "Blurred latitude", "r", "real", _DEG, unit="degree"),
    _meta(1017, _COORD + "longBlurred", "Blurred longitude", "r", "real", _DEG, unit="degree"),
)

_BOTH = (ASPECT_DEFAULT, ASPECT_GUI)

SUBPROFILES: tuple[Subprofile, ...] = (
    Subprofile(
        "evcloud",
        "1.2",
        "belimo.device.energyvalve3.cloud",
        {"desc": "Energy Valve 3 measurements, counters and settings"},
        _BOTH,
        EVCLOUD_DATAPOINTS,
    ),
    Subprofile(
        "gwcloud",
        "1.0",
        "belimo.device.ethernetgateway.cloud",
        {"desc": "Ethernet gateway status"},
        _BOTH,
        GWCLOUD_DATAPOINTS,
    ),
    Subprofile(
        "default",
        "0.1",
        "belimo.device.default",
        {"desc": "Health status and activated features, on every device"},
        _BOTH,
        DEFAULT_DATAPOINTS,
    ),
    Subprofile(
        "metadata",
        "0.3",
        "belimo.cloud.device.metadata",
        {"desc": "Name, location and server facts of a device"},
        _BOTH,
        METADATA_DATAPOINTS,
    ),
)

PROFILES: tuple[Profile, ...] = (
    Profile(
        "energyvalve3",
        "1.2",
        "belimo.device.energyvalve3",
        "PRODUCTIVE",
        {
            "description": "Belimo Energy Valve 3 (emulated)",
            "syntheticDatapoints": ",".join(EV_SYNTHETIC_IDS),
        },
        ("evcloud/1.2", "default/0.1", "metadata/0.3"),
    ),
    Profile(
        "ethernetgateway",
        "1.0",
        "belimo.device.ethernetgateway",
        "PRODUCTIVE",
        {
            "description": "Ethernet gateway of the Belimo product range (emulated)",
            "syntheticDatapoints": ",".join(dp["id"] for dp in GWCLOUD_DATAPOINTS),
        },
        ("gwcloud/1.0", "default/0.1", "metadata/0.3"),
    ),
    Profile(
        "server",
        "0.2",
        "belimo.cloud.server",
        "UNPUBLISHED",
        {"description": "Server-side profile that carries the metadata subprofile"},
        ("metadata/0.3",),
    ),
    Profile(
        "default",
        "0.1",
        "belimo.profiles.default",
        "UNPUBLISHED",
        {"description": "Profile of devices that report no known profile"},
        ("default/0.1",),
    ),
)
