"""merges: merge, merge_never, merge_suggestion (issue 15: one person across channels)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import karmabank.store.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "merge_suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_a", sa.Integer(), nullable=False),
        sa.Column("person_b", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", karmabank.store.types.UtcTimestamp(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.CheckConstraint("person_a < person_b", name=op.f("ck_merge_suggestion_ordered")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge_suggestion")),
        sa.UniqueConstraint(
            "person_a", "person_b", name=op.f("uq_merge_suggestion_person_a_person_b")
        ),
    )
    with op.batch_alter_table("merge_suggestion", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merge_suggestion_person_b"), ["person_b"], unique=False
        )
        batch_op.create_index(
            "ix_merge_suggestion_status_confidence", ["status", "confidence"], unique=False
        )

    op.create_table(
        "merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kept_id", sa.Integer(), nullable=False),
        sa.Column("absorbed_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", karmabank.store.types.UtcTimestamp(), nullable=False),
        sa.Column("decided_by", sa.String(length=254), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=True),
        sa.Column("moved", sa.Text(), nullable=False),
        sa.Column("undone_at", karmabank.store.types.UtcTimestamp(), nullable=True),
        sa.Column("undone_by", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["merge_suggestion.id"],
            name=op.f("fk_merge_suggestion_id_merge_suggestion"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge")),
    )
    with op.batch_alter_table("merge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_merge_absorbed_id"), ["absorbed_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_merge_kept_id"), ["kept_id"], unique=False)

    op.create_table(
        "merge_never",
        sa.Column("person_a", sa.Integer(), nullable=False),
        sa.Column("person_b", sa.Integer(), nullable=False),
        sa.Column("decided_at", karmabank.store.types.UtcTimestamp(), nullable=False),
        sa.Column("decided_by", sa.String(length=254), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.CheckConstraint("person_a < person_b", name=op.f("ck_merge_never_ordered")),
        sa.PrimaryKeyConstraint("person_a", "person_b", name=op.f("pk_merge_never")),
    )


def downgrade() -> None:
    op.drop_table("merge_never")
    with op.batch_alter_table("merge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merge_kept_id"))
        batch_op.drop_index(batch_op.f("ix_merge_absorbed_id"))
    op.drop_table("merge")
    with op.batch_alter_table("merge_suggestion", schema=None) as batch_op:
        batch_op.drop_index("ix_merge_suggestion_status_confidence")
        batch_op.drop_index(batch_op.f("ix_merge_suggestion_person_b"))
    op.drop_table("merge_suggestion")
