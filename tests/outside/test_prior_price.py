"""Issue #12 (2): the legal prior price on cases built by hand and on real daily prices.

The prior price of Directive 98/6/EC Art. 6a(2) is the lowest price *applied* on the days of the
30 days before the reduction: a price set before the window and still in force on its first day
was applied then (B); an ordinary cut inside the window counts (A), and Art. 6a(5)'s progressive
exemption covers only successive *announced* reductions of one campaign that the promotion price
continues; the days are calendar days in the pack's time zone, so a change of clocks does not
drop one (C), and the same calendar data ingested under two ``--tz`` gives the same findings.

The real series is the idealo.de Black Friday 2018 data (../shared/data/price, 795 products, one
cheapest price per day), with a shop that shows the 30-day highest price as "was" on Black Friday;
the expected findings are computed here from the days, independently of the check.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from tests.conftest import shared_path

from ._store import scan, write_store

UTC = dt.UTC
#: Black Friday 2026 in Brussels (CET, UTC+1)
BF = dt.datetime(2026, 11, 26, 23, tzinfo=UTC)


def day(n: int, hour: int = 9) -> dt.datetime:
    """``n`` days from the promotion's first day, ``hour`` o'clock in Brussels (winter time)."""
    return BF + dt.timedelta(days=n, hours=hour)


def _store(tmp_path: Path, series: dict[str, list[dict]], pack_tz_promo: dt.datetime = BF) -> Path:
    listings = [
        {
            "listing_id": lid,
            "merchant_id": "m1",
            "platform_id": "p1",
            "title": "item",
            "category": "electronics",
            "currency": "EUR",
        }
        for lid in series
    ]
    obs = [dict(o, listing_id=lid) for lid, rows in series.items() for o in rows]
    for o in obs:
        o.setdefault("channel", "detail")
        for k in ("price", "reference_price", "claimed_discount_pct"):
            if o.get(k) is not None:
                o[k] = Decimal(str(o[k]))
    return write_store(
        tmp_path / "prices.duckdb",
        {
            "platforms": [{"platform_id": "p1", "name": "Outside platform"}],
            "merchants": [{"merchant_id": "m1", "platform_id": "p1", "name": "Shop"}],
            "listings": listings,
            "promotions": [
                {
                    "promotion_id": "bf",
                    "platform_id": "p1",
                    "name": "Black Friday",
                    "starts_at": pack_tz_promo,
                    "ends_at": pack_tz_promo + dt.timedelta(days=1),
                }
            ],
            "price_observations": obs,
        },
    )


def _daily(first: int, last: int, price: str) -> list[dict]:
    return [{"observed_at": day(d), "price": price} for d in range(first, last + 1)]


def _promo(price: str, ref: str, pct: str | None = None) -> list[dict]:
    return [
        {
            "observed_at": day(0),
            "price": price,
            "reference_price": ref,
            "reference_label": "was",
            "claimed_discount_pct": pct,
        }
    ]


def _announced(first: int, last: int, price: str, ref: str) -> list[dict]:
    return [
        {"observed_at": day(d), "price": price, "reference_price": ref, "reference_label": "was"}
        for d in range(first, last + 1)
    ]


def _percent(first: int, last: int, price: str, pct: str) -> list[dict]:
    """Days announced by a claimed percentage alone, no 'was' price beside it."""
    return [
        {"observed_at": day(d), "price": price, "claimed_discount_pct": pct}
        for d in range(first, last + 1)
    ]


def _flagged(path: Path, pack: str = "eu", checks: str = "PRICE001,PRICE002") -> dict:
    found = scan(path, pack, checks)
    return {(r.check_code, r.entity_id): json.loads(r.expected) for r in found.itertuples()}


def test_a_ordinary_cut_before_the_promotion_counts(tmp_path):
    path = _store(
        tmp_path, {"A": _daily(-40, -6, "100") + _daily(-5, -1, "50") + _promo("80", "100", "20")}
    )
    found = _flagged(path)
    assert found[("PRICE001", "A")]["legal_prior_price"] == "50.00"
    assert ("PRICE002", "A") in found


def test_a_announced_campaign_that_the_promotion_continues_is_exempt_by_law(tmp_path):
    """Art. 6a(5): successive announced reductions of one campaign keep the first prior price."""
    series = (
        _daily(-40, -11, "100")
        + _announced(-10, -6, "90", "100")
        + _announced(-5, -1, "85", "100")
        + _promo("80", "100", "20")
    )
    path = _store(tmp_path, {"P": series})
    assert not _flagged(path)


def test_a_announced_campaign_then_a_higher_promotion_price_is_reported(tmp_path):
    series = (
        _daily(-40, -11, "100")
        + _announced(-10, -6, "90", "100")
        + _announced(-5, -1, "85", "100")
        + _promo("95", "100", "5")
    )
    path = _store(tmp_path, {"R": series})
    found = _flagged(path)
    assert found[("PRICE001", "R")]["legal_prior_price"] == "85.00"


def test_b_price_in_force_when_the_window_opens_is_carried_forward(tmp_path):
    # a change-log export: the price was set to 50 on 1 September and not changed until the day
    changelog = [{"observed_at": dt.datetime(2026, 9, 1, 8, tzinfo=UTC), "price": "50"}]
    path = _store(tmp_path, {"B": changelog + _promo("60", "100", "40")})
    found = _flagged(path)
    assert found[("PRICE001", "B")]["legal_prior_price"] == "50.00"
    assert ("PRICE002", "B") in found


def test_b_carried_price_above_the_reference_is_not_reported(tmp_path):
    changelog = [{"observed_at": dt.datetime(2026, 9, 1, 8, tzinfo=UTC), "price": "120"}]
    path = _store(tmp_path, {"B2": changelog + _promo("90", "100", "10")})
    assert not _flagged(path)


# -- C: calendar days across the change of clocks, the same under any --tz -------------------------


def _write_calendar_csvs(
    folder: Path, rows: dict[str, list[tuple[str, str, str, str]]], start: str
):
    """Calendar data (dates, no time of day) as an outside export would give it."""
    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, header: list[str], body: list[list]) -> None:
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(body)

    end = (dt.date.fromisoformat(start) + dt.timedelta(days=1)).isoformat()
    write("platforms", ["platform_id", "name"], [["p1", "Outside platform"]])
    write("merchants", ["merchant_id", "platform_id", "name"], [["m1", "p1", "Shop"]])
    write(
        "listings",
        ["listing_id", "merchant_id", "platform_id", "title", "category", "currency"],
        [[lid, "m1", "p1", "item", "electronics", "EUR"] for lid in rows],
    )
    write(
        "promotions",
        ["promotion_id", "platform_id", "name", "starts_at", "ends_at"],
        [["bf", "p1", "Black Friday", start, end]],
    )
    write(
        "price_observations",
        [
            "listing_id",
            "observed_at",
            "price",
            "reference_price",
            "reference_label",
            "claimed_discount_pct",
            "channel",
        ],
        [
            [lid, date, price, ref, "was" if ref else "", pct, "detail"]
            for lid, series in rows.items()
            for date, price, ref, pct in series
        ],
    )


def _ingest_and_flag(tmp_path: Path, folder: Path, tz: str, checks="PRICE001,PRICE002") -> set:
    import promoguard.api as pg

    store = tmp_path / f"calendar-{tz.replace('/', '_')}.duckdb"
    pg.ingest(folder, store, tz=tz)
    return {
        (r.check_code, r.entity_id) for r in pg.scan(store, pack="eu", checks=checks).itertuples()
    }


def _dst_case() -> dict[str, list[tuple[str, str, str, str]]]:
    """Promotion on 20 November; the 30 days before begin on 21 October, in summer time."""
    start = dt.date(2026, 11, 20)
    series = []
    for k in range(60, 0, -1):
        d = start - dt.timedelta(days=k)
        # 50 on the first day of the window only; 100 on every other day
        series.append((d.isoformat(), "50" if k == 30 else "100", "", ""))
    series.append((start.isoformat(), "80", "100", "20"))
    return {"C": series}


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin"])
def test_c_first_calendar_day_counts_across_the_change_of_clocks(tmp_path, tz):
    folder = tmp_path / "calendar"
    _write_calendar_csvs(folder, _dst_case(), "2026-11-20")
    assert _ingest_and_flag(tmp_path, folder, tz) == {("PRICE001", "C"), ("PRICE002", "C")}


# -- the real idealo.de series ---------------------------------------------------------------------

BLACK_FRIDAY_2018 = dt.date(2018, 11, 23)


def _idealo() -> list[dict]:
    path = shared_path("data", "price", "stekhn-black-friday", "product-prices.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _applied_by_day(prices: list[dict]) -> dict[dt.date, Decimal]:
    """The price applied on each calendar day: the day's own price, else the last one before."""
    known = {
        dt.date.fromisoformat(p["x"]): Decimal(str(p["y"])).quantize(Decimal("0.01"))
        for p in prices
    }
    first = min(known)
    out: dict[dt.date, Decimal] = {}
    current = None
    d = first
    while d <= BLACK_FRIDAY_2018:
        current = known.get(d, current)
        out[d] = current
        d += dt.timedelta(days=1)
    return out


