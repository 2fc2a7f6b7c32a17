"""The season: one Double-11 shopping season in 2026, counted in Beijing days.

Every time inside the simulator is an ``int64`` of seconds since the Unix epoch (UTC). Prices change
only at Beijing midnight (16:00 UTC), so "the price on Beijing day d" is well defined and an order
paid on day d pays exactly the price the detail page showed that day.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

DAY = 86_400
HOUR = 3_600
MINUTE = 60


def utc(text: str) -> int:
    """Seconds since the epoch of an ISO 8601 UTC time written without offset."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


#: Beijing day 0 = 2026-09-05 (starts 2026-09-04T16:00Z). Day d spans [T0 + d*DAY, T0 + (d+1)*DAY).
T0 = utc("2026-09-04T16:00:00")
N_PRICE_DAYS = 82  # days 0..81: Beijing 2026-09-05 .. 2026-11-25 (price observations)
N_ORDER_DAYS = 79  # days 0..78: orders are paid up to Beijing 2026-11-22
DATA_CUT = utc("2026-11-30T16:00:00")  # nothing (events, confirmations) happens after this

# Beijing day indices of the landmarks.
PRESALE_FIRST_DAY = 46  # 2026-10-21
PRESALE_LAST_DAY = 56  # 2026-10-31
D11_DAY = 67  # 2026-11-11

PRESALE_START = T0 + PRESALE_FIRST_DAY * DAY  # 2026-10-20T16:00Z
PRESALE_END = T0 + (PRESALE_LAST_DAY + 1) * DAY  # 2026-10-31T16:00Z
PRESALE_ANNOUNCED = utc("2026-10-10T02:00:00")
D11_START = T0 + D11_DAY * DAY  # 2026-11-10T16:00Z
D11_END = D11_START + DAY  # 2026-11-11T16:00Z
D11_ANNOUNCED = utc("2026-10-15T02:00:00")

#: PRICE001/002: the legal prior price is the lowest transacted price in these 7 days.
PRIOR_WINDOW_DAYS = (D11_DAY - 7, D11_DAY - 1)  # days 60..66 (Beijing 11-04 .. 11-10)
#: PRICE003: baseline level (median) and the raised level before the promotion (median).
BASELINE_DAYS = (7, 36)  # Beijing 09-12 .. 10-11 (the 30 days before the look-back)
LOOKBACK_DAYS = (37, 66)  # Beijing 10-12 .. 11-10 (30 days before the promotion)
RAISED_DAYS = (60, 66)  # the level a fake discount is computed from

#: Share of a day's orders paid in each Beijing hour (0..23): night trough, lunch and evening peaks.
HOUR_WEIGHTS = np.array(
    [3, 1.5, 0.8, 0.5, 0.4, 0.5, 1, 2, 3.5, 5, 5.5, 6, 6.5, 5.5, 5, 5, 5, 5.5, 6, 6.5, 8, 9, 8, 6],
    dtype=float,
)
HOUR_WEIGHTS /= HOUR_WEIGHTS.sum()
#: On 11-11 itself the first Beijing hour carries the midnight rush.
D11_HOUR_WEIGHTS = HOUR_WEIGHTS.copy()
D11_HOUR_WEIGHTS[0] += 0.25
D11_HOUR_WEIGHTS /= D11_HOUR_WEIGHTS.sum()


def day_start(day: np.ndarray | int) -> np.ndarray | int:
    return T0 + np.asarray(day) * DAY if isinstance(day, np.ndarray) else T0 + day * DAY


def day_of(t: np.ndarray) -> np.ndarray:
    """Beijing day index of UTC seconds."""
    return (t - T0) // DAY


def season_demand() -> np.ndarray:
    """Relative order volume of each order day: pre-sale bump, waiting dip, the 11-11 spike."""
    f = np.ones(N_ORDER_DAYS)
    f[PRESALE_FIRST_DAY : PRESALE_LAST_DAY + 1] = 1.3
    f[PRESALE_LAST_DAY + 1 : D11_DAY] = 0.75
    f[D11_DAY] = 10.0
    f[D11_DAY + 1] = 1.6
    f[D11_DAY + 2 :] = 0.8
    return f
