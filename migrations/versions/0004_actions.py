"""actions table, and a safe timestamp parser for date property filters

Revision ID: 0004
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Property values are arbitrary JSON text; a date filter must treat unparseable ones as "no date",
# never fail the query. Offsets in the text win; naive text is read in the project's timezone.
TRY_TIMESTAMPTZ = r"""
CREATE OR REPLACE FUNCTION analytics_try_timestamptz(value text, tz text) RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    IF value IS NULL OR value !~ '^\s*\d{4}-\d{2}-\d{2}' OR length(value) > 64 THEN
        RETURN NULL;
    END IF;
    IF value ~ '\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)\s*$' THEN
        RETURN value::timestamptz;
    END IF;
    RETURN value::timestamp AT TIME ZONE tz;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("steps", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("post_to_slack", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("slack_message_format", sa.Text(), server_default="", nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_actions_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["projects.id"], name=op.f("fk_actions_team_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
    )
    op.create_index("ix_actions_team_deleted", "actions", ["team_id", "deleted"], unique=False)
    op.execute(TRY_TIMESTAMPTZ)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS analytics_try_timestamptz(text, text)")
    op.drop_index("ix_actions_team_deleted", table_name="actions")
    op.drop_table("actions")
