"""Plans' chosen asks kept beside the columnar copy, for the scores a token names and a digest
of everything else the choice depends on (`measures.planning.seeds_key`: who may be asked,
their likelihood, the budget, the planner's settings): `plan-seeds-<token>-<key>.json`.

IMM on higgs-twitter's plan graph, with its diffusion graph and communities, is 0.5-1 s of a
fresh `karmabank campaign plan`; the rescore makes the open campaigns' choice while it is there
(`actions/plan_ready.py`), and a plan on the same scores reads it. Each file also says the span
of times it answers for (the peer edges are those up to the plan's time: the same edges from
the last peer activity up to then until the next one). Writing one removes those of other
scores; a file is written to a temporary name and renamed, so a reader never sees half of one;
one that cannot be read is a miss.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from karmabank.store.cache_files import write_whole

PREFIX = "plan-seeds-"


def _path(directory: Path, token: str, key: str) -> Path:
    return directory / f"{PREFIX}{token}-{key}.json"


def cached_seeds(directory: Path, token: str, key: str, at: int) -> dict[str, Any] | None:
    """The choice kept for these scores and key, as its JSON, if it answers for time `at` (µs)
    and can be read."""
    try:
        found = json.loads(_path(directory, token, key).read_text())
        since, until = int(found["since"]), int(found["until"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if isinstance(found, dict) and since <= at < until else None


def cache_seeds(
    directory: Path, token: str, key: str, seeds: dict[str, Any], since: int, until: int
) -> None:
    """Keep a choice for these scores and key, answering for the times in [since, until);
    those kept for other scores go."""
    text = json.dumps({**seeds, "since": since, "until": until})
    write_whole(_path(directory, token, key), lambda p: p.write_text(text))
    for p in directory.glob(f"{PREFIX}*.json"):
        if not p.name.startswith(f"{PREFIX}{token}-"):
            p.unlink(missing_ok=True)
