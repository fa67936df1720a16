"""The buildings generated valves sit in: sites in Swiss, German and Austrian cities.

Building ``b`` of a portfolio (12 to 60 valves, a city, a street address, a type, four or eight
zones per floor, a commissioning date) is drawn from a hash of (seed, b), like the valves in it
(generated.py). All sites share the demo site's weather.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from belimo_cloud.emulator.model.draws import Draws
from belimo_cloud.emulator.model.layout import Site

IntArray = npt.NDArray[np.int64]


class City(NamedTuple):
    """A city of the portfolio and streets to put buildings in."""

    name: str
    country: str
    region: str
    postcode_prefix: str
    postcode_digits: int
    lat: float
    lon: float
    streets: tuple[str, ...]


CITIES: tuple[City, ...] = (
    City("Zürich", "CH", "ZH", "80", 4, 47.3769, 8.5417, ("Hardturmstrasse", "Seefeldstrasse")),
    City("Winterthur", "CH", "ZH", "84", 4, 47.4988, 8.7237, ("Zürcherstrasse", "Technikumstr.")),
    City("Bern", "CH", "BE", "30", 4, 46.9480, 7.4474, ("Laupenstrasse", "Monbijoustrasse")),
    City("Basel", "CH", "BS", "40", 4, 47.5596, 7.5886, ("Aeschengraben", "Dreispitzstrasse")),
    City("Luzern", "CH", "LU", "60", 4, 47.0502, 8.3093, ("Pilatusstrasse", "Tribschenstrasse")),
    City("St. Gallen", "CH", "SG", "90", 4, 47.4245, 9.3767, ("Rosenbergstrasse", "Vadianstr.")),
    City("Zug", "CH", "ZG", "63", 4, 47.1662, 8.5155, ("Baarerstrasse", "Gotthardstrasse")),
    City("Aarau", "CH", "AG", "50", 4, 47.3925, 8.0444, ("Bahnhofstrasse", "Industriestrasse")),
    City("Chur", "CH", "GR", "70", 4, 46.8508, 9.5320, ("Kasernenstrasse", "Gürtelstrasse")),
    City("Lausanne", "CH", "VD", "10", 4, 46.5197, 6.6323, ("Avenue de la Gare", "Rue du Simplon")),
    City("Genève", "CH", "GE", "12", 4, 46.2044, 6.1432, ("Route des Acacias", "Rue de Lausanne")),
    City("Lugano", "CH", "TI", "69", 4, 46.0037, 8.9511, ("Via Cantonale", "Corso Elvezia")),
    City("München", "DE", "BY", "80", 5, 48.1351, 11.5820, ("Leopoldstraße", "Landsberger Str.")),
    City("Stuttgart", "DE", "BW", "70", 5, 48.7758, 9.1829, ("Heilbronner Straße", "Löffelstr.")),
    City("Wien", "AT", "W", "11", 4, 48.2082, 16.3738, ("Wiedner Hauptstraße", "Rennweg")),
)
#: (building type, project name prefix, share of heating valves)
KINDS: tuple[tuple[str, str, float], ...] = (
    ("OFFICE", "Bürohaus", 0.55),
    ("OFFICE", "Geschäftshaus", 0.55),
    ("RESIDENTIAL", "Wohnüberbauung", 0.9),
    ("SCHOOL", "Schulhaus", 0.8),
    ("HOSPITAL", "Gesundheitszentrum", 0.6),
    ("HOTEL", "Hotel", 0.65),
    ("RETAIL", "Einkaufszentrum", 0.5),
)
ZONES = {
    4: ("Nord", "Ost", "Süd", "West"),
    8: ("Nord", "Nord-Ost", "Ost", "Süd-Ost", "Süd", "Süd-West", "West", "Nord-West"),
}
SMALLEST, LARGEST = 12, 60  # valves a building
_FIRST_COMMISSIONING = datetime(2012, 1, 1, 6, tzinfo=UTC)
_LAST_COMMISSIONING = datetime(2016, 10, 31, 16, tzinfo=UTC)
# Streams of Draws, apart from the valves' (generated.py).
_SIZE, _CITY, _STREET, _NUMBER, _KIND, _ZONES, _COMMISSIONED, _POSTCODE, _PLACE = range(100, 109)


@dataclass(frozen=True)
class Buildings:
    """The first buildings of a portfolio, enough for its valves, in order."""

    first: IntArray  # index (among generated valves) of each building's first valve
    sites: list[Site]
    zones: list[tuple[str, ...]]  # per floor, in valve order
    heating_share: list[float]
    commissioned: IntArray  # epoch s


def floor_name(number: int) -> str:
    """Floor 0 is the basement (UG), 1 the ground floor (EG), then 1.OG, 2.OG..."""
    return "UG" if number == 0 else "EG" if number == 1 else f"{number - 1}.OG"


def portfolio(draws: Draws, valves: int) -> Buildings:
    """The buildings that hold ``valves`` generated valves."""
    n = valves // SMALLEST + 1
    index = np.arange(n, dtype=np.int64)
    sizes = draws.integers(_SIZE, index, SMALLEST, LARGEST + 1)
    cities = draws.integers(_CITY, index, 0, len(CITIES)).tolist()
    streets = draws.uniform(_STREET, index).tolist()
    numbers = draws.integers(_NUMBER, index, 1, 140).tolist()
    kinds = draws.integers(_KIND, index, 0, len(KINDS)).tolist()
    zones = np.where(draws.uniform(_ZONES, index) < 0.6, 4, 8).tolist()
    postcodes = draws.integers(_POSTCODE, index, 0, 1000).tolist()
    place = draws.uniform(_PLACE, index, -0.03, 0.03).tolist()
    start, end = int(_FIRST_COMMISSIONING.timestamp()), int(_LAST_COMMISSIONING.timestamp())
    sites: list[Site] = []
    for b in range(n):
        city = CITIES[cities[b]]
        names = city.streets
        street = f"{names[min(int(streets[b] * len(names)), len(names) - 1)]} {numbers[b]}"
        building_type, project, _ = KINDS[kinds[b]]
        width = city.postcode_digits - len(city.postcode_prefix)
        sites.append(
            Site(
                project=f"{project} {street}",
                city=city.name,
                country=city.country,
                street=street,
                zip=city.postcode_prefix + f"{postcodes[b]:03d}"[:width].ljust(width, "0"),
                region=city.region,
                lat=round(city.lat + place[b], 5),
                lon=round(city.lon - place[b], 5),
                building_type=building_type,
            )
        )
    return Buildings(
        first=np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64),
        sites=sites,
        zones=[ZONES[z] for z in zones],
        heating_share=[KINDS[k][2] for k in kinds],
        commissioned=draws.integers(_COMMISSIONED, index, start, end),
    )
