"""events: promoted properties ($browser, $os, $device_type, $geoip_country_code) as generated
columns carried in the event+time index

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not imported from app.models) so the migration stays what it was when written.
PROMOTED = {
    "$browser": "mat_browser",
    "$os": "mat_os",
    "$device_type": "mat_device_type",
    "$geoip_country_code": "mat_geoip_country_code",
}


def upgrade() -> None:
    # Adding stored generated columns rewrites the table once (an exclusive lock for its duration).
    for key, column in PROMOTED.items():
        op.add_column(
            "events",
            sa.Column(column, sa.Text(), sa.Computed(f"properties ->> '{key}'", persisted=True)),
        )
    op.drop_index("ix_events_team_event_timestamp", table_name="events")
    op.create_index(
        "ix_events_team_event_timestamp",
        "events",
        ["team_id", "event", "timestamp"],
        postgresql_include=["person_id", *PROMOTED.values()],
    )


def downgrade() -> None:
    op.drop_index("ix_events_team_event_timestamp", table_name="events")
    for column in PROMOTED.values():
        op.drop_column("events", column)
    op.create_index(
        "ix_events_team_event_timestamp",
        "events",
        ["team_id", "event", "timestamp"],
        postgresql_include=["person_id"],
    )
