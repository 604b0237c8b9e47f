"""Legacy insight `filters` → query nodes: one class per insight kind, garbage → 400."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from app.errors import ValidationError
from app.query.legacy import filters_to_query
from app.query.parse import parse_query


def converted(filters: dict[str, Any]) -> dict[str, Any]:
    """Convert, and check the result is a valid query node as well."""
    node = filters_to_query(filters)
    parse_query(node)
    return node


class TestTrends:
    def test_defaults_to_trends_with_events_and_actions_ordered(self) -> None:
        node = converted(
            {
                "events": [{"id": "$pageview", "type": "events", "order": 1, "math": "dau"}],
                "actions": [{"id": "7", "type": "actions", "order": 0, "name": "Signed up"}],
                "interval": "week",
                "date_from": "-8w",
            }
        )
        assert node == {
            "kind": "TrendsQuery",
            "series": [
                {"kind": "ActionsNode", "id": 7, "name": "Signed up"},
                {"kind": "EventsNode", "event": "$pageview", "math": "dau"},
            ],
            "interval": "week",
            "dateRange": {"date_from": "-8w"},
        }

    def test_math_property_breakdown_compare_display_formula(self) -> None:
        node = converted(
            {
                "insight": "TRENDS",
                "events": [
                    {"id": "purchase", "math": "sum", "math_property": "amount", "custom_name": "Revenue"},
                    {"id": "signup", "order": 1},
                ],
                "breakdown": "$browser",
                "breakdown_limit": "5",
                "compare": "true",
                "display": "ActionsBarValue",
                "formula": "A/B",
                "filter_test_accounts": True,
                "date_from": "2024-01-01",
                "date_to": "2024-01-31",
                "explicit_date": "true",
            }
        )
        assert node["series"][0] == {
            "kind": "EventsNode",
            "event": "purchase",
            "custom_name": "Revenue",
            "math": "sum",
            "math_property": "amount",
        }
        assert node["breakdownFilter"] == {
            "breakdown": "$browser",
            "breakdown_type": "event",
            "breakdown_limit": 5,
        }
        assert node["compareFilter"] == {"compare": True}
        assert node["trendsFilter"] == {"display": "ActionsBarValue", "formula": "A/B"}
        assert node["filterTestAccounts"] is True
        assert node["dateRange"] == {"date_from": "2024-01-01", "date_to": "2024-01-31", "explicitDate": True}

    def test_unknown_display_is_dropped_and_breakdown_type_typo_fixed(self) -> None:
        node = converted(
            {"events": [{"id": "a"}], "display": "FunnelViz", "breakdown": "x", "breakdown_type": "events"}
        )
        assert "trendsFilter" not in node
        assert node["breakdownFilter"] == {"breakdown": "x", "breakdown_type": "event"}

    def test_multiple_breakdowns(self) -> None:
        node = converted(
            {
                "events": [{"id": "a"}],
                "breakdowns": [
                    {"property": "$browser", "type": "event"},
                    {"property": "plan", "type": "person"},
                ],
            }
        )
        assert node["breakdownFilter"] == {
            "breakdowns": [{"property": "$browser", "type": "event"}, {"property": "plan", "type": "person"}]
        }
        single = converted({"events": [{"id": "a"}], "breakdowns": [{"property": "plan", "type": "person"}]})
        assert single["breakdownFilter"] == {"breakdown": "plan", "breakdown_type": "person"}

    def test_get_parameters_arrive_as_json_strings(self) -> None:
        node = converted(
            {
                "events": json.dumps(
                    [{"id": "$pageview", "properties": [{"key": "$browser", "value": "Chrome"}]}]
                ),
                "properties": json.dumps(
                    [{"key": "email", "value": "x", "operator": "icontains", "type": "person"}]
                ),
                "filter_test_accounts": "false",
            }
        )
        assert node["series"] == [
            {
                "kind": "EventsNode",
                "event": "$pageview",
                "properties": [{"key": "$browser", "value": "Chrome", "operator": "exact", "type": "event"}],
            }
        ]
        assert node["properties"] == [
            {"key": "email", "value": "x", "operator": "icontains", "type": "person"}
        ]
        assert node["filterTestAccounts"] is False

    def test_property_shapes(self) -> None:
        old_style = converted({"events": [{"id": "a"}], "properties": {"utm_medium__icontains": "email"}})
        assert old_style["properties"] == [
            {"key": "utm_medium", "value": "email", "operator": "icontains", "type": "event"}
        ]
        flat_group = converted(
            {
                "events": [{"id": "a"}],
                "properties": {"type": "OR", "values": [{"key": "a", "values": ["1", None]}]},
            }
        )
        assert flat_group["properties"] == {
            "type": "AND",
            "values": [
                {"type": "OR", "values": [{"key": "a", "value": ["1"], "operator": "exact", "type": "event"}]}
            ],
        }
        nested = {
            "type": "AND",
            "values": [{"type": "OR", "values": [{"key": "b", "type": "person", "value": "x"}]}],
        }
        assert converted({"events": [{"id": "a"}], "properties": nested})["properties"] == {
            "type": "AND",
            "values": [
                {"type": "OR", "values": [{"key": "b", "value": "x", "operator": "exact", "type": "person"}]}
            ],
        }

    def test_all_events_series_and_sessions_insight(self) -> None:
        node = converted({"insight": "SESSIONS", "events": [{"id": None, "type": "events"}]})
        assert node == {"kind": "TrendsQuery", "series": [{"kind": "EventsNode"}]}


class TestFunnels:
    def test_funnel_fields(self) -> None:
        node = converted(
            {
                "insight": "FUNNELS",
                "events": [
                    {"id": "$pageview", "order": 0, "math": "dau"},
                    {"id": "signup", "order": 1, "properties": [{"key": "plan", "value": "pro"}]},
                ],
                "actions": [{"id": 3, "order": 2}],
                "funnel_window_interval": "7",
                "funnel_window_interval_type": "HOUR",
                "funnel_viz_type": "time_to_convert",
                "funnel_order_type": "strict",
                "funnel_from_step": 0,
                "funnel_to_step": "2",
                "bin_count": "auto",
                "breakdown": "$browser",
                "breakdown_attribution_type": "step",
                "breakdown_attribution_value": 1,
                "exclusions": [
                    {"id": "logout", "type": "events", "funnel_from_step": 0, "funnel_to_step": 1}
                ],
            }
        )
        assert node["kind"] == "FunnelsQuery"
        assert node["series"] == [
            {"kind": "EventsNode", "event": "$pageview"},  # funnels carry no math
            {
                "kind": "EventsNode",
                "event": "signup",
                "properties": [{"key": "plan", "value": "pro", "operator": "exact", "type": "event"}],
            },
            {"kind": "ActionsNode", "id": 3},
        ]
        assert node["funnelsFilter"] == {
            "funnelVizType": "time_to_convert",
            "funnelOrderType": "strict",
            "funnelWindowInterval": 7,
            "funnelWindowIntervalUnit": "hour",
            "funnelFromStep": 0,
            "funnelToStep": 2,
            "breakdownAttributionType": "step",
            "breakdownAttributionValue": 1,
            "exclusions": [{"kind": "EventsNode", "event": "logout", "funnelFromStep": 0, "funnelToStep": 1}],
        }
        assert node["breakdownFilter"] == {"breakdown": "$browser", "breakdown_type": "event"}

    def test_deprecated_window_days_and_display_trends(self) -> None:
        node = converted(
            {
                "insight": "funnels",
                "events": [{"id": "a"}, {"id": "b"}],
                "funnel_window_days": 3,
                "display": "ActionsLineGraph",
            }
        )
        assert node["funnelsFilter"] == {
            "funnelVizType": "trends",
            "funnelWindowInterval": 3,
            "funnelWindowIntervalUnit": "day",
        }

    def test_window_unit_spelled_in_plural(self) -> None:
        node = converted(
            {
                "insight": "FUNNELS",
                "events": [{"id": "a"}, {"id": "b"}],
                "funnel_window_interval": 2,
                "funnel_window_interval_unit": "weeks",
            }
        )
        assert node["funnelsFilter"]["funnelWindowIntervalUnit"] == "week"


class TestRetention:
    def test_retention_fields(self) -> None:
        node = converted(
            {
                "insight": "RETENTION",
                "target_entity": json.dumps({"id": "signup", "type": "events", "name": "signup"}),
                "returning_entity": {"id": 4, "type": "actions"},
                "period": "week",
                "total_intervals": "11",
                "retention_type": "retention_first_time",
                "retention_reference": "previous",
                "cumulative": "1",
                "date_to": "2024-03-01",
                "breakdown": "plan",
                "breakdown_type": "person",
                "interval": "day",  # not used by retention
                "events": [{"id": "ignored"}],
            }
        )
        assert node == {
            "kind": "RetentionQuery",
            "dateRange": {"date_to": "2024-03-01"},
            "breakdownFilter": {"breakdown": "plan", "breakdown_type": "person"},
            "retentionFilter": {
                "retentionType": "retention_first_time",
                "retentionReference": "previous",
                "totalIntervals": 11,
                "period": "Week",
                "targetEntity": {"id": "signup", "type": "events", "kind": "EventsNode", "name": "signup"},
                "returningEntity": {"id": 4, "type": "actions", "kind": "ActionsNode"},
                "cumulative": True,
            },
        }

    def test_retention_without_filters_still_has_its_filter(self) -> None:
        assert converted({"insight": "RETENTION"}) == {"kind": "RetentionQuery", "retentionFilter": {}}


class TestPaths:
    def test_paths_fields(self) -> None:
        node = converted(
            {
                "insight": "PATHS",
                "include_event_types": '["$pageview", "custom_event"]',
                "start_point": "/home",
                "step_limit": 4,
                "edge_limit": "20",
                "min_edge_weight": 2,
                "exclude_events": ["/admin"],
                "path_groupings": ["/product/*"],
                "local_path_cleaning_filters": [{"alias": "/user/:id", "regex": "/user/\\d+"}],
                "date_from": "-30d",
            }
        )
        assert node == {
            "kind": "PathsQuery",
            "dateRange": {"date_from": "-30d"},
            "pathsFilter": {
                "includeEventTypes": ["$pageview", "custom_event"],
                "startPoint": "/home",
                "pathGroupings": ["/product/*"],
                "excludeEvents": ["/admin"],
                "stepLimit": 4,
                "localPathCleaningFilters": [{"alias": "/user/:id", "regex": "/user/\\d+"}],
                "edgeLimit": 20,
                "minEdgeWeight": 2,
            },
        }


class TestStickinessAndLifecycle:
    def test_stickiness_keeps_actor_math_only(self) -> None:
        node = converted(
            {
                "insight": "STICKINESS",
                "events": [
                    {"id": "a", "math": "sum", "math_property": "x"},
                    {"id": "b", "math": "weekly_active"},
                ],
                "compare": True,
                "shown_as": "Stickiness",
                "aggregation_group_type_index": 0,  # ignored for stickiness, as PostHog does
            }
        )
        assert node["series"] == [
            {"kind": "EventsNode", "event": "a", "math": "dau"},
            {"kind": "EventsNode", "event": "b", "math": "weekly_active"},
        ]
        assert node["compareFilter"] == {"compare": True}
        assert "aggregation_group_type_index" not in node

    def test_lifecycle_toggles(self) -> None:
        node = converted(
            {
                "insight": "LIFECYCLE",
                "events": [{"id": "a"}],
                "toggledLifecycles": ["new", "dormant"],
                "interval": "week",
            }
        )
        assert node == {
            "kind": "LifecycleQuery",
            "series": [{"kind": "EventsNode", "event": "a"}],
            "interval": "week",
            "lifecycleFilter": {"toggledLifecycles": ["new", "dormant"]},
        }


class TestGarbage:
    @pytest.mark.parametrize(
        ("filters", "attr"),
        [
            ({"insight": "HEATMAP"}, "insight"),
            ({"insight": 7}, "insight"),
            ({"events": "not json"}, "events"),
            ({"events": {"id": "a"}}, "events"),
            ({"events": [7]}, "events__0"),
            ({"actions": [{"id": "abc"}]}, "actions__0__id"),
            ({"actions": [{"name": "no id"}]}, "actions__0__id"),
            ({"properties": "{nope"}, "properties"),
            ({"properties": 12}, "properties"),
            (
                {
                    "events": [
                        {"id": "a", "properties": {"type": "AND", "values": [{"type": "OR", "values": []}]}}
                    ]
                },
                "events__0__properties",
            ),
            ({"insight": "FUNNELS", "funnel_window_interval": "soon"}, "funnel_window_interval"),
            (
                {"insight": "FUNNELS", "exclusions": [{"id": "x", "funnel_from_step": "a"}]},
                "exclusions__0__funnel_from_step",
            ),
            ({"insight": "RETENTION", "target_entity": "[1]"}, "target_entity"),
            ({"compare": "maybe"}, "compare"),
            ({"filter_test_accounts": 5}, "filter_test_accounts"),
        ],
    )
    def test_bad_filters_are_400_naming_the_field(self, filters: dict[str, Any], attr: str) -> None:
        with pytest.raises(ValidationError) as caught:
            filters_to_query(filters)
        assert caught.value.status_code == 400
        assert caught.value.attr == attr

    def test_properties_unparsable_message(self) -> None:
        with pytest.raises(ValidationError, match="Properties are unparsable!"):
            filters_to_query({"properties": "[{"})

    def test_not_a_mapping(self) -> None:
        with pytest.raises(ValidationError):
            filters_to_query(["a"])  # type: ignore[arg-type]

    def test_random_garbage_never_escapes_as_another_exception(self) -> None:
        rng = random.Random(5)
        keys = [
            "insight",
            "events",
            "actions",
            "properties",
            "breakdown",
            "breakdowns",
            "exclusions",
            "date_from",
            "funnel_window_interval",
            "target_entity",
            "period",
            "include_event_types",
            "compare",
            "interval",
            "breakdown_type",
            "total_intervals",
            "step_limit",
            "local_path_cleaning_filters",
            "display",
        ]
        values: list[Any] = [
            None,
            "",
            "x",
            "[]",
            "{}",
            "[1]",
            1,
            -3,
            2.5,
            True,
            [],
            {},
            [None],
            [{}],
            [{"id": 1}],
            {"type": "AND"},
            {"type": "OR", "values": "x"},
            "FUNNELS",
            "RETENTION",
            "PATHS",
            "nan",
        ]
        for _ in range(3000):
            filters = {rng.choice(keys): rng.choice(values) for _ in range(rng.randint(1, 6))}
            try:
                node = filters_to_query(filters)
            except ValidationError:
                continue
            try:
                parse_query(node)
            except ValidationError:
                continue
