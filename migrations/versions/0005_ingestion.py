"""ingestion: events by person (person merges rewrite an old person's events)

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Without it a merge scans the project's whole events table while holding the project's person
    # lock; bench/event_indexes.py measures what it costs ingestion.
    op.create_index("ix_events_team_person", "events", ["team_id", "person_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_events_team_person", table_name="events")
