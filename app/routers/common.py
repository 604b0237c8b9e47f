"""What the insight and dashboard routers share: the viewer, id path convertors, JSON params, and
`project_reader`, the one dependency of the hottest reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, Query, Request
from starlette.convertors import Convertor, register_url_convertor

from app.auth import AuthContext, principal_for
from app.deps import AuthDep, ProjectAccessDep, parse_id, project_access
from app.errors import NotFound, ValidationError
from app.models import Project
from app.repositories.insights import Viewer
from app.services import access

# Fixed action names under /insights/ (ours and the legacy endpoints') are never insight ids,
# so `/insights/{id}` can't swallow them whatever order the routers are mounted in.
INSIGHT_ACTIONS = (
    "activity|my_last_viewed|viewed|cancel|bulk_update_tags|generate_name|generate_metadata|trending"
    "|funnel|trend|timing|path|paths|retention|stickiness|lifecycle"
)


class InsightRefConvertor(Convertor[str]):
    """An insight id or short_id: any path segment except the viewset's action names."""

    regex = rf"(?!(?:{INSIGHT_ACTIONS})(?:/|$))[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("insight_ref", InsightRefConvertor())


async def get_viewer(project_access: ProjectAccessDep, auth: AuthDep) -> Viewer:
    return access.viewer_for(auth.user.id, project_access.membership_id, project_access.membership_level)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


@dataclass(frozen=True, slots=True)
class ProjectReader:
    auth: AuthContext
    project: Project
    viewer: Viewer


def project_reader(scope: str) -> Any:
    """One dependency doing what `dependencies=[require_scope(scope)]` + `AuthDep` + `ProjectDep` +
    `ViewerDep` do, in the same order (401, missing scope, project 404/403), for reads.

    FastAPI solves a dependency's whole sub-tree again for every parameter that uses it (the cache
    only saves the final call), so those four cost ~20 dependency resolutions per request: a fifth
    of a cached insight read. Declare it once per scope at module level (FastAPI caches by callable).

    It needs no session: the user and project are the principal cache's detached, shared objects
    (read-only: never add them to a session or change them), and a cache miss loads in a short
    session of its own. Opening, merging into and closing a request session cost over a quarter of
    a cached insight read.
    """

    async def resolve(request: Request) -> ProjectReader:
        state = request.app.state
        principal = await principal_for(request, state.read_sessionmaker, state.principals)
        auth = AuthContext(user=principal.user, key=principal.key, principal=principal)
        auth.require(scope)
        membership = await project_access(request, auth)
        viewer = access.viewer_for(auth.user.id, membership.membership_id, membership.membership_level)
        return ProjectReader(auth, membership.project, viewer)

    return Depends(resolve)


FormatParam = Annotated[Literal["json", "csv"] | None, Query(alias="format")]


def json_object(raw: str | None, attr: str) -> dict[str, Any] | None:
    """A query-string parameter holding a JSON object (`filters_override`, `variables_override`)."""
    if not raw:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValidationError("Must be a JSON object.", attr=attr) from None
    if not isinstance(value, dict):
        raise ValidationError("Must be a JSON object.", attr=attr)
    return value


class ObjectIdConvertor(Convertor[str]):
    """A numeric object id (at most 10 digits); checked against int4 by `object_id`, so it is a 404."""

    regex = "[0-9]{1,10}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("object_id", ObjectIdConvertor())


def object_id(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value
