"""Dashboard rules: create (plain, from a template, duplicate, unlisted), update, soft delete, tags.

Transactions: these functions `flush()`; the request's session commits. Changes are logged in the
activity log (scope "Dashboard") in the same transaction.
Permissions: a dashboard the viewer may not see is a 404; editing needs an `editor` access level and,
at restriction level 37, being its creator or an admin. Only they may change `restriction_level`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.models import Dashboard, DashboardText, DashboardTile, Insight, Project, User
from app.models.base import utcnow
from app.models.dashboards import CAN_EDIT
from app.repositories import dashboard_rows
from app.repositories import dashboards as dashboards_repo
from app.repositories.dashboard_rows import DashboardRow
from app.repositories.insights import Viewer
from app.schemas.dashboards import privilege
from app.schemas.generated.dashboards import DashboardWrite
from app.schemas.generated.insights import BulkUpdateTags, InsightWrite
from app.services import activity, dashboard_templates, dashboard_tiles, insights
from app.services.tags import apply_tag_action, normalize_tags, validate_bulk_request

SCOPE = "Dashboard"
LOGGED_FIELDS = ("name", "description", "pinned", "filters", "variables", "tags", "restriction_level")
SKIPPED_REASON = "Not found or no edit access"


async def get_row(
    session: AsyncSession,
    project: Project,
    viewer: Viewer,
    dashboard_id: int,
    *,
    include_deleted: bool = False,
) -> DashboardRow:
    row = await dashboard_rows.get(session, project.id, viewer, dashboard_id, include_deleted=include_deleted)
    if row is None:
        raise NotFound()
    return row


def require_editable(row: DashboardRow, viewer: Viewer) -> None:
    if privilege(row, viewer) < CAN_EDIT:
        raise PermissionDenied("You don't have edit permissions for this dashboard.")


def _object(value: Any, attr: str, detail: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(detail, attr=attr)
    return dict(value)


def _log(
    session: AsyncSession,
    project: Project,
    user: User,
    board: Dashboard,
    verb: str,
    changes: list[Any] | None,
) -> None:
    activity.record(
        session,
        team_id=project.id,
        user=user,
        scope=SCOPE,
        item_id=board.id,
        activity=verb,
        name=board.name,
        entry_changes=changes,
    )


async def _insight_from_template(
    session: AsyncSession, project: Project, user: User, viewer: Viewer, tile: Mapping[str, Any]
) -> int:
    body: dict[str, Any] = {"name": tile.get("name"), "description": tile.get("description"), "saved": True}
    if tile.get("query"):
        body["query"] = tile["query"]
    else:
        body["filters"] = tile.get("filters") or {}
    return await insights.create(session, project, user, viewer, InsightWrite.model_validate(body))


async def _add_template_tiles(
    session: AsyncSession,
    project: Project,
    user: User,
    viewer: Viewer,
    board: Dashboard,
    template: Mapping[str, Any],
) -> None:
    for index, tile in enumerate(dashboard_templates.resolved_tiles(template)):
        layouts = tile.get("layouts") if isinstance(tile.get("layouts"), Mapping) else {}
        try:
            if tile.get("type", "INSIGHT") == "TEXT":
                text = DashboardText(
                    team_id=project.id, body=str(tile.get("body") or "")[:4000], created_by_id=user.id
                )
                session.add(text)
                await session.flush()
                session.add(
                    DashboardTile(team_id=project.id, dashboard_id=board.id, text_id=text.id, layouts=layouts)
                )
            else:
                insight_id = await _insight_from_template(session, project, user, viewer, tile)
                session.add(
                    DashboardTile(
                        team_id=project.id,
                        dashboard_id=board.id,
                        insight_id=insight_id,
                        layouts=layouts,
                        color=tile.get("color"),
                    )
                )
        except ValidationError as exc:
            # The request's transaction rolls back, so no partial dashboard survives.
            exc.attr = f"template__tiles__{index}" + (f"__{exc.attr}" if exc.attr else "")
            raise
    await session.flush()


async def _duplicate_tiles(
    session: AsyncSession, project: Project, user: User, source: Dashboard, board: Dashboard, deep: bool
) -> None:
    for tile, text in await dashboard_rows.tiles(session, project.id, source.id):
        insight_id, text_id = tile.insight_id, tile.text_id
        if deep and insight_id is not None:
            original = await session.get(Insight, insight_id)
            if original is None or original.team_id != project.id:
                raise NotFound()
            copy = Insight(
                team_id=project.id,
                short_id=await insights.new_short_id(session, project.id),
                name=f"{original.name} (Copy)" if original.name is not None else None,
                derived_name=original.derived_name,
                description=original.description,
                filters=original.filters,
                query=original.query,
                saved=True,
                tags=list(original.tags or []),
                created_by_id=user.id,
                last_modified_by_id=user.id,
            )
            session.add(copy)
            await session.flush()
            insight_id = copy.id
        if deep and text is not None:
            text_copy = DashboardText(team_id=project.id, body=text.body, created_by_id=user.id)
            session.add(text_copy)
            await session.flush()
            text_id = text_copy.id
        session.add(
            DashboardTile(
                team_id=project.id,
                dashboard_id=board.id,
                insight_id=insight_id,
                text_id=text_id,
                layouts=tile.layouts,
                color=tile.color,
                filters_overrides=tile.filters_overrides,
                show_description=tile.show_description,
                transparent_background=tile.transparent_background,
            )
        )
    await session.flush()


async def create(
    session: AsyncSession,
    project: Project,
    user: User,
    viewer: Viewer,
    body: DashboardWrite,
    *,
    template: Mapping[str, Any] | None = None,
    creation_mode: str | None = None,
    unlisted_tag: str | None = None,
) -> int:
    fields = body.model_dump(exclude_unset=True)
    use_template = fields.get("use_template") or None
    use_dashboard = body.use_dashboard.root if body.use_dashboard is not None else None
    if use_template and "use_dashboard" in fields:
        raise ValidationError("Use either use_template or use_dashboard, not both.", attr="use_dashboard")
    source = None
    if isinstance(use_dashboard, int):
        source = await dashboards_repo.get(session, project.id, use_dashboard)
        if source is None:
            raise ValidationError("Dashboard to duplicate not found.", attr="use_dashboard")
    if use_template:
        template = dashboard_templates.by_key(use_template)
    mode = creation_mode or ("template" if template else "duplicate" if source else "default")
    board = Dashboard(
        team_id=project.id,
        name=fields.get("name", source.name if source else None),
        description=fields.get("description")
        or (source.description if source else "")
        or (str(template.get("dashboard_description") or "") if template else ""),
        pinned=bool(fields.get("pinned", False)),
        created_by_id=user.id,
        creation_mode=mode,
        filters=_object(
            fields["filters"]
            if "filters" in fields
            else (template or {}).get("dashboard_filters") or (source.filters if source else None),
            "filters",
            "Filters must be a dictionary",
        ),
        variables=_object(fields.get("variables"), "variables", "Variables must be a dictionary"),
        breakdown_colors=fields.get("breakdown_colors"),
        data_color_theme_id=fields.get("data_color_theme_id"),
        tags=normalize_tags(fields.get("tags") or (template or {}).get("tags") or []),
        restriction_level=fields.get("restriction_level", 21),
        quick_filter_ids=fields.get("quick_filter_ids"),
        unlisted_tag=unlisted_tag,
    )
    session.add(board)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"Unlisted dashboard with tag '{unlisted_tag}' already exists") from None
    if template:
        await _add_template_tiles(session, project, user, viewer, board, template)
    if source:
        await _duplicate_tiles(session, project, user, source, board, bool(fields.get("duplicate_tiles")))
    if body.tiles:
        await dashboard_tiles.apply_edits(session, project, user, board, body.tiles)
    _log(session, project, user, board, "created", None)
    await session.flush()
    return board.id


async def create_unlisted(
    session: AsyncSession, project: Project, user: User, viewer: Viewer, tag: str | None
) -> int:
    if not tag:
        raise ValidationError("tag is required", code="required", attr="tag")
    template = dashboard_templates.UNLISTED.get(tag)
    if template is None:
        raise ValidationError(f"Unknown product tag: {tag[:100]!r}.", attr="tag")
    if await dashboard_rows.unlisted_exists(session, project.id, tag):
        raise Conflict(f"Unlisted dashboard with tag '{tag}' already exists")
    body = DashboardWrite(name=template["template_name"])
    return await create(
        session, project, user, viewer, body, template=template, creation_mode="unlisted", unlisted_tag=tag
    )


def _snapshot(board: Dashboard) -> dict[str, Any]:
    return {name: getattr(board, name) for name in LOGGED_FIELDS}


async def update(
    session: AsyncSession,
    project: Project,
    user: User,
    viewer: Viewer,
    dashboard_id: int,
    body: DashboardWrite,
) -> int:
    fields = body.model_dump(exclude_unset=True)
    row = await get_row(
        session, project, viewer, dashboard_id, include_deleted=fields.get("deleted") is False
    )
    require_editable(row, viewer)
    board = row.dashboard
    before = _snapshot(board)
    if "restriction_level" in fields and fields["restriction_level"] != board.restriction_level:
        if not (viewer.is_admin or board.created_by_id == viewer.user_id):
            raise PermissionDenied(
                "Only the dashboard owner and project admins may change the restriction level."
            )
        board.restriction_level = fields["restriction_level"]
    for name in ("name", "pinned", "breakdown_colors", "data_color_theme_id", "quick_filter_ids"):
        if name in fields:
            setattr(board, name, fields[name])
    if "description" in fields:
        board.description = fields["description"] or ""
    if "filters" in fields:
        board.filters = _object(fields["filters"], "filters", "Filters must be a dictionary")
    if "variables" in fields:
        board.variables = _object(fields["variables"], "variables", "Variables must be a dictionary")
    if "tags" in fields:
        board.tags = normalize_tags(fields["tags"] or [])
    if body.tiles:
        await dashboard_tiles.apply_edits(session, project, user, board, body.tiles)
    changes = activity.changes(SCOPE, before, _snapshot(board), LOGGED_FIELDS)
    verb = "updated"
    if "deleted" in fields and bool(fields["deleted"]) != board.deleted:
        verb = "deleted" if fields["deleted"] else "restored"
        await _set_deleted(
            session, project, user, board, bool(fields["deleted"]), bool(fields.get("delete_insights"))
        )
        changes.append(activity.change(SCOPE, verb, "deleted", not board.deleted, board.deleted))
    if changes or body.tiles:
        _log(session, project, user, board, verb, changes or None)
    await session.flush()
    return board.id


async def _set_deleted(
    session: AsyncSession,
    project: Project,
    user: User,
    board: Dashboard,
    deleted: bool,
    delete_insights: bool,
) -> None:
    if deleted:
        if delete_insights:
            for insight_id in await dashboard_rows.insights_only_on(session, project.id, board.id):
                insight = await session.get(Insight, insight_id)
                if insight is not None and insight.team_id == project.id and not insight.deleted:
                    insight.deleted = True
                    await dashboards_repo.soft_delete_insight_tiles(session, project.id, insight_id)
        for tile, _ in await dashboard_rows.tiles(session, project.id, board.id):
            tile.deleted = True
    board.deleted = deleted
    await session.flush()


async def touch(session: AsyncSession, project: Project, user: User, row: DashboardRow) -> None:
    """A read: `last_accessed_at` and the reader's `last_viewed_at` move."""
    row.dashboard.last_accessed_at = row.last_viewed_at = utcnow()
    await dashboard_rows.record_view(session, project.id, user.id, row.dashboard.id, row.last_viewed_at)


async def bulk_update_tags(
    session: AsyncSession, project: Project, user: User, viewer: Viewer, body: BulkUpdateTags
) -> dict[str, Any]:
    ids = list(dict.fromkeys(item.root for item in body.ids))
    tags = normalize_tags(body.tags)
    validate_bulk_request(list(ids), body.action, tags)
    updated, skipped = [], []
    for dashboard_id in ids:
        row = await dashboard_rows.get(session, project.id, viewer, dashboard_id)
        if row is None or privilege(row, viewer) < CAN_EDIT:
            skipped.append({"id": dashboard_id, "reason": SKIPPED_REASON})
            continue
        board = row.dashboard
        new_tags = apply_tag_action(board.tags or [], body.action, tags)
        if new_tags != list(board.tags or []):
            _log(
                session,
                project,
                user,
                board,
                "updated",
                activity.changes(SCOPE, {"tags": board.tags}, {"tags": new_tags}, ["tags"]),
            )
            board.tags = new_tags
        updated.append({"id": board.id, "tags": new_tags})
    await session.flush()
    return {"updated": updated, "skipped": skipped}
