"""Settings read once at the edge and passed in: environment first, then defaults.

(Measure constants arrive with the measures; here are the ones the house needs.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from karmabank.bounds import OutOfRange, check_instant, shown
from karmabank.errors import ConfigError
from karmabank.store.engine import DEFAULT_DB


@dataclass(frozen=True)
class Settings:
    db: str = DEFAULT_DB
    now: datetime | None = None  # None: the clock

    def clock(self) -> datetime:
        return self.now if self.now is not None else datetime.now(UTC)


def parse_instant(text: str, what: str = "time") -> datetime:
    """ISO-8601 (a naive time is UTC) -> aware UTC datetime in the supported range
    (`karmabank.bounds`); ConfigError otherwise."""
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{what}: {shown(text)} is not an ISO-8601 time (e.g. 2026-05-01T12:00)"
        ) from None
    try:
        return check_instant(dt, text.strip(), what)
    except OutOfRange as e:
        raise ConfigError(str(e)) from None


def load_settings(
    *, db: str | None = None, now: str | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Explicit values win, then `KARMABANK_DB` / `KARMABANK_NOW`, then the defaults."""
    env = os.environ if environ is None else environ
    db_value = db or env.get("KARMABANK_DB") or DEFAULT_DB
    now_text = now or env.get("KARMABANK_NOW")
    return Settings(db=db_value, now=parse_instant(now_text, "--now") if now_text else None)
