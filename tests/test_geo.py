"""The city table covers the simulator's cities with the same coordinates; distances are real."""

from __future__ import annotations

import pytest

from promoguard import geo
from promoguard.simulate import geo as sim_geo


def test_every_simulator_city_is_known_with_the_same_coordinates():
    coords = geo.coordinates()
    for name, lat, lon, _hub in sim_geo.CITIES:
        assert name in coords, f"{name} missing from promoguard.geo"
        assert coords[name] == pytest.approx((lat, lon), abs=0.01)


def test_distances_and_name_matching():
    assert geo.distance_km("上海", "北京") == pytest.approx(1068, abs=10)
    assert geo.distance_km(" São Paulo ".replace("ã", "a"), "rio de janeiro") == pytest.approx(
        361, abs=10
    )
    assert geo.distance_km("上海", "Atlantis") is None
    pairs = geo.pair_distances()
    rows = list(zip(pairs["from_city"], pairs["to_city"], pairs["distance_km"], strict=True))
    assert ("上海", "上海", 0.0) in rows
    # no pair crosses countries: a Chinese parcel is never judged against a Brazilian city
    assert "sao paulo" not in {
        t for f, t in zip(pairs["from_city"], pairs["to_city"], strict=True) if f == "上海"
    }
