"""Insight rules: create, update (soft delete and restore included), dashboards membership, tags, views.

Transactions: these functions `flush()`; the request's session commits. Every change that PostHog logs
writes an activity entry with field diffs in the same transaction.
Permissions: an insight the viewer may not see is a 404; one they may only view is a 403 on writes.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.errors import NotFound, PermissionDenied, ValidationError
from app.models import DashboardTile, Insight, Project, User
from app.models.base import utcnow
from app.models.dashboards import CAN_EDIT
from app.repositories import dashboards as dashboards_repo
from app.repositories import insight_reads
from app.repositories import insights as repository
from app.repositories.insights import InsightRow, Viewer
from app.schemas.generated.insights import BulkUpdateTags, InsightWrite
from app.schemas.insights import access_level, levels
from app.services import access, activity, insight_naming
from app.services.insight_queries import canonical_source, legacy_query
from app.services.tags import apply_tag_action, normalize_tags, validate_bulk_request

SCOPE = "Insight"
SHORT_ID_ALPHABET = string.ascii_letters + string.digits
SHORT_ID_LENGTH = 8
# Changes to these move `last_modified_at`; any change moves `updated_at`.
MATERIAL_FIELDS = ("name", "description", "filters", "query")
LOGGED_FIELDS = (
    "name",
    "derived_name",
    "description",
    "filters",
    "query",
    "order",
    "favorited",
    "saved",
    "tags",
)
SKIPPED_REASON = "Not found or no edit access"


async def new_short_id(session: AsyncSession, team_id: int) -> str:
    while True:
        candidate = "".join(secrets.choice(SHORT_ID_ALPHABET) for _ in range(SHORT_ID_LENGTH))
        if not await repository.short_id_taken(session, team_id, candidate):
            return candidate


def derived_name_for(query: dict[str, Any] | None) -> str | None:
    if not query:
        return None
    return insight_naming.name(canonical_source(query))


def _validated_query(value: Any) -> dict[str, Any] | None:
    """400 naming the field when the query node is invalid; stored as sent when valid."""
    if value is None:
        return None
    try:
        canonical_source(value)
    except ValidationError as exc:
        exc.attr = "__".join(p for p in ("query", exc.attr) if p)
        raise
    return dict(value)


def _validated_filters(value: Any) -> dict[str, Any]:
    """Legacy filters are kept as sent, once they convert to a valid query (400 naming the field)."""
    if not value:
        return {}
    try:
        canonical_source(legacy_query(value))
    except ValidationError as exc:
        if not (exc.attr or "").startswith("filters"):
            exc.attr = "__".join(p for p in ("filters", exc.attr) if p)
        raise
    return dict(value)


def _legacy(filters: dict[str, Any]) -> dict[str, Any] | None:
    return legacy_query(filters) if filters else None


async def get_row(
    session: AsyncSession, project: Project, viewer: Viewer, ref: str, *, include_deleted: bool = False
) -> InsightRow:
    row = await repository.get(session, project.id, ref, viewer, include_deleted=include_deleted)
    if row is None:
        raise NotFound()
    return row


async def read_row(engine: AsyncEngine, project: Project, viewer: Viewer, ref: str) -> InsightRow:
    """`get_row` for reading only (the retrieve endpoint): a cheaper lookup whose objects are in no
    session (see `app.repositories.insight_reads`)."""
    row = await insight_reads.get(engine, project.id, ref, viewer)
    if row is None:
        raise NotFound()
    return row


def editable(row: InsightRow, viewer: Viewer) -> bool:
    return access.at_least(access_level(row, viewer), "editor") and levels(row, viewer)[1] == CAN_EDIT


def require_editable(row: InsightRow, viewer: Viewer) -> None:
    access.require_edit(access_level(row, viewer), levels(row, viewer)[1])


async def _set_dashboards(
    session: AsyncSession, project: Project, viewer: Viewer, insight: Insight, wanted: Sequence[int]
) -> tuple[list[int], list[int]]:
    """Make the insight's active tiles exactly `wanted` (reviving soft-deleted tiles). (before, after)."""
    wanted = list(dict.fromkeys(wanted))
    boards = await dashboards_repo.by_ids(session, project.id, wanted)
    for dashboard_id in wanted:
        board = boards.get(dashboard_id)
        if board is None:
            raise ValidationError(f"Dashboard not found: {dashboard_id}.", attr="dashboards")
        if not access.can_edit_dashboard(viewer, board.restriction_level, board.created_by_id):
            raise PermissionDenied(f"You don't have permission to add insights to dashboard: {dashboard_id}")
    tiles = await dashboards_repo.insight_tiles(session, project.id, insight.id)
    before = sorted(t.dashboard_id for t in tiles if not t.deleted)
    by_board = {tile.dashboard_id: tile for tile in tiles}
    for dashboard_id in wanted:
        if (tile := by_board.get(dashboard_id)) is not None:
            tile.deleted = False
        else:
            session.add(DashboardTile(team_id=project.id, dashboard_id=dashboard_id, insight_id=insight.id))
    for tile in tiles:
        if tile.dashboard_id not in wanted and not tile.deleted:
            tile.deleted = True
    await session.flush()
    return before, sorted(wanted)


def _snapshot(insight: Insight) -> dict[str, Any]:
    return {name: getattr(insight, name) for name in LOGGED_FIELDS} | {"deleted": insight.deleted}