def _idealo_case(products: list[dict]):
    """(rows per listing, expected PRICE001 ids, expected PRICE002 ids), by Art. 6a(2) directly."""
    rows: dict[str, list[tuple[str, str, str, str]]] = {}
    exp1: set[str] = set()
    exp2: set[str] = set()
    window = [BLACK_FRIDAY_2018 - dt.timedelta(days=k) for k in range(30, 0, -1)]
    for product in products:
        if not product.get("prices"):  # nine products were listed but never priced
            continue
        days = _applied_by_day(product["prices"])
        bf_row = [p for p in product["prices"] if p["x"] == BLACK_FRIDAY_2018.isoformat()]
        if not bf_row or window[0] not in days:
            continue
        applied = [days[d] for d in window if days.get(d) is not None]
        if len(applied) < 30:
            continue
        price = Decimal(str(bf_row[0]["y"])).quantize(Decimal("0.01"))
        ref, prior = max(applied), min(applied)
        lid = f"idealo-{product['id']}"
        series = [
            (p["x"], f"{Decimal(str(p['y'])):.2f}", "", "")
            for p in product["prices"]
            if p["x"] != BLACK_FRIDAY_2018.isoformat()
        ]
        if price >= ref:
            rows[lid] = series + [(BLACK_FRIDAY_2018.isoformat(), f"{price:.2f}", "", "")]
            continue
        claimed = int((100 * (1 - price / ref)).to_integral_value(rounding="ROUND_FLOOR"))
        rows[lid] = series + [
            (BLACK_FRIDAY_2018.isoformat(), f"{price:.2f}", f"{ref:.2f}", str(claimed))
        ]
        if ref > prior + Decimal("0.01"):
            exp1.add(lid)
        actual_bp = ((prior - price) * 10_000 / prior).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        if claimed > 0 and claimed * 100 - int(actual_bp) > 100:
            exp2.add(lid)
    return rows, exp1, exp2


