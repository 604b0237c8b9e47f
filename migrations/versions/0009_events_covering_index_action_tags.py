"""events: person_id in the event+time index (index-only scans), eager insert vacuum; action tags

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Person-level maths (DAU, stickiness, lifecycle, funnels, retention) read only team, event, time
    # and person: with person_id in the index they never touch the table (bench/event_indexes.py).
    op.drop_index("ix_events_team_event_timestamp", table_name="events")
    op.create_index(
        "ix_events_team_event_timestamp",
        "events",
        ["team_id", "event", "timestamp"],
        postgresql_include=["person_id"],
    )
    # Index-only scans need the visibility map: vacuum an insert-only table after 2% growth, not 20%.
    op.execute(
        "ALTER TABLE events SET (autovacuum_vacuum_insert_scale_factor = 0.02, "
        "autovacuum_analyze_scale_factor = 0.02)"
    )
    op.add_column(
        "actions",
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("actions", "tags")
    op.execute(
        "ALTER TABLE events RESET (autovacuum_vacuum_insert_scale_factor, autovacuum_analyze_scale_factor)"
    )
    op.drop_index("ix_events_team_event_timestamp", table_name="events")
    op.create_index("ix_events_team_event_timestamp", "events", ["team_id", "event", "timestamp"])
