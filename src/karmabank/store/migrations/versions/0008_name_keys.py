"""name keys: person, issue and campaign names compared by a Unicode-aware key

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:30:00.000000

`name_key` is `karmabank.names.name_key(name)` (NFKC, case-folded, spaces collapsed), computed
here in Python for the rows already stored, so both backends hold the very same keys.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from karmabank.names import name_key

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHUNK = 20_000


def _fill(table: str) -> None:
    """Set the key of every named row of `table`, a chunk of ids at a time."""
    conn = op.get_bind()
    update = sa.text(f"UPDATE {table} SET name_key = :key WHERE id = :id")
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                f"SELECT id, name FROM {table} WHERE id > :last AND name IS NOT NULL"
                " ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": _CHUNK},
        ).all()
        if not rows:
            return
        conn.execute(update, [{"id": i, "key": name_key(name)} for i, name in rows])
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.Text(), nullable=True))

    with op.batch_alter_table("issue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.Text(), nullable=True))

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.Text(), nullable=True))

    for table in ("campaign", "issue", "person"):
        _fill(table)

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_name_key"), ["name_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_name_key"))
        batch_op.drop_column("name_key")

    with op.batch_alter_table("issue", schema=None) as batch_op:
        batch_op.drop_column("name_key")

    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("name_key")
