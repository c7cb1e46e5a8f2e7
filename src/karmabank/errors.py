"""The exceptions karmabank raises for things a user can fix.

    KarmabankError                 a user can fix it; the CLI prints one line and exits 1
    ├── ConfigError                a bad setting, database URL or option value
    ├── NotFoundError              an unknown person, format, campaign, ...
    ├── AmbiguousError             a reference that matches more than one thing
    ├── InputFileError             a file that cannot be read at all (missing, wrong header)
    │   └── DamagedFileError       a file that breaks off part-way (truncated gzip, bad CRC)
    └── StoreError                 the database cannot be opened or is not at the right version

Programmer errors (a bug) are plain Python exceptions and are never caught by the edges.
Bad *rows* are not exceptions: importers quarantine them and go on.
"""

from __future__ import annotations


class KarmabankError(Exception):
    """Something the user can fix; the message says what and how."""


class ConfigError(KarmabankError):
    """A bad setting, database URL or option value."""


class NotFoundError(KarmabankError):
    """An unknown person, format, campaign or other named thing."""


class AmbiguousError(KarmabankError):
    """A reference that matches more than one thing."""


class InputFileError(KarmabankError):
    """A file that cannot be read at all (missing, unreadable, wrong header)."""


class DamagedFileError(InputFileError):
    """A file whose reading broke off at `line` (a truncated or corrupt gzip, a read error).

    Imports keep every row read before it and quarantine the damage at that line."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}")
        self.file, self.line, self.reason = file, line, reason


class StoreError(KarmabankError):
    """The database cannot be opened, or is not at the expected version."""
