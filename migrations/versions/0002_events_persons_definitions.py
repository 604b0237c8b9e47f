"""events persons definitions

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_definitions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("volume_30_day", sa.Integer(), nullable=True),
        sa.Column("query_usage_30_day", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_definitions")),
        sa.UniqueConstraint("team_id", "name", name=op.f("uq_event_definitions_team_id")),
    )
    op.create_table(
        "event_properties",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("property", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "event", "property", name=op.f("pk_event_properties")),
    )
    op.create_table(
        "events",
        sa.Column("uuid", sa.UUID(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("distinct_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.UUID(), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "properties",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("elements_chain", sa.Text(), server_default="", nullable=False),
        sa.Column("$session_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "uuid", name=op.f("pk_events")),
    )
    op.create_index(
        "ix_events_team_event_timestamp", "events", ["team_id", "event", "timestamp"], unique=False
    )
    op.create_index("ix_events_team_timestamp", "events", ["team_id", "timestamp"], unique=False)
    op.create_table(
        "person_distinct_ids",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("distinct_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.UUID(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "distinct_id", name=op.f("pk_person_distinct_ids")),
    )
    op.create_index(
        "ix_person_distinct_ids_team_person", "person_distinct_ids", ["team_id", "person_id"], unique=False
    )
    op.create_table(
        "persons",
        sa.Column("uuid", sa.UUID(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column(
            "properties",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("is_identified", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "uuid", name=op.f("pk_persons")),
    )
    op.create_table(
        "property_definitions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.SmallInteger(), nullable=False),
        sa.Column("property_type", sa.Text(), nullable=True),
        sa.Column("is_numerical", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_definitions")),
        sa.UniqueConstraint("team_id", "type", "name", name=op.f("uq_property_definitions_team_id")),
    )


def downgrade() -> None:
    op.drop_table("property_definitions")
    op.drop_table("persons")
    op.drop_index("ix_person_distinct_ids_team_person", table_name="person_distinct_ids")
    op.drop_table("person_distinct_ids")
    op.drop_index("ix_events_team_timestamp", table_name="events")
    op.drop_index("ix_events_team_event_timestamp", table_name="events")
    op.drop_table("events")
    op.drop_table("event_properties")
    op.drop_table("event_definitions")
