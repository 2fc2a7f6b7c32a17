"""Real Chinese cities, the carriers' hub network and great-circle distances."""

from __future__ import annotations

import numpy as np

from promoguard.geo import coordinates

#: (name, hub) for the simulated cities: hub = the regional sorting hub a parcel routes via.
#: Coordinates come from promoguard.geo, the one city table the checks also use.
HUBS: tuple[tuple[str, str], ...] = (
    ("北京", "北京"),
    ("天津", "北京"),
    ("石家庄", "北京"),
    ("济南", "北京"),
    ("青岛", "北京"),
    ("沈阳", "沈阳"),
    ("大连", "沈阳"),
    ("哈尔滨", "沈阳"),
    ("长春", "沈阳"),
    ("上海", "上海"),
    ("杭州", "上海"),
    ("南京", "上海"),
    ("苏州", "上海"),
    ("宁波", "上海"),
    ("义乌", "上海"),
    ("合肥", "上海"),
    ("广州", "广州"),
    ("深圳", "广州"),
    ("东莞", "广州"),
    ("佛山", "广州"),
    ("厦门", "广州"),
    ("福州", "广州"),
    ("南宁", "广州"),
    ("武汉", "武汉"),
    ("长沙", "武汉"),
    ("郑州", "武汉"),
    ("南昌", "武汉"),
    ("成都", "成都"),
    ("重庆", "成都"),
    ("昆明", "成都"),
    ("贵阳", "成都"),
    ("西安", "西安"),
    ("兰州", "西安"),
    ("乌鲁木齐", "西安"),
    ("太原", "西安"),
)
_COORDS = coordinates()
#: (name, latitude, longitude, hub).
CITIES: tuple[tuple[str, float, float, str], ...] = tuple(
    (name, *_COORDS[name], hub) for name, hub in HUBS
)
CITY_NAMES = np.array([c[0] for c in CITIES])
LAT = np.radians(np.array([c[1] for c in CITIES]))
LON = np.radians(np.array([c[2] for c in CITIES]))
HUB_OF = np.array([next(i for i, c in enumerate(CITIES) if c[0] == row[3]) for row in CITIES])
#: Where merchants ship from (e-commerce warehouses cluster in these).
ORIGIN_WEIGHTS = np.ones(len(CITIES))
for _name in ("杭州", "义乌", "广州", "深圳", "东莞", "上海", "苏州", "北京"):
    ORIGIN_WEIGHTS[list(CITY_NAMES).index(_name)] = 6.0
ORIGIN_WEIGHTS /= ORIGIN_WEIGHTS.sum()
#: Where buyers live (roughly by population).
DEST_WEIGHTS = np.ones(len(CITIES))
for _name in ("北京", "上海", "广州", "深圳", "成都", "重庆", "杭州", "武汉"):
    DEST_WEIGHTS[list(CITY_NAMES).index(_name)] = 3.0
DEST_WEIGHTS /= DEST_WEIGHTS.sum()


def _haversine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    dlat = LAT[b] - LAT[a]
    dlon = LON[b] - LON[a]
    h = np.sin(dlat / 2) ** 2 + np.cos(LAT[a]) * np.cos(LAT[b]) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


#: Pairwise distances between the cities (km), looked up by index.
DIST_KM = _haversine(*np.meshgrid(np.arange(len(CITIES)), np.arange(len(CITIES)), indexing="ij"))


def distance_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle (haversine) distance between city indices, in km."""
    return DIST_KM[a, b]


def coordinates_table() -> list[dict[str, object]]:
    """The city table as documented (for docs and for check engineers who need coordinates)."""
    return [{"city": c[0], "lat": c[1], "lon": c[2], "hub": c[3]} for c in CITIES]
