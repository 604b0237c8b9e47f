"""dashboards: text tiles, per-user dashboard views, one unlisted dashboard per product tag

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=4000), server_default="", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "last_modified_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("last_modified_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_texts_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["last_modified_by_id"],
            ["users.id"],
            name=op.f("fk_texts_last_modified_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["projects.id"], name=op.f("fk_texts_team_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_texts")),
    )
    op.create_index(op.f("ix_texts_team_id"), "texts", ["team_id"], unique=False)
    op.create_table(
        "dashboard_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("dashboard_id", sa.Integer(), nullable=False),
        sa.Column("last_viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dashboard_id"],
            ["dashboards.id"],
            name=op.f("fk_dashboard_views_dashboard_id_dashboards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["projects.id"], name=op.f("fk_dashboard_views_team_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_dashboard_views_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_views")),
    )
    op.create_index(op.f("ix_dashboard_views_team_id"), "dashboard_views", ["team_id"], unique=False)
    op.create_index(
        "uq_dashboard_views_user_dashboard", "dashboard_views", ["user_id", "dashboard_id"], unique=True
    )
    op.add_column("dashboard_tiles", sa.Column("text_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_dashboard_tiles_text_id_texts"),
        "dashboard_tiles",
        "texts",
        ["text_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.add_column("dashboards", sa.Column("unlisted_tag", sa.String(length=100), nullable=True))
    op.create_index(
        "uq_dashboards_team_unlisted_tag",
        "dashboards",
        ["team_id", "unlisted_tag"],
        unique=True,
        postgresql_where=sa.text("unlisted_tag IS NOT NULL AND NOT deleted"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_dashboards_team_unlisted_tag",
        table_name="dashboards",
        postgresql_where=sa.text("unlisted_tag IS NOT NULL AND NOT deleted"),
    )
    op.drop_column("dashboards", "unlisted_tag")
    op.drop_constraint(op.f("fk_dashboard_tiles_text_id_texts"), "dashboard_tiles", type_="foreignkey")
    op.drop_column("dashboard_tiles", "text_id")
    op.drop_index("uq_dashboard_views_user_dashboard", table_name="dashboard_views")
    op.drop_index(op.f("ix_dashboard_views_team_id"), table_name="dashboard_views")
    op.drop_table("dashboard_views")
    op.drop_index(op.f("ix_texts_team_id"), table_name="texts")
    op.drop_table("texts")
