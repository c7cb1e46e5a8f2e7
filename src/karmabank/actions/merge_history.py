"""The circle and stage history a rescore starts from, for persons that merges touched.

A rescore reads the last rescore's history from its snapshot (a quick Parquet read) rather than
`person_score`; a merge or an unmerge since then changed `person_score` (the kept person holds
the higher circle of the two, the absorbed one's row goes, an unmerge puts both rows back) but
not the snapshot. So the rows of every person that was ever in a merge come from `person_score`,
which is the truth the snapshot copies: those are a few rows, read by one indexed query.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from karmabank.store import arrow_io

_MERGED = "SELECT kept_id FROM merge UNION SELECT absorbed_id FROM merge"
_MERGED_IDS = "(SELECT kept_id AS person_id FROM merge UNION SELECT absorbed_id FROM merge) AS m"
_MERGED_SCORES = f"(SELECT * FROM person_score WHERE person_id IN ({_MERGED})) AS merged"
_IDS = pa.schema([("person_id", pa.int64())])


def with_merged_history(conn: Any, previous: pa.Table) -> pa.Table:
    """`previous` (the snapshot's history) with the rows of merged persons from `person_score`
    (a merged-away person has none: its snapshot row is dropped)."""
    ids = arrow_io.read_table(conn, _MERGED_IDS, _IDS)
    if ids.num_rows == 0:
        return previous
    kept = previous.filter(pc.invert(pc.is_in(previous["person_id"], value_set=ids["person_id"])))
    fresh = arrow_io.read_table(conn, _MERGED_SCORES, previous.schema)
    return pa.concat_tables([kept, fresh])
