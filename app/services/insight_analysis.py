"""A data-driven reading of an insight's result, without an LLM. Pure functions over result shapes.

- series kinds (trends, stickiness, lifecycle): direction and % change period over period (the
  comparison period when the query has one, else the first half of the range vs the second), the
  last interval vs the one before, and anomalies: points more than 3 standard deviations
  from the other points;
- breakdowns: the values that moved most between the two periods;
- funnels: overall conversion and the step with the largest drop-off;
- retention: how many come back after one period and by the last one;
- paths: the heaviest transitions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from app.services.insight_naming import event_label, title

FLAT_BAND = 5.0  # % change within which a series counts as flat
ANOMALY_SIGMA = 3.0
MIN_POINTS_FOR_ANOMALIES = 6
TOP_MOVERS = 3


def pct_change(before: float, after: float) -> float | None:
    if before == 0:
        return None if after == 0 else math.inf
    return (after - before) / abs(before) * 100


def direction(change: float | None) -> str:
    if change is None or abs(change) < FLAT_BAND:
        return "flat"
    return "up" if change > 0 else "down"


def anomalies(values: Sequence[float], labels: Sequence[str]) -> list[dict[str, Any]]:
    """Points whose distance from the mean of the *other* points exceeds 3 of their standard deviations."""
    found: list[dict[str, Any]] = []
    if len(values) < MIN_POINTS_FOR_ANOMALIES:
        return found
    for index, value in enumerate(values):
        others = [v for i, v in enumerate(values) if i != index]
        mean = sum(others) / len(others)
        std = math.sqrt(sum((v - mean) ** 2 for v in others) / (len(others) - 1))
        if std == 0:
            continue
        sigma = (value - mean) / std
        if abs(sigma) > ANOMALY_SIGMA:
            label = labels[index] if index < len(labels) else str(index)
            found.append({"index": index, "label": label, "value": value, "sigma": round(sigma, 2)})
    return found


def _halves(data: Sequence[float]) -> tuple[float, float]:
    middle = len(data) // 2
    return float(sum(data[:middle])), float(sum(data[len(data) - middle :]))


def _series_key(item: Mapping[str, Any]) -> tuple[str, str]:
    return str(item.get("label")), str(item.get("breakdown_value", ""))


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _series_findings(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    current = [r for r in results if r.get("compare_label") != "previous"]
    previous = {_series_key(r): r for r in results if r.get("compare_label") == "previous"}
    findings = []
    for item in current:
        data = [_number(v) for v in item.get("data") or []]
        total = _number(item.get("aggregated_value", item.get("count", sum(data))))
        if (earlier := previous.get(_series_key(item))) is not None:
            before = _number(earlier.get("aggregated_value", earlier.get("count")))
            after, basis = total, "previous period"
        else:
            before, after = _halves(data)
            basis = "first half of the range"
        change = pct_change(before, after)
        finding: dict[str, Any] = {
            "label": item.get("label"),
            "breakdown_value": item.get("breakdown_value"),
            "total": total,
            "period_over_period": {
                "basis": basis,
                "before": before,
                "after": after,
                "change_pct": _round(change),
            },
            "direction": direction(change),
            "anomalies": anomalies(data, [str(d) for d in item.get("days") or item.get("labels") or []]),
        }
        if len(data) >= 2:
            finding["last_interval"] = {
                "before": data[-2],
                "after": data[-1],
                "change_pct": _round(pct_change(data[-2], data[-1])),
            }
        findings.append(finding)
    movers = sorted(
        (f for f in findings if f["breakdown_value"] is not None),
        key=lambda f: abs(f["period_over_period"]["after"] - f["period_over_period"]["before"]),
        reverse=True,
    )
    return {
        "kind": "series",
        "series": findings,
        "biggest_movers": [
            {
                "breakdown_value": f["breakdown_value"],
                "label": f["label"],
                "change": f["period_over_period"]["after"] - f["period_over_period"]["before"],
                "change_pct": f["period_over_period"]["change_pct"],
            }
            for f in movers[:TOP_MOVERS]
        ],
    }


def _round(value: float | None) -> float | None:
    return None if value is None or math.isinf(value) else round(value, 1)


def _funnel_findings(results: Sequence[Any]) -> dict[str, Any]:
    steps = results[0] if results and isinstance(results[0], list) else results
    steps = [s for s in steps if isinstance(s, Mapping)]
    counts = [_number(step.get("count")) for step in steps]
    names = [
        str(step.get("custom_name") or step.get("name") or f"Step {i + 1}") for i, step in enumerate(steps)
    ]
    drops: list[dict[str, Any]] = [
        {
            "from_step": names[i - 1],
            "to_step": names[i],
            "dropped": counts[i - 1] - counts[i],
            "drop_off_pct": round((counts[i - 1] - counts[i]) / counts[i - 1] * 100, 1)
            if counts[i - 1]
            else 0.0,
        }
        for i in range(1, len(steps))
    ]
    largest = max(drops, key=lambda d: float(d["drop_off_pct"]), default=None)
    overall = round(counts[-1] / counts[0] * 100, 1) if counts and counts[0] else 0.0
    return {
        "kind": "funnel",
        "steps": names,
        "counts": counts,
        "conversion_pct": overall,
        "drop_offs": drops,
        "largest_drop_off": largest,
    }


def _retention_findings(results: Sequence[Any]) -> dict[str, Any]:
    cohorts = [c for c in results if isinstance(c, Mapping) and c.get("values")]
    sizes = [_number(c["values"][0].get("count")) for c in cohorts]
    total = sum(sizes)

    def retained(period: int) -> float | None:
        eligible = [c for c in cohorts if len(c["values"]) > period]
        base = sum(_number(c["values"][0].get("count")) for c in eligible)
        kept = sum(_number(c["values"][period].get("count")) for c in eligible)
        return round(kept / base * 100, 1) if base else None

    periods = max((len(c["values"]) for c in cohorts), default=0)
    return {
        "kind": "retention",
        "cohorts": len(cohorts),
        "users": total,
        "retained_after_one_period_pct": retained(1) if periods > 1 else None,
        "retained_at_last_period_pct": retained(periods - 1) if periods > 1 else None,
    }


def _paths_findings(results: Sequence[Any]) -> dict[str, Any]:
    edges = sorted(
        (e for e in results if isinstance(e, Mapping)), key=lambda e: _number(e.get("value")), reverse=True
    )
    return {
        "kind": "paths",
        "top_transitions": [
            {"source": e.get("source"), "target": e.get("target"), "value": _number(e.get("value"))}
            for e in edges[:5]
        ],
    }


def analyze(source: Mapping[str, Any], results: Any) -> dict[str, Any]:
    kind = source.get("kind")
    if not isinstance(results, list) or not results:
        return {"kind": "empty"}
    if kind == "FunnelsQuery":
        return _funnel_findings(results)
    if kind == "RetentionQuery":
        return _retention_findings(results)
    if kind == "PathsQuery":
        return _paths_findings(results)
    return _series_findings([r for r in results if isinstance(r, Mapping)])


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _series_summary(analysis: Mapping[str, Any]) -> list[str]:
    sentences = []
    for finding in analysis["series"][:TOP_MOVERS]:
        if finding["breakdown_value"] is not None and analysis["biggest_movers"]:
            continue
        pop = finding["period_over_period"]
        verb = {"up": "rose", "down": "fell", "flat": "held steady"}[finding["direction"]]
        change = (
            ""
            if pop["change_pct"] is None or finding["direction"] == "flat"
            else f" {abs(pop['change_pct'])}%"
        )
        sentences.append(
            f"{finding['label']} {verb}{change} ({_fmt(pop['before'])} → {_fmt(pop['after'])}) "
            f"compared with the {pop['basis']}."
        )
    if movers := analysis["biggest_movers"]:
        parts = [
            f"{m['breakdown_value']} ({'+' if m['change'] >= 0 else ''}{_fmt(m['change'])})" for m in movers
        ]
        sentences.append(f"Biggest movers: {', '.join(parts)}.")
    spikes = [(f["label"], a) for f in analysis["series"] for a in f["anomalies"]]
    for label, anomaly in spikes[:TOP_MOVERS]:
        side = "above" if anomaly["sigma"] > 0 else "below"
        sentences.append(
            f"{label} on {anomaly['label']} was unusual: {_fmt(anomaly['value'])}, "
            f"{abs(anomaly['sigma'])} standard deviations {side} the other points."
        )
    if not spikes:
        sentences.append("No anomalies beyond 3 standard deviations.")
    return sentences


def summary(source: Mapping[str, Any], analysis: Mapping[str, Any]) -> str:
    heading = title(source)
    kind = analysis.get("kind")
    if kind == "empty":
        return f"{heading}: there is no data to analyze for this range yet."
    if kind == "series":
        return f"{heading}: " + " ".join(_series_summary(analysis))
    if kind == "funnel":
        steps = len(analysis["steps"])
        text = f"{heading}: {analysis['conversion_pct']}% of users converted through all {steps} steps."
        if largest := analysis["largest_drop_off"]:
            text += (
                f" The largest drop-off is from {largest['from_step']} to {largest['to_step']} "
                f"({largest['drop_off_pct']}%, {_fmt(largest['dropped'])} users)."
            )
        return text
    if kind == "retention":
        text = f"{heading}: {analysis['cohorts']} cohorts, {_fmt(analysis['users'])} users."
        if analysis["retained_after_one_period_pct"] is not None:
            text += (
                f" {analysis['retained_after_one_period_pct']}% came back after one period and "
                f"{analysis['retained_at_last_period_pct']}% by the last."
            )
        return text
    tops = analysis.get("top_transitions") or []
    parts = [f"{t['source']} → {t['target']} ({_fmt(t['value'])})" for t in tops[:3]]
    return (
        f"{heading}: the heaviest transitions are {', '.join(parts)}." if parts else f"{heading}: no paths."
    )


def suggestions(source: Mapping[str, Any], analysis: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Follow-up questions the result raises, each with a ready-to-run query."""
    found: list[dict[str, Any]] = []
    kind = source.get("kind")
    if analysis.get("kind") == "series" and kind == "TrendsQuery":
        for finding in analysis["series"]:
            for anomaly in finding["anomalies"][:1]:
                day = str(anomaly["label"])
                found.append(
                    {
                        "type": "investigate_anomaly",
                        "title": f"Look at {finding['label']} on {day} hour by hour",
                        "description": f"The value on {day} was {abs(anomaly['sigma'])} standard "
                        "deviations from the rest.",
                        "query": {
                            **source,
                            "interval": "hour",
                            "dateRange": {"date_from": day, "date_to": day},
                        },
                    }
                )
        if not (source.get("compareFilter") or {}).get("compare"):
            found.append(
                {
                    "type": "compare",
                    "title": "Compare with the previous period",
                    "description": "See whether the change is seasonal or new.",
                    "query": {**source, "compareFilter": {"compare": True}},
                }
            )
        if not source.get("breakdownFilter"):
            found.append(
                {
                    "type": "breakdown",
                    "title": "Break down by browser",
                    "description": "Check whether one segment drives the trend.",
                    "query": {
                        **source,
                        "breakdownFilter": {"breakdown": "$browser", "breakdown_type": "event"},
                    },
                }
            )
    if analysis.get("kind") == "funnel" and (largest := analysis.get("largest_drop_off")):
        series = source.get("series") or []
        names = analysis["steps"]
        index = names.index(largest["to_step"]) if largest["to_step"] in names else 1
        found.append(
            {
                "type": "drop_off",
                "title": f"Focus on {largest['from_step']} → {largest['to_step']}",
                "description": f"{largest['drop_off_pct']}% of users drop off at this step.",
                "query": {**source, "series": series[index - 1 : index + 1]} if len(series) > index else None,
            }
        )
    if not found:
        first = (source.get("series") or [{}])[0] if source.get("series") else None
        label = event_label(first) if isinstance(first, Mapping) else title(source)
        found.append(
            {
                "type": "trend",
                "title": f"Track {label} over a longer range",
                "description": "A longer range shows whether this is a lasting pattern.",
                "query": {**source, "dateRange": {"date_from": "-90d"}} if kind != "RetentionQuery" else None,
            }
        )
    return found
