"""Real Chinese cities, the carriers' hub network and great-circle distances."""

from __future__ import annotations

import numpy as np

#: (name, latitude, longitude, hub) for real cities; hub = the regional sorting hub it routes via.
CITIES: tuple[tuple[str, float, float, str], ...] = (
    ("北京", 39.904, 116.407, "北京"),
    ("天津", 39.084, 117.201, "北京"),
    ("石家庄", 38.042, 114.515, "北京"),
    ("济南", 36.651, 117.120, "北京"),
    ("青岛", 36.067, 120.383, "北京"),
    ("沈阳", 41.806, 123.432, "沈阳"),
    ("大连", 38.914, 121.615, "沈阳"),
    ("哈尔滨", 45.803, 126.535, "沈阳"),
    ("长春", 43.817, 125.324, "沈阳"),
    ("上海", 31.230, 121.474, "上海"),
    ("杭州", 30.274, 120.155, "上海"),
    ("南京", 32.060, 118.797, "上海"),
    ("苏州", 31.299, 120.585, "上海"),
    ("宁波", 29.868, 121.544, "上海"),
    ("义乌", 29.306, 120.075, "上海"),
    ("合肥", 31.821, 117.227, "上海"),
    ("广州", 23.129, 113.264, "广州"),
    ("深圳", 22.543, 114.058, "广州"),
    ("东莞", 23.021, 113.752, "广州"),
    ("佛山", 23.022, 113.122, "广州"),
    ("厦门", 24.480, 118.089, "广州"),
    ("福州", 26.075, 119.296, "广州"),
    ("南宁", 22.817, 108.366, "广州"),
    ("武汉", 30.593, 114.305, "武汉"),
    ("长沙", 28.228, 112.939, "武汉"),
    ("郑州", 34.746, 113.625, "武汉"),
    ("南昌", 28.683, 115.858, "武汉"),
    ("成都", 30.573, 104.066, "成都"),
    ("重庆", 29.563, 106.551, "成都"),
    ("昆明", 25.038, 102.718, "成都"),
    ("贵阳", 26.647, 106.630, "成都"),
    ("西安", 34.341, 108.940, "西安"),
    ("兰州", 36.061, 103.834, "西安"),
    ("乌鲁木齐", 43.825, 87.617, "西安"),
    ("太原", 37.871, 112.549, "西安"),
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
