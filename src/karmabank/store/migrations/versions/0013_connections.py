"""connection: the accounts `karmabank sync` polls (issue 17), never their secrets

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import karmabank.store.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("identity_key", sa.Text(), nullable=False),
        sa.Column("account_name", sa.Text(), nullable=True),
        sa.Column("secret_env", sa.String(length=128), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("created_at", karmabank.store.types.UtcTimestamp(), nullable=False),
        sa.Column("last_sync_at", karmabank.store.types.UtcTimestamp(), nullable=True),
        sa.Column("last_result", sa.Text(), nullable=True),
        sa.Column("last_import_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["last_import_run_id"],
            ["import_run.id"],
            name=op.f("fk_connection_last_import_run_id_import_run"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection")),
        sa.UniqueConstraint("name", name=op.f("uq_connection_name")),
    )


def downgrade() -> None:
    op.drop_table("connection")
