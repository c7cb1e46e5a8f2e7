"""Column types shared by the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Dialect, TypeDecorator

from karmabank.model import from_micros, to_micros


class UtcTimestamp(TypeDecorator[datetime]):
    """A UTC instant stored as integer microseconds since the epoch.

    The same on SQLite and PostgreSQL, compact, and read column-wise (Arrow, DuckDB,
    NumPy) without parsing strings. Python sees aware `datetime`s; bulk writers may
    bind the integer directly.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None or isinstance(value, int):
            return value
        if isinstance(value, datetime):
            return to_micros(value)
        raise TypeError(f"UtcTimestamp needs a datetime, got {type(value).__name__}")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else from_micros(int(value))
