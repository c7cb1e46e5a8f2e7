"""organization.retention_days, retention_through and retention_checked_id (issue 18 item 6:
activity texts older than N days are dropped, the activity kept)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 13:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("retention_through", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("retention_checked_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("retention_checked_id")
        batch_op.drop_column("retention_through")
        batch_op.drop_column("retention_days")
