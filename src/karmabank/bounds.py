"""The one supported range of times and numbers, checked wherever a value enters the product.

Every time karmabank takes in (an imported `occurred_at`, `record --at`, `--now` and
`$KARMABANK_NOW`, `?now=` and `at` in the API, a deadline, a cutoff) must lie in
[`EARLIEST`, `LATEST`) UTC. The range is narrow enough that `now ± the longest window or
snooze` stays far inside what Python datetimes (years 1 to 9999), int64 microseconds
(about ±292,000 years), DuckDB and PostgreSQL timestamps hold, and wide enough for any
real interaction data. Counts (`followers`) are whole numbers from 0 to `MAX_FOLLOWERS`;
weights are finite numbers within ±`MAX_WEIGHT`; snoozes last 1 to `MAX_SNOOZE_DAYS` days;
a measure setting's window (`*_days`) is at most `MAX_WINDOW_DAYS`.

Nothing here does I/O. The checks raise `errors.OutOfRange` (a `ValueError`): importers quarantine
the row with its message, the edges turn it into a one-line error or a 400.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from karmabank.errors import OutOfRange
from karmabank.model import to_micros

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # exclusive
EARLIEST_US = to_micros(EARLIEST)
LATEST_US = to_micros(LATEST)
RANGE_TEXT = "1900-01-01 to 2200-01-01 UTC"

MAX_FOLLOWERS = 10**12  # far above any platform's audience, far below int64
MAX_WEIGHT = 1_000_000.0
MAX_SNOOZE_DAYS = 3650
MAX_WINDOW_DAYS = 36_525  # the longest window a measure setting may name: a century


def shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def check_micros(us: int, text: str, what: str = "time") -> int:
    """`us` (UTC microseconds) if it is in the supported range; `text` is what was given."""
    if not EARLIEST_US <= us < LATEST_US:
        hint = ""
        if text.isascii() and text.isdigit() and len(text) <= 16 and us // 1000 < LATEST_US:
            hint = "; unix seconds are expected: is it in milliseconds?"
        raise OutOfRange(f"{what} out of range: {shown(text)} (supported: {RANGE_TEXT}{hint})")
    return us


def check_instant(dt: datetime, text: str, what: str = "time") -> datetime:
    """The aware UTC datetime `dt` (naive is UTC) if it is in the supported range."""
    check_micros(to_micros(dt), text, what)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def parse_count(text: str, what: str) -> int:
    """A whole number from 0 to MAX_FOLLOWERS written in ASCII digits."""
    t = text.strip()
    if not (t.isascii() and t.isdigit()):
        raise ValueError(f"{what} is not a count: {shown(text)}")
    if len(t) > len(str(MAX_FOLLOWERS)) or int(t) > MAX_FOLLOWERS:
        raise OutOfRange(f"{what} out of range: {shown(text)} (at most {MAX_FOLLOWERS:,})")
    return int(t)


def check_weight(weight: float, text: str, what: str = "weight") -> float:
    """`weight` if it is finite and within ±MAX_WEIGHT; `text` is what was given."""
    if not math.isfinite(weight):
        raise OutOfRange(f"{what} is not a finite number: {shown(text)}")
    if abs(weight) > MAX_WEIGHT:
        raise OutOfRange(f"{what} out of range: {shown(text)} (at most ±{MAX_WEIGHT:,.0f})")
    return weight


def parse_weight(text: str, what: str = "weight") -> float:
    """A finite number within ±MAX_WEIGHT."""
    try:
        weight = float(text)
    except ValueError:
        raise ValueError(f"{what} is not a number: {shown(text)}") from None
    return check_weight(weight, text, what)

