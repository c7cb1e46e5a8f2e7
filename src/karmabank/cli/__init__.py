"""The command line: parse, call one action, render. Errors become one line and exit 1."""

from __future__ import annotations

import gc
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer


def __getattr__(name: str) -> Any:  # `app` is imported on first use (see `run`)
    if name == "app":
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _app() -> typer.Typer:
    from karmabank.cli.app import app

    return app


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `karmabank` script and of `python -m karmabank`."""
    from sqlalchemy.exc import DBAPIError

    app = _app()

    from karmabank.errors import KarmabankError, OptionError

    try:
        app(args=argv, prog_name="karmabank")
    except OptionError as e:  # the value of an option: named as the flag that gave it
        _fail(f"--{e.option.replace('_', '-')} {e.problem}")
    except KarmabankError as e:
        _fail(str(e))
    except DBAPIError as e:
        _fail(f"database: {e.orig}")
    except UnicodeEncodeError as e:  # an argument's bytes were not UTF-8 (a lone surrogate)
        _fail(f"not valid Unicode text: {e.object!r}; nothing was stored")
    except KeyboardInterrupt:
        print("interrupted: everything committed so far is kept", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    except Exception as e:
        # the column-wise reads and writes (ADBC, imported only by the commands that use it)
        adbc = sys.modules.get("adbc_driver_manager.dbapi")
        if adbc is None or not isinstance(e, adbc.Error):
            raise
        _fail(f"database: {str(e).splitlines()[0]}")


def run() -> None:
    """The `karmabank` console script and `python -m karmabank`: `main`, then exit without the
    interpreter's teardown.

    Tearing down the hundreds of modules Arrow, DuckDB and SQLAlchemy load takes 0.3 s or more
    (0.8 s after the nurture queue on the demo data), on every command, for nothing: by then
    every transaction is committed and every store closed (any engine still open is closed
    here, so SQLite folds its WAL into the file). Output is flushed first; an uncaught
    exception still ends the normal way, with its traceback. (`main` itself returns normally,
    for tests that call it in process.)"""
    # Importing the command line allocates some 100,000 objects that live as long as the
    # process: the collector's full passes over them (about 60 ms each) are wasted work. Import
    # with it off, then set those objects aside for good (this process never tears down).
    gc.disable()
    _app()
    gc.freeze()
    gc.enable()
    try:
        main()
        code: int = 0
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            code = e.code or 0
        else:  # SystemExit("message"): print it, as the interpreter would
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:
        gc.unfreeze()  # the normal way out, teardown included
        raise
    from karmabank.actions.database import close_databases

    close_databases()  # normally a no-op: every command closes its store
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # the reader left, or the stream is closed
            pass
    os._exit(code)


def _fail(message: str) -> None:
    """One line on stderr, exit 1 (what the message echoes of the input is shown, not obeyed
    by the terminal: control characters become visible escapes)."""
    from karmabank.cli.render import plain

    print("error: " + plain(" ".join(message.split())), file=sys.stderr)
    sys.exit(1)


__all__ = ["app", "main", "run"]
