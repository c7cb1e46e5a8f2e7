"""score sort indexes: person_score (warmth DESC, person_id) for the people listing

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # `karmabank people` (warmest first, then by id) walks this index and stops at its limit
    # instead of sorting every score
    op.create_index(
        "ix_person_score_warmth", "person_score", [sa.column("warmth").desc(), "person_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_person_score_warmth", table_name="person_score")
