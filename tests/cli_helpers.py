"""Running the real command line in-process, as a user would type it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from karmabank.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *args: str, width: int = 200) -> Result:
    """Run `karmabank ARGS...` with a terminal `width` columns wide."""
    capsys.readouterr()
    code = 0
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COLUMNS", str(width))
        try:
            main(list(args))
        except SystemExit as e:
            code = int(e.code or 0) if not isinstance(e.code, str) else 1
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
