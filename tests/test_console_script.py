"""The installed `karmabank` script exits without the interpreter's teardown (`cli.run`): its
output must still arrive whole, its exit codes stay, and SQLite's file is complete on its own."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("karmabank")
NOW = "2026-11-26T12:00:00Z"

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="the console script is not installed")


def karmabank(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def test_big_output_arrives_whole_and_the_file_needs_no_wal(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    assert karmabank("demo", "--db", str(db), "--now", NOW, cwd=tmp_path).returncode == 0
    r = karmabank("people", "--db", str(db), "--now", NOW, "--json", "--limit", "5000",
                  cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) > 200_000  # several times a pipe's buffer
    assert len(json.loads(r.stdout)) > 2000
    r = karmabank("record", "in", "zoe@example.org", "comment", "--db", str(db),
                  "--now", NOW, cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    # every connection was closed before the exit: SQLite folded its WAL into the file
    assert not Path(f"{db}-wal").exists()
    copy = tmp_path / "copy.db"
    copy.write_bytes(db.read_bytes())  # the file alone, as a plain `cp` backs it up
    with sqlite3.connect(copy) as con:
        found = con.execute(
            "SELECT count(*) FROM identity WHERE key = 'zoe@example.org'"
        ).fetchone()
    assert found == (1,)


def test_exit_codes_and_messages_are_kept(tmp_path: Path) -> None:
    r = karmabank("person", "nobody", "--db", str(tmp_path / "none.db"), cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.startswith("error: no database at") and r.stderr.count("\n") == 1
    assert "Traceback" not in r.stderr
    r = karmabank("no-such-command", cwd=tmp_path)
    assert r.returncode == 2
    assert "No such command" in r.stderr
