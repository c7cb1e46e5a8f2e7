"""erased_identity (issue 18: tombstones of erased people's identities, salted hashes) and
organization.erasure_salt

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 08:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import karmabank.store.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erased_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("erased_at", karmabank.store.types.UtcTimestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erased_identity")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_erased_identity_key_hash")),
    )
    with op.batch_alter_table("erased_identity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erased_identity_person_id"), ["person_id"], unique=False
        )
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erasure_salt", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("erasure_salt")
    with op.batch_alter_table("erased_identity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erased_identity_person_id"))
    op.drop_table("erased_identity")
