"""identity_name: the distinct names one identity was seen with (issue 15 item 6, shared
mailboxes), bounded per identity at import

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 04:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_name",
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identity.id"],
            name=op.f("fk_identity_name_identity_id_identity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("identity_id", "name_key", name=op.f("pk_identity_name")),
    )


def downgrade() -> None:
    op.drop_table("identity_name")
