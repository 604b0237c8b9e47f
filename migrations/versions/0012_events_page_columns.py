"""events: $current_url and $pathname promoted, and a covering index of page views for paths

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not imported from app.models) so the migration stays what it was when written.
PROMOTED = {"$current_url": "mat_current_url", "$pathname": "mat_pathname"}


def upgrade() -> None:
    # Adding stored generated columns rewrites the table once (an exclusive lock for its duration).
    for key, column in PROMOTED.items():
        op.add_column(
            "events",
            sa.Column(column, sa.Text(), sa.Computed(f"properties ->> '{key}'", persisted=True)),
        )
    op.create_index(
        "ix_events_team_pageview_pages",
        "events",
        ["team_id", "timestamp"],
        postgresql_include=["person_id", *PROMOTED.values()],
        postgresql_where=sa.text("event = '$pageview'"),
    )


def downgrade() -> None:
    op.drop_index("ix_events_team_pageview_pages", table_name="events")
    for column in PROMOTED.values():
        op.drop_column("events", column)
