"""Insight kinds, chosen by `kind`. A new kind plugs in with a module exposing `run` and one entry here."""

from __future__ import annotations

from app.query.kinds import funnel_correlation, funnels, lifecycle, paths, retention, stickiness, trends
from app.query.kinds.base import Plan, Runner

RUNNERS: dict[str, Runner] = {
    "TrendsQuery": trends.run,
    "StickinessQuery": stickiness.run,
    "LifecycleQuery": lifecycle.run,
    "FunnelsQuery": funnels.run,
    "RetentionQuery": retention.run,
    "PathsQuery": paths.run,
    "FunnelCorrelationQuery": funnel_correlation.run,
}

__all__ = ["RUNNERS", "Plan", "Runner"]
