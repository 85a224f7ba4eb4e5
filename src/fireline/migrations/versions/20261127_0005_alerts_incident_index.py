"""alerts: index incident_id only where it is set

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 21:52:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SET = sa.text("incident_id IS NOT NULL")


def upgrade() -> None:
    # Most alerts belong to no incident; indexing their NULLs costs every insert of an alert storm.
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_incident_id")
        batch_op.create_index(
            "ix_alerts_incident_id",
            ["incident_id"],
            unique=False,
            sqlite_where=_SET,
            postgresql_where=_SET,
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_incident_id")
        batch_op.create_index("ix_alerts_incident_id", ["incident_id"], unique=False)