@pytest.fixture(scope="module")
def idealo_case(tmp_path_factory):
    rows, exp1, exp2 = _idealo_case(_idealo())
    folder = tmp_path_factory.mktemp("idealo") / "tables"
    _write_calendar_csvs(folder, rows, BLACK_FRIDAY_2018.isoformat())
    return folder, exp1, exp2


def test_idealo_case_is_substantial(idealo_case):
    _, exp1, exp2 = idealo_case
    assert len(exp1) > 300 and len(exp2) > 100


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin"])
def test_idealo_black_friday_matches_art_6a2_under_any_tz(idealo_case, tmp_path, tz):
    folder, exp1, exp2 = idealo_case
    found = _ingest_and_flag(tmp_path, folder, tz)
    got1 = {e for c, e in found if c == "PRICE001"}
    got2 = {e for c, e in found if c == "PRICE002"}
    assert got1 == exp1, (sorted(exp1 - got1)[:5], sorted(got1 - exp1)[:5])
    assert got2 == exp2, (sorted(exp2 - got2)[:5], sorted(got2 - exp2)[:5])


# -- us/uk: a price established by days in force, not by rows ----------------------------------------


def test_us_price_in_force_for_fifty_days_is_established(tmp_path):
    changelog = [
        {"observed_at": day(-120), "price": "100"},
        {"observed_at": day(-40), "price": "80"},
    ]
    path = _store(tmp_path, {"U": changelog + _promo("70", "100", "30")})
    assert not _flagged(path, "us")


