"""The exceptions karmabank raises for things a user can fix: one tree, converted once per edge.

    KarmabankError                 a user can fix it; the message says what and how
    ├── ConfigError                a bad setting, database URL or value given
    │   ├── OptionError            one named value (a CLI option, an API parameter) is wrong
    │   ├── OutOfRange             a time or number outside `karmabank.bounds` (a ValueError too)
    │   └── IdentityError          text that is not an identity (a ValueError too)
    ├── NotFoundError              an unknown person, format, campaign, ...
    ├── AmbiguousError             a reference that matches more than one thing
    ├── ContactRefused             a give or ask toward someone who asked for quiet, or was erased
    ├── MergeRefused               a merge or unmerge that must not happen (bot + human, ...)
    ├── InputFileError             a file that cannot be read at all (missing, wrong header)
    │   └── DamagedFileError       a file that breaks off part-way (truncated gzip, bad CRC)
    ├── StoreError                 the database cannot be opened or is not at the right version
    ├── BackupError                a backup that cannot be restored (truncated, tampered, too new)
    ├── ConnectorError             a platform's API failed past its retries (names the connection)
    │   └── CredentialsRefused     the platform refused the token or app password (401/403)
    ├── StoredTimeOutOfRange       a stored time no datetime holds (an OverflowError too)
    ├── SemanticUnavailable        the semantic affinity method cannot run here (BM25 answers)
    └── SparkUnavailable           the Spark engine cannot run (no PySpark or Java, a master or
                                   Parquet out of reach, a failed job): nothing is written

Each edge converts them in one place: the CLI (`karmabank.cli.main`) prints one line and exits 1,
naming an `OptionError`'s option as its flag (`--days`); the API and the pages
(`karmabank.web.answers`) answer `{"detail": "one line"}` (or the same line in a page) with
400, 404 (not found), 409 (ambiguous, refused) or 503 (the store). So messages raised below the
edges name the problem, never a CLI flag: API clients read them too.

Bad *rows* are not exceptions that reach an edge: importers catch `OutOfRange`, `IdentityError`
and other `ValueError`s, quarantine the row with the message, and go on. `SemanticUnavailable`
is caught by the affinity measure, which falls back to BM25 and says so in one line.
Programmer errors (a bug) are plain Python exceptions and are never caught by the edges; the
web's own control flow (`pages.LoginRequired`, a redirect; `limits.BodyTooLarge`, a 413) and
the CSV reader's internal `_Runaway` are not part of this tree.
"""

from __future__ import annotations


class KarmabankError(Exception):
    """Something the user can fix; the message says what and how."""


class ConfigError(KarmabankError):
    """A bad setting, database URL or value given."""


class OptionError(ConfigError):
    """The value given for `option` (`days`, `limit`: an API parameter, the CLI's `--days`) is
    wrong: `problem` says how ("must be from 1 to 3650, not 0"). The message is both."""

    def __init__(self, option: str, problem: str) -> None:
        super().__init__(f"{option} {problem}")
        self.option, self.problem = option, problem


class OutOfRange(ConfigError, ValueError):
    """A time or number outside what karmabank supports (`karmabank.bounds`); the message says
    the range. A ValueError too, so that importers quarantine the row that holds it."""


class IdentityError(ConfigError, ValueError):
    """Text that is not an identity of its platform (`karmabank.identities`)."""


class NotFoundError(KarmabankError):
    """An unknown person, format, campaign or other named thing."""


class AmbiguousError(KarmabankError):
    """A reference that matches more than one thing."""


class ContactRefused(KarmabankError):
    """A give or ask toward someone who asked not to be contacted, or was erased."""


class MergeRefused(KarmabankError):
    """A merge that must not happen (the same person, a bot with a human, a team member with
    someone else, a pair marked never to merge) or an unmerge that cannot (already undone, or a
    later merge of the kept person must be undone first)."""


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


class BackupError(KarmabankError):
    """A backup file that cannot be restored: truncated, tampered with (a member's digest does
    not match its manifest's), not a karmabank backup, or from a newer schema than this version
    knows."""


class ConnectorError(KarmabankError):
    """A platform's API could not be read: the connection named in the message failed past its
    retries (timeouts, 5xx, connection errors), or answered in a way no retry fixes."""


class CredentialsRefused(ConnectorError):
    """The platform refused the connection's credentials (401/403): a revoked or wrong token or
    app password. The message names the connection and the environment variable to fix, never
    the secret."""


class StoredTimeOutOfRange(KarmabankError, OverflowError):
    """A time in the database that no datetime can hold: stored before times were checked
    (`karmabank.bounds`). The message says what to do; the CLI and the web show it."""


class SemanticUnavailable(KarmabankError):
    """The semantic method cannot run here; the message is one line ending in "using BM25"."""


class SparkUnavailable(KarmabankError):
    """The Spark engine cannot run here (no PySpark, no Java, an unreachable master, Parquet it
    cannot read, a failed job): one line saying why, raised before anything is written."""
