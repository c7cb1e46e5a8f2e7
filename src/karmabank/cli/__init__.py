"""The command line: parse, call one action, render. Errors become one line and exit 1."""

from __future__ import annotations

import sys

from karmabank.cli.app import app


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `karmabank` script and of `python -m karmabank`."""
    from adbc_driver_manager.dbapi import Error as AdbcError
    from sqlalchemy.exc import DBAPIError

    from karmabank.errors import KarmabankError

    try:
        app(args=argv, prog_name="karmabank")
    except KarmabankError as e:
        _fail(str(e))
    except DBAPIError as e:
        _fail(f"database: {e.orig}")
    except AdbcError as e:  # the column-wise reads and writes of the rescore
        _fail(f"database: {str(e).splitlines()[0]}")
    except KeyboardInterrupt:
        print("interrupted: everything committed so far is kept", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)


def _fail(message: str) -> None:
    """One line on stderr, exit 1."""
    print("error: " + " ".join(message.split()), file=sys.stderr)
    sys.exit(1)


__all__ = ["app", "main"]
