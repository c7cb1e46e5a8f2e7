"""`WebSettings`: what the web app needs, read once by the caller (`karmabank serve`, a test)
and handed to `create_app`; below the app and its security, which both read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from karmabank.settings import DEFAULT_DB, Settings, SyncSettings
from karmabank.web.limits import DEFAULT_MAX_BODY

if TYPE_CHECKING:
    from karmabank.measures.settings import MeasureSettings


@dataclass(frozen=True)
class WebSettings:
    """What the web app needs, read once by the caller (`karmabank serve`, a test)."""

    db: str = DEFAULT_DB
    now: datetime | None = None  # None: the clock (a fixed time for demos and tests)
    secure_cookies: bool = False  # always mark cookies Secure (they are over https anyway)
    session_lifetime: timedelta = timedelta(days=7)
    login_attempts: int = 5  # failures per email and address within the window, then 429
    login_window: timedelta = timedelta(minutes=15)
    secret: bytes | None = None  # signs the login form's CSRF token; None: random per process
    max_body_bytes: int = DEFAULT_MAX_BODY  # larger request bodies: 413, before they are read
    # None: read once by create_app (karmabank.toml beside the database, then KARMABANK_*)
    measures: MeasureSettings | None = None
    columns_base: Path | None = None  # Settings.columns_base
    templates_dir: Path | None = None  # Settings.templates_dir
    secrets_file: Path | None = None  # Settings.secrets_file: the "Sync now" button's secrets
    sync: SyncSettings = field(default_factory=SyncSettings)  # Settings.sync

    def clock(self) -> datetime:
        return self.now if self.now is not None else datetime.now(UTC)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, secure_cookies: bool = False,
        max_body_bytes: int = DEFAULT_MAX_BODY,
    ) -> WebSettings:  # fmt: skip
        return cls(db=settings.db, now=settings.now, secure_cookies=secure_cookies,
                   max_body_bytes=max_body_bytes, measures=settings.measures,
                   columns_base=settings.columns_base,
                   templates_dir=settings.templates_dir,
                   secrets_file=settings.secrets_file, sync=settings.sync)  # fmt: skip
