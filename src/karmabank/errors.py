"""The exceptions karmabank raises for things a user can fix.

    KarmabankError                 a user can fix it; the CLI prints one line and exits 1
    ├── ConfigError                a bad setting, database URL or option value
    ├── NotFoundError              an unknown person, format, campaign, ...
    ├── AmbiguousError             a reference that matches more than one thing
    ├── InputFileError             a file that cannot be read at all (missing, wrong header)
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


class StoreError(KarmabankError):
    """The database cannot be opened, or is not at the expected version."""
