"""person_event_first_seen: when each person first did each event, kept by triggers on events

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Statement-level triggers see every write path (the capture writer, bulk COPY, tests' inserts, and
# the person_id rewrite of merges) at the cost of one grouped upsert per statement. Keys are upserted
# in order, so concurrent batches lock shared rows in the same order.
UPSERT = """
INSERT INTO person_event_first_seen (team_id, event, person_id, first_ts)
SELECT team_id, event, person_id, min(timestamp) FROM changed
WHERE person_id IS NOT NULL
GROUP BY team_id, event, person_id
ORDER BY team_id, event, person_id
ON CONFLICT (team_id, event, person_id) DO UPDATE SET first_ts = excluded.first_ts
WHERE excluded.first_ts < person_event_first_seen.first_ts
"""


def upgrade() -> None:
    op.create_table(
        "person_event_first_seen",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("person_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("first_ts", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "event", "person_id", name="pk_person_event_first_seen"),
    )
    op.execute(
        "CREATE FUNCTION analytics_first_seen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + UPSERT
        + "; RETURN NULL; END $$"
    )
    for operation in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER events_first_seen_{operation.lower()} AFTER {operation} ON events "
            "REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION analytics_first_seen()"
        )
    op.execute(UPSERT.replace("FROM changed", "FROM events"))


def downgrade() -> None:
    for operation in ("insert", "update"):
        op.execute(f"DROP TRIGGER events_first_seen_{operation} ON events")
    op.execute("DROP FUNCTION analytics_first_seen()")
    op.drop_table("person_event_first_seen")
