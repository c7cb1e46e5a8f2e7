"""The planner as a person runs it: `karmabank campaign plan` in fresh processes gives the
same plan every time, with the communities read from their cache or detected anew."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _cli(*args: str, db: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "KARMABANK_NOW"}
    done = subprocess.run(
        [sys.executable, "-m", "karmabank", *args, "--db", str(db)],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_two_fresh_processes_give_the_same_plan(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    _cli("demo", db=db)
    # a budget of 12 makes the diversity cap bind on the demo: the communities are needed
    _cli("campaign", "new", "drive", "--action", "share", "--budget", "12", db=db)
    first = _cli("campaign", "plan", "drive", "--json", db=db)
    cached = list(tmp_path.rglob("communities-*.npy"))
    assert len(cached) == 1  # detected in the first process, kept for the next
    assert _cli("campaign", "plan", "drive", "--json", db=db) == first  # read from the cache
    cached[0].unlink()
    (seeds,) = tmp_path.rglob("plan-seeds-*.json")  # the asks kept: chosen again without them
    seeds.unlink()
    assert _cli("campaign", "plan", "drive", "--json", db=db) == first  # detected again
    # the chosen are explained from everyone's features cached by the first plan, or, without
    # them, from their own activities: the same reasons either way
    (features,) = tmp_path.rglob("likelihood-*.features.parquet")
    features.unlink()
    assert _cli("campaign", "plan", "drive", "--json", db=db) == first
    assert '"asks": [' in first and first.count('"reason"') == 12
