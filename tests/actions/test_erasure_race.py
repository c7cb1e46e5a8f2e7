"""PostgreSQL: an erasure waits for an import batch in flight (`store/batch_gate.py`). A batch
that looked a person's identity up and wrote its rows, not yet committed, when their erasure
starts: the erasure must wait for the commit and then erase those rows too, never leave them on
the erased person's empty row. (On SQLite a batch holds the only write lock from its first
statement: nothing can come between.)"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from karmabank.actions.erasure import erase_person
from karmabank.actions.import_batches import Batcher, Tally
from karmabank.actions.importing import import_files
from karmabank.model import IdentityKey, to_micros
from karmabank.sources.base import ParsedRow
from karmabank.store.open import open_store
from karmabank.store.tables import Activity, ImportRun, Person
from tests.actions.test_erasure import _files
from tests.conftest import NOW, PgDatabases


def test_an_erasure_waits_for_a_batch_in_flight(
    pg_databases: PgDatabases, tmp_path: Path
) -> None:
    url = pg_databases.fresh()
    with open_store(url) as store:
        import_files(store=store, fmt="csv", paths=_files(tmp_path), options={}, now=NOW)
        with store.sessions.begin() as s:
            run = ImportRun(format="csv", paths="[]", options="{}", started_at=NOW,
                            status="running")  # fmt: skip
            s.add(run)
            s.flush()
            run_id = run.id
        batcher = Batcher(store, run_id, set(), to_micros(NOW), Tally())
        late = ParsedRow(
            line=1, source_key="race:1", occurred_at=to_micros(NOW - timedelta(days=1)),
            person=IdentityKey("email", "ada@example.org"), verb="comment", direction="in",
            channel="blog", text="a comment of hers in the batch in flight",
        )  # fmt: skip
        finished = threading.Event()
        failed: list[BaseException] = []

        def erase() -> None:
            try:
                erase_person(store=store, ref="ada@example.org", now=NOW, actor="test",
                             settings=None)  # fmt: skip
            except BaseException as e:  # reported below
                failed.append(e)
            finally:
                finished.set()

        with store.engine.begin() as conn:
            batcher.store_batch_in(conn, "late.csv", "late.csv", [late])  # looked up, written
            eraser = threading.Thread(target=erase)
            eraser.start()
            assert not finished.wait(2.0), "the erasure did not wait for the batch in flight"
        eraser.join(timeout=120)
        assert finished.is_set() and failed == []
        assert batcher.tally.imported == 1  # the batch committed: it was not lost
        with store.sessions() as s:
            ada = s.scalar(select(Person).where(Person.erased))
            assert ada is not None and ada.name is None
            left = s.scalar(select(func.count()).select_from(Activity).where(
                Activity.person_id == ada.id))  # fmt: skip
            assert left == 0  # the batch's row was erased with the rest
            texts = list(s.scalars(select(Activity.text).where(Activity.text.is_not(None))))
            assert not any("batch in flight" in (t or "") for t in texts)
