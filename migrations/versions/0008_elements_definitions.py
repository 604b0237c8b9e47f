"""elements table; descriptive metadata on event and property definitions

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMPTY_ARRAY = sa.text("'{}'")


def _user_fk(table: str, column: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        column,
        sa.Integer(),
        sa.ForeignKey("users.id", name=f"fk_{table}_{column}_users", ondelete="SET NULL"),
        nullable=True,
    )


def upgrade() -> None:
    op.create_table(
        "elements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("tag_name", sa.Text(), nullable=True),
        sa.Column("attr_class", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("href", sa.Text(), nullable=True),
        sa.Column("attr_id", sa.Text(), nullable=True),
        sa.Column("nth_child", sa.Integer(), nullable=True),
        sa.Column("nth_of_type", sa.Integer(), nullable=True),
        sa.Column("attributes", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("order", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["projects.id"], name=op.f("fk_elements_team_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_elements")),
    )
    op.create_index("ix_elements_team_id", "elements", ["team_id", "id"], unique=False)

    table = "event_definitions"
    op.add_column(table, sa.Column("description", sa.Text(), nullable=True))
    op.add_column(
        table, sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default=EMPTY_ARRAY, nullable=False)
    )
    op.add_column(table, _user_fk(table, "owner_id"))
    op.add_column(table, sa.Column("verified", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column(table, sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(table, _user_fk(table, "verified_by_id"))
    op.add_column(table, sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column(table, sa.Column("enforcement_mode", sa.Text(), server_default="allow", nullable=False))
    op.add_column(
        table,
        sa.Column("default_columns", postgresql.ARRAY(sa.Text()), server_default=EMPTY_ARRAY, nullable=False),
    )
    op.add_column(table, sa.Column("post_to_slack", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column(table, sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(table, _user_fk(table, "updated_by_id"))

    table = "property_definitions"
    op.add_column(table, sa.Column("description", sa.Text(), nullable=True))
    op.add_column(
        table, sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default=EMPTY_ARRAY, nullable=False)
    )
    op.add_column(table, sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(table, _user_fk(table, "updated_by_id"))


def downgrade() -> None:
    for column in ("updated_by_id", "updated_at", "tags", "description"):
        op.drop_column("property_definitions", column)
    for column in (
        "updated_by_id", "updated_at", "post_to_slack", "default_columns", "enforcement_mode", "hidden",
        "verified_by_id", "verified_at", "verified", "owner_id", "tags", "description",
    ):  # fmt: skip
        op.drop_column("event_definitions", column)
    op.drop_index("ix_elements_team_id", table_name="elements")
    op.drop_table("elements")