def test_us_price_in_force_ten_days_of_ninety_is_not_established(tmp_path):
    changelog = [
        {"observed_at": day(-120), "price": "100"},
        {"observed_at": day(-80), "price": "80"},
    ]
    path = _store(tmp_path, {"U2": changelog + _promo("70", "100", "30")})
    assert ("PRICE001", "U2") in _flagged(path, "us")


@pytest.mark.spark
@pytest.mark.slow
def test_the_calendar_window_is_the_same_on_spark(tmp_path):
    """Integer-exact and engine-independent: the A/B/C/us cases give the same findings, ids,
    JSON and evidence hashes on DuckDB and Spark."""
    from tests.support import run_check

    changelog = [{"observed_at": dt.datetime(2026, 9, 1, 8, tzinfo=UTC), "price": "50"}]
    campaign = (
        _daily(-40, -11, "100") + _announced(-10, -6, "90", "100") + _announced(-5, -1, "85", "100")
    )
    path = _store(
        tmp_path,
        {
            "A": _daily(-40, -6, "100") + _daily(-5, -1, "50") + _promo("80", "100", "20"),
            "B": changelog + _promo("60", "100", "40"),
            "P": campaign + _promo("80", "100", "20"),
            "R": campaign + _promo("95", "100", "5"),
            # a campaign begun 43 days before (lawful), and one a rise restarted before the
            # look-back (its prior price 90, from the 30 days before the rise: reported)
            "L": _daily(-60, -44, "100")
            + _announced(-43, -21, "90", "100")
            + _announced(-20, -1, "80", "100")
            + _promo("70", "100", "30"),
            "K": _daily(-60, -44, "100")
            + _announced(-43, -37, "90", "100")
            + _announced(-36, -36, "95", "100")
            + _announced(-35, -1, "80", "100")
            + _promo("70", "100", "30"),
            # '-50%' with no 'was' price beside it (PRICE002 measures it all the same)
            "N": _daily(-40, -1, "100")
            + [{"observed_at": day(0), "price": "80", "claimed_discount_pct": "50"}],
            # a campaign announced by percentages alone (lawful), and one a silent step breaks
            "Q": _daily(-40, -21, "100")
            + _percent(-20, -11, "90", "10")
            + _percent(-10, -1, "80", "20")
            + _percent(0, 0, "70", "30"),
            "S": _daily(-40, -21, "100")
            + _percent(-20, -11, "90", "10")
            + _daily(-10, -1, "80")
            + _percent(0, 0, "70", "30"),
        },
    )
    cols = ["finding_id", "entity_id", "observed", "expected", "evidence_sha256"]
    for pack in ("eu", "us"):
        duck = run_check(path, "PRICE001,PRICE002", pack)
        spark = run_check(path, "PRICE001,PRICE002", pack, engine="spark")
        a = duck.findings.sort_values("finding_id")[cols].reset_index(drop=True)
        b = spark.findings.sort_values("finding_id")[cols].reset_index(drop=True)
        assert a.equals(b), (pack, a, b)
        assert len(a)
        if pack == "eu":
            assert "L" not in set(a.entity_id) and "K" in set(a.entity_id)
            price002 = set(duck.findings[duck.findings.check_code == "PRICE002"].entity_id)
            assert "N" in price002 and "S" in price002 and "Q" not in price002
