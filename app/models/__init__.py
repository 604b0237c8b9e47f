"""ORM models; importing this package registers every table on `Base.metadata`."""

from app.models.actions import Action
from app.models.activity import ActivityLog
from app.models.base import Base
from app.models.dashboards import Dashboard, DashboardText, DashboardTile, DashboardViewed
from app.models.definitions import EventDefinition, EventProperty, PropertyDefinition
from app.models.elements import Element
from app.models.events import Event, PersonEventFirstSeen
from app.models.identity import Organization, OrganizationMembership, PersonalAPIKey, Project, User
from app.models.insights import Insight, InsightViewed
from app.models.persons import Person, PersonDistinctId
from app.models.sharing import AccessControl, SharingConfiguration

__all__ = [
    "AccessControl",
    "Action",
    "ActivityLog",
    "Base",
    "Dashboard",
    "DashboardText",
    "DashboardTile",
    "DashboardViewed",
    "Element",
    "Event",
    "EventDefinition",
    "EventProperty",
    "Insight",
    "InsightViewed",
    "Organization",
    "OrganizationMembership",
    "Person",
    "PersonDistinctId",
    "PersonEventFirstSeen",
    "PersonalAPIKey",
    "Project",
    "PropertyDefinition",
    "SharingConfiguration",
    "User",
]
