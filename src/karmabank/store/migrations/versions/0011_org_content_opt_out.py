"""org_content, opt_out (issue 16: the organization's own content, per-channel opt-outs)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import karmabank.store.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "org_content",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("occurred_at", karmabank.store.types.UtcTimestamp(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("object", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("import_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_run_id"],
            ["import_run.id"],
            name=op.f("fk_org_content_import_run_id_import_run"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_content")),
        sa.UniqueConstraint("source_key", name=op.f("uq_org_content_source_key")),
    )
    op.create_table(
        "opt_out",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("created_at", karmabank.store.types.UtcTimestamp(), nullable=False),
        sa.Column("source", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_opt_out_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_out")),
        sa.UniqueConstraint("person_id", "channel", name=op.f("uq_opt_out_person_id_channel")),
    )
    with op.batch_alter_table("opt_out", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opt_out_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("opt_out", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opt_out_person_id"))
    op.drop_table("opt_out")
    op.drop_table("org_content")
