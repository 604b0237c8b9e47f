"""insights, dashboards and tiles, insight views, activity log, sharing and access rules

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Trigram similarity for insight search (typo-tolerant matches, as PostHog).
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "access_controls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("resource_id", sa.String(length=36), nullable=False),
        sa.Column("access_level", sa.String(length=32), nullable=False),
        sa.Column("organization_member_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_access_controls_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_member_id"],
            ["organization_memberships.id"],
            name=op.f("fk_access_controls_organization_member_id_organization_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["projects.id"], name=op.f("fk_access_controls_team_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_controls")),
    )
    op.create_index(
        "uq_access_controls_rule",
        "access_controls",
        ["team_id", "resource", "resource_id", sa.literal_column("coalesce(organization_member_id, 0)")],
        unique=True,
    )
    op.create_table(
        "activity_logs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("is_system", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("activity", sa.String(length=79), nullable=False),
        sa.Column("scope", sa.String(length=79), nullable=False),
        sa.Column("item_id", sa.String(length=72), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["projects.id"], name=op.f("fk_activity_logs_team_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_activity_logs_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_logs")),
    )
    op.create_index(
        "ix_activity_logs_team_scope_created",
        "activity_logs",
        ["team_id", "scope", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_activity_logs_team_scope_item",
        "activity_logs",
        ["team_id", "scope", "item_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "dashboards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("pinned", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("last_accessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("creation_mode", sa.String(length=16), server_default="default", nullable=False),
        sa.Column(
            "filters",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "variables",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("breakdown_colors", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("data_color_theme_id", sa.Integer(), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("restriction_level", sa.Integer(), server_default="21", nullable=False),
        sa.Column("quick_filter_ids", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_dashboards_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["projects.id"], name=op.f("fk_dashboards_team_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboards")),
    )
    op.create_index("ix_dashboards_team_deleted", "dashboards", ["team_id", "deleted"], unique=False)
    op.create_table(
        "insights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("short_id", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.Column("derived_name", sa.String(length=400), nullable=True),
        sa.Column("description", sa.String(length=400), nullable=True),
        sa.Column(
            "filters",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("query", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("order", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("saved", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("favorited", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_sample", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column(
            "last_modified_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("last_modified_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_insights_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["last_modified_by_id"],
            ["users.id"],
            name=op.f("fk_insights_last_modified_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["projects.id"], name=op.f("fk_insights_team_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insights")),
        sa.UniqueConstraint("team_id", "short_id", name="uq_insights_team_id_short_id"),
    )
    op.create_index("ix_insights_team_deleted", "insights", ["team_id", "deleted"], unique=False)
    op.create_table(
        "dashboard_tiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("dashboard_id", sa.Integer(), nullable=False),
        sa.Column("insight_id", sa.Integer(), nullable=True),
        sa.Column(
            "layouts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("color", sa.String(length=400), nullable=True),
        sa.Column("filters_overrides", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("show_description", sa.Boolean(), nullable=True),
        sa.Column("transparent_background", sa.Boolean(), nullable=True),
        sa.Column("deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["dashboard_id"],
            ["dashboards.id"],
            name=op.f("fk_dashboard_tiles_dashboard_id_dashboards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["insight_id"],
            ["insights.id"],
            name=op.f("fk_dashboard_tiles_insight_id_insights"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["projects.id"], name=op.f("fk_dashboard_tiles_team_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_tiles")),
    )
    op.create_index(
        "ix_dashboard_tiles_team_dashboard", "dashboard_tiles", ["team_id", "dashboard_id"], unique=False
    )
    op.create_index(
        "ix_dashboard_tiles_team_insight", "dashboard_tiles", ["team_id", "insight_id"], unique=False
    )
    op.create_index(
        "uq_dashboard_tiles_dashboard_insight",
        "dashboard_tiles",
        ["dashboard_id", "insight_id"],
        unique=True,
        postgresql_where=sa.text("insight_id IS NOT NULL"),
    )
    op.create_table(
        "insight_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("insight_id", sa.Integer(), nullable=False),
        sa.Column("last_viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["insight_id"],
            ["insights.id"],
            name=op.f("fk_insight_views_insight_id_insights"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["projects.id"], name=op.f("fk_insight_views_team_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_insight_views_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_views")),
        sa.UniqueConstraint("user_id", "insight_id", name="uq_insight_views_user_id_insight_id"),
    )
    op.create_index(
        "ix_insight_views_team_user_viewed",
        "insight_views",
        ["team_id", "user_id", "last_viewed_at"],
        unique=False,
    )
    op.create_table(
        "sharing_configurations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("insight_id", sa.Integer(), nullable=True),
        sa.Column("dashboard_id", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("access_token", sa.String(length=400), nullable=False),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["dashboard_id"],
            ["dashboards.id"],
            name=op.f("fk_sharing_configurations_dashboard_id_dashboards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["insight_id"],
            ["insights.id"],
            name=op.f("fk_sharing_configurations_insight_id_insights"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["projects.id"],
            name=op.f("fk_sharing_configurations_team_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_configurations")),
        sa.UniqueConstraint("access_token", name=op.f("uq_sharing_configurations_access_token")),
    )
    op.create_index(
        op.f("ix_sharing_configurations_team_id"), "sharing_configurations", ["team_id"], unique=False
    )
    op.create_index(
        "uq_sharing_configurations_dashboard", "sharing_configurations", ["dashboard_id"], unique=True
    )
    op.create_index(
        "uq_sharing_configurations_insight", "sharing_configurations", ["insight_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_sharing_configurations_insight", table_name="sharing_configurations")
    op.drop_index("uq_sharing_configurations_dashboard", table_name="sharing_configurations")
    op.drop_index(op.f("ix_sharing_configurations_team_id"), table_name="sharing_configurations")
    op.drop_table("sharing_configurations")
    op.drop_index("ix_insight_views_team_user_viewed", table_name="insight_views")
    op.drop_table("insight_views")
    op.drop_index(
        "uq_dashboard_tiles_dashboard_insight",
        table_name="dashboard_tiles",
        postgresql_where=sa.text("insight_id IS NOT NULL"),
    )
    op.drop_index("ix_dashboard_tiles_team_insight", table_name="dashboard_tiles")
    op.drop_index("ix_dashboard_tiles_team_dashboard", table_name="dashboard_tiles")
    op.drop_table("dashboard_tiles")
    op.drop_index("ix_insights_team_deleted", table_name="insights")
    op.drop_table("insights")
    op.drop_index("ix_dashboards_team_deleted", table_name="dashboards")
    op.drop_table("dashboards")
    op.drop_index("ix_activity_logs_team_scope_item", table_name="activity_logs")
    op.drop_index("ix_activity_logs_team_scope_created", table_name="activity_logs")
    op.drop_table("activity_logs")
    op.drop_index("uq_access_controls_rule", table_name="access_controls")
    op.drop_table("access_controls")
