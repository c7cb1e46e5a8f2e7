"""What likelihood to act reads from the database and keeps beside the columnar copy: the asks
people acted on, the texts that say their affinity to an issue, and two caches named by the
scores' token (the last rescore's: `LastRescore.token`) and the issue — the fitted model
(`likelihood-<token>[-issue<id>].json`), and for the planner everyone's likelihood
(`….chance.parquet`) and the features of the ask-ready it was computed from
(`….features.parquet`: what explains the few a plan chooses). Apart from them, the last fit
(`likelihood-fit[-issue<id>].json`: the model and what it was fitted on,
`measures/likelihood_refit.py`) outlives its scores: later scores use it again until it is due
to be fitted again.

Any change to the data, the flags or the settings makes new scores with a new token, so a
cache is never read for scores it was not made from; saving a model prunes the caches of every
other token. Files are written to a temporary name and renamed (a reader never sees half a
file); an unreadable cache reads as missing.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from karmabank.frames import ACTED_SCHEMA, micros
from karmabank.store import arrow_io
from karmabank.store.cache_files import write_whole

FEATURE_ROWS = 4096  # rows per row group of the features cache: a read of a few people is small
TEXTS_SCHEMA = pa.schema(
    [("person_id", pa.int64()), ("occurred_at", pa.int64()), ("text", pa.string())]
)


def acted_asks(conn: Any, until: datetime) -> pa.Table:
    """The asks people acted on up to `until` (ACTED_SCHEMA), on an ADBC connection."""
    return arrow_io.read_table(
        conn,
        f"""(SELECT person_id, campaign_id, acted_at FROM ask WHERE status = 'acted'
            AND acted_at IS NOT NULL AND acted_at <= {micros(until)}) AS acted""",
        ACTED_SCHEMA,
    )


def issue_texts(conn: Any, until_us: int) -> pa.Table:
    """The texts people wrote toward us or to others up to `until_us` (TEXTS_SCHEMA): what
    their affinity to an issue is judged by."""
    return arrow_io.read_table(
        conn,
        f"""(SELECT person_id, occurred_at, text FROM activity WHERE text IS NOT NULL
            AND direction IN ('in', 'peer') AND occurred_at <= {until_us}) x""",
        TEXTS_SCHEMA,
    )


def _name(token: str, issue_id: int | None) -> str:
    return f"likelihood-{token}{'' if issue_id is None else f'-issue{issue_id}'}"


def cached_model(directory: Path, token: str, issue_id: int | None) -> dict[str, Any] | None:
    """The model cached for the scores `token` names (and the issue), as its JSON, if any and
    readable."""
    try:
        found = json.loads((directory / f"{_name(token, issue_id)}.json").read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def cache_model(directory: Path, token: str, issue_id: int | None, text: str) -> None:
    """Keep the model (its JSON `text`) for the scores `token` names (and the issue); the
    caches made for other scores go (the last fits, `cache_fit`, stay)."""
    write_whole(directory / f"{_name(token, issue_id)}.json", lambda p: p.write_text(text))
    keep = (f"likelihood-{token}.", f"likelihood-{token}-issue", f"{_FIT}.", f"{_FIT}-issue")
    for p in directory.glob("likelihood*"):
        if not p.name.startswith(keep):
            p.unlink(missing_ok=True)


_FIT = "likelihood-fit"


def _fit_path(directory: Path, issue_id: int | None) -> Path:
    return directory / f"{_FIT}{'' if issue_id is None else f'-issue{issue_id}'}.json"


def cached_fit(
    directory: Path, issue_id: int | None
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The last fit kept for the issue (or none) whatever the scores: what it was fitted on
    and the model, as their JSON, if there and readable."""
    try:
        found = json.loads(_fit_path(directory, issue_id).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict):
        return None
    basis, model = found.get("basis"), found.get("model")
    return (basis, model) if isinstance(basis, dict) and isinstance(model, dict) else None


def cache_fit(
    directory: Path, issue_id: int | None, basis: dict[str, Any], model: dict[str, Any]
) -> None:
    """Keep the last fit for the issue (or none), for later scores: `basis`, what it was
    fitted on, and `model`, as JSON."""
    text = json.dumps({"basis": basis, "model": model}, sort_keys=True)
    write_whole(_fit_path(directory, issue_id), lambda p: p.write_text(text))


def cached_chances(
    directory: Path, token: str, issue_id: int | None, schema: pa.Schema
) -> pa.Table | None:
    """Everyone's likelihood cached for the scores `token` names (and the issue), if any and
    readable with `schema`."""
    try:
        return pq.read_table(directory / f"{_name(token, issue_id)}.chance.parquet", schema=schema)
    except (OSError, pa.ArrowException):
        return None


def cache_chances(directory: Path, token: str, issue_id: int | None, table: pa.Table) -> None:
    """Keep everyone's likelihood for the scores `token` names (and the issue): two columns
    that neither repeat nor compress much, written as they are (no dictionary, no compression:
    at higgs size 0.06 s instead of 0.64 s, and read back in half the time)."""
    path = directory / f"{_name(token, issue_id)}.chance.parquet"
    write_whole(path, lambda p: pq.write_table(
        table, p, use_dictionary=False, compression="none"
    ))  # fmt: skip


def cached_features(
    directory: Path, token: str, issue_id: int | None, people: list[int]
) -> pa.Table | None:
    """The features of `people` cached for the scores `token` names (and the issue), if any
    and readable. The file is sorted by person in small row groups, so only the groups that
    may hold them are read (a few of a higgs-size file's hundreds)."""
    path = directory / f"{_name(token, issue_id)}.features.parquet"
    try:
        return pq.read_table(path, filters=[("person_id", "in", people)])
    except (OSError, pa.ArrowException, ValueError):  # ValueError: no person_id column
        return None


def cache_features(directory: Path, token: str, issue_id: int | None, table: pa.Table) -> None:
    """Keep the features of `table`'s people (the planner keeps the ask-ready's: those a plan
    on these scores may choose and explain) for the scores `token` names (and the issue),
    sorted by person in row groups of `FEATURE_ROWS` (what `cached_features` prunes by)."""
    path = directory / f"{_name(token, issue_id)}.features.parquet"
    ids = table["person_id"]
    ascending = pc.all(pc.greater_equal(ids[1:], ids[:-1])).as_py() is not False
    # everyone's features come sorted: sorting them again took 0.2 s at higgs size
    ordered = table if ascending else table.sort_by("person_id")
    # floats do not repeat: no dictionaries (half the writing time, a file as small)
    write_whole(path, lambda p: pq.write_table(
        ordered, p, row_group_size=FEATURE_ROWS, use_dictionary=False
    ))  # fmt: skip