async def create(
    session: AsyncSession, project: Project, user: User, viewer: Viewer, body: InsightWrite
) -> int:
    fields = body.model_dump(exclude_unset=True, by_alias=False)
    query = _validated_query(fields.get("query"))
    filters = _validated_filters(fields.get("filters"))
    insight = Insight(
        team_id=project.id,
        short_id=await new_short_id(session, project.id),
        name=fields.get("name"),
        derived_name=fields.get("derived_name") or derived_name_for(query or _legacy(filters)),
        description=fields.get("description"),
        filters=filters,
        query=query,
        order=fields.get("order"),
        deleted=bool(fields.get("deleted", False)),
        saved=bool(fields.get("saved", False)),
        favorited=bool(fields.get("favorited", False)),
        tags=normalize_tags(fields.get("tags") or []),
        created_by_id=user.id,
        last_modified_by_id=user.id,
    )
    session.add(insight)
    await session.flush()
    if body.dashboards:
        await _set_dashboards(session, project, viewer, insight, [d.root for d in body.dashboards])
    await repository.record_views(session, project.id, user.id, [insight.id])
    if insight.name or insight.derived_name:
        activity.record(
            session,
            team_id=project.id,
            user=user,
            scope=SCOPE,
            item_id=insight.id,
            activity="created",
            name=insight.name or insight.derived_name,
            short_id=insight.short_id,
        )
    await session.flush()
    return insight.id


def _apply(insight: Insight, fields: dict[str, Any]) -> None:
    for name in ("name", "description", "order"):
        if name in fields:
            setattr(insight, name, fields[name])
    if "filters" in fields:
        insight.filters = _validated_filters(fields["filters"])
    if "query" in fields:
        insight.query = _validated_query(fields["query"])
    if "derived_name" in fields:
        insight.derived_name = fields["derived_name"]
    elif "query" in fields or "filters" in fields:
        new_name = derived_name_for(insight.query or _legacy(insight.filters))
        insight.derived_name = new_name or insight.derived_name
    if "favorited" in fields:
        insight.favorited = bool(fields["favorited"])
    if "tags" in fields:
        insight.tags = normalize_tags(fields["tags"] or [])
    # PostHog: an update that doesn't say otherwise saves the insight; templates' samples stop being samples.
    insight.saved = bool(fields.get("saved", True))
    insight.is_sample = False


async def update(
    session: AsyncSession, project: Project, user: User, viewer: Viewer, ref: str, body: InsightWrite
) -> int:
    fields = body.model_dump(exclude_unset=True, by_alias=False)
    # Only a restore may address a deleted insight.
    row = await get_row(session, project, viewer, ref, include_deleted=fields.get("deleted") is False)
    require_editable(row, viewer)
    insight = row.insight
    before = _snapshot(insight)
    _apply(insight, fields)
    now = utcnow()
    insight.updated_at = now
    if any(before[name] != getattr(insight, name) for name in MATERIAL_FIELDS):
        insight.last_modified_at, insight.last_modified_by_id = now, user.id
    entry_changes = activity.changes(SCOPE, before, _snapshot(insight), LOGGED_FIELDS)
    if body.dashboards is not None:
        old, new = await _set_dashboards(session, project, viewer, insight, [d.root for d in body.dashboards])
        if old != new:
            entry_changes.append(activity.change(SCOPE, "changed", "dashboards", old, new))
    verb = "updated"
    if "deleted" in fields and bool(fields["deleted"]) != insight.deleted:
        insight.deleted = bool(fields["deleted"])
        verb = "deleted" if insight.deleted else "restored"
        entry_changes.append(activity.change(SCOPE, verb, "deleted", not insight.deleted, insight.deleted))
        if insight.deleted:
            await dashboards_repo.soft_delete_insight_tiles(session, project.id, insight.id)
    if entry_changes:
        activity.record(
            session,
            team_id=project.id,
            user=user,
            scope=SCOPE,
            item_id=insight.id,
            activity=verb,
            name=insight.name or insight.derived_name,
            short_id=insight.short_id,
            entry_changes=entry_changes,
        )
    await session.flush()
    return insight.id


async def bulk_update_tags(
    session: AsyncSession, project: Project, user: User, viewer: Viewer, body: BulkUpdateTags
) -> dict[str, Any]:
    ids = list(dict.fromkeys(item.root for item in body.ids))
    tags = normalize_tags(body.tags)
    validate_bulk_request(list(ids), body.action, tags)
    rows = await repository.load_rows(session, project.id, viewer, ids)
    updated, skipped = [], []
    for insight_id in ids:
        row = rows.get(insight_id)
        if row is None or row.insight.deleted or not editable(row, viewer):
            skipped.append({"id": insight_id, "reason": SKIPPED_REASON})
            continue
        insight = row.insight
        new_tags = apply_tag_action(insight.tags or [], body.action, tags)
        if new_tags != list(insight.tags or []):
            activity.record(
                session,
                team_id=project.id,
                user=user,
                scope=SCOPE,
                item_id=insight.id,
                activity="updated",
                name=insight.name or insight.derived_name,
                short_id=insight.short_id,
                entry_changes=activity.changes(SCOPE, {"tags": insight.tags}, {"tags": new_tags}, ["tags"]),
            )
            insight.tags, insight.updated_at = new_tags, utcnow()
        updated.append({"id": insight.id, "tags": new_tags})
    await session.flush()
    return {"updated": updated, "skipped": skipped}


async def record_viewed(session: AsyncSession, project: Project, user: User, ids: Sequence[int]) -> None:
    """Views of the project's live insights; foreign and deleted ids are dropped silently."""
    existing = await repository.existing_ids(session, project.id, list(dict.fromkeys(ids)))
    await repository.record_views(session, project.id, user.id, existing)
