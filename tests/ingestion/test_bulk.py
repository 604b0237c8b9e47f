"""`analytics import` and `analytics demo-data`: bulk loads through the pipeline."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.bulk_cli import import_file, load_demo
from app.ingestion.demo import DemoDataset
from app.settings import Settings
from tests.factories.identity import Team
from tests.ingestion.conftest import Stored

END = datetime(2024, 6, 1, tzinfo=UTC)


def write_lines(path: Path, lines: list[str], *, compress: bool) -> None:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if compress else data)


def export_line(event: str, distinct_id: str, **extra: object) -> str:
    return json.dumps(
        {
            "event": event,
            "distinct_id": distinct_id,
            "uuid": str(uuid.uuid4()),
            "timestamp": "2024-05-01T10:00:00Z",
            "properties": {"p": 1},
            **extra,
        }
    )


@pytest.mark.parametrize("compress", [False, True])
async def test_import_reports_bad_lines_and_skips_what_is_stored(
    tmp_path: Path, test_settings: Settings, team: Team, stored: Stored, compress: bool
) -> None:
    good = [export_line("signup", f"u{i}") for i in range(7)]
    lines = [
        good[0],
        "{broken json",
        good[1],
        "[1, 2]",
        json.dumps({"distinct_id": "no-event"}),
        "",
        good[2],
        json.dumps({"event": "bad-uuid", "distinct_id": "x", "uuid": "nope"}),
        *good[3:],
        good[0],  # a repeat of line 1
    ]
    path = tmp_path / ("events.jsonl.gz" if compress else "events.jsonl")
    write_lines(path, lines, compress=compress)
    report = await import_file(test_settings, path, path.stat().st_size, team.id)
    assert (report.imported, report.skipped, report.invalid_count) == (7, 1, 4)
    assert [line for line, _ in report.invalid] == [2, 4, 5, 8]
    assert "event" in dict(report.invalid)[5]
    assert await stored.count("events", team.id) == 7
    again = await import_file(test_settings, path, path.stat().st_size, team.id)
    assert (again.imported, again.skipped) == (0, 8)
    assert await stored.count("events", team.id) == 7


class TestDemoDataset:
    def test_deterministic_and_exact(self) -> None:
        first = [e for day in DemoDataset(events=3000, days=10, seed=4, end=END).batches() for e in day]
        second = [e for day in DemoDataset(events=3000, days=10, seed=4, end=END).batches() for e in day]
        other = [e for day in DemoDataset(events=3000, days=10, seed=5, end=END).batches() for e in day]
        assert len(first) == 3000
        assert first == second
        assert [e["uuid"] for e in first] != [e["uuid"] for e in other]
        assert all(e["timestamp"] < END.isoformat() or e["timestamp"].startswith("2024-06-01") for e in first)

    def test_realistic_shape(self) -> None:
        events = [e for day in DemoDataset(events=20000, days=20, seed=1, end=END).batches() for e in day]
        names = Counter(e["event"] for e in events)
        assert (
            names["$pageview"]
            > names["$autocapture"]
            > names["signed_up"]
            > names["project_created"]
            > names["purchase"]
            > 0
        )
        # Each day's last session may be cut between its identify and its signup.
        assert 0 <= names["$identify"] - names["signed_up"] <= 20
        pageview = next(e for e in events if e["event"] == "$pageview")
        for key in (
            "$current_url",
            "$pathname",
            "$browser",
            "$os",
            "$device_type",
            "$referring_domain",
            "$geoip_country_code",
            "$session_id",
        ):
            assert key in pageview["properties"], key
        click = next(e for e in events if e["event"] == "$autocapture")
        assert click["properties"]["$elements_chain"].startswith("button.btn")
        # Each signup follows its identify, which links the visitor's anonymous id.
        identified = {e["properties"]["$anon_distinct_id"] for e in events if e["event"] == "$identify"}
        assert identified <= {e["distinct_id"] for e in events if e["event"] == "$pageview"}


async def test_demo_load_builds_persons_and_a_funnel(
    test_settings: Settings, team: Team, stored: Stored
) -> None:
    dataset = DemoDataset(events=6000, days=14, seed=2, end=END)
    report = await load_demo(test_settings, dataset, team.id, lambda _: None)
    assert report.imported == 6000
    events = await stored.events(team.id)
    assert len(events) == 6000
    persons = await stored.persons(team.id)
    signups = {e["distinct_id"] for e in events if e["event"] == "signed_up"}
    assert signups
    assert all(persons[d]["is_identified"] for d in signups)
    assert all(persons[d]["properties"]["email"] == d for d in signups)
    reloaded = await load_demo(test_settings, dataset, team.id, lambda _: None)
    assert (reloaded.imported, reloaded.skipped) == (0, 6000)


def test_cli_commands(tmp_path: Path, test_settings: Settings) -> None:
    env = dict(
        os.environ, DATABASE_URL=test_settings.database_url or "", REDIS_URL=test_settings.redis_url or ""
    )
    cli = [sys.executable, "-m", "app.cli"]
    demo = subprocess.run(
        [*cli, "demo-data", "--events", "1500", "--days", "3", "--seed", "9", "--end", "2024-06-01"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    assert "loaded 1,500 events" in demo.stderr
    path = tmp_path / "export.jsonl"
    write_lines(path, [export_line("a", "x"), "nope"], compress=False)
    project = json.loads(
        subprocess.run(
            [*cli, "bootstrap", "--json"], env=env, capture_output=True, text=True, check=True
        ).stdout
    )["project_id"]
    imported = subprocess.run(
        [*cli, "import", str(path), "--project", str(project)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr
    assert "imported 1, skipped 0 already stored, invalid 1" in imported.stderr
    assert "line 2: not JSON" in imported.stderr
    missing = subprocess.run(
        [*cli, "import", str(path), "--project", "999999"], env=env, capture_output=True, text=True
    )
    assert missing.returncode == 1
    assert "project 999999 does not exist" in missing.stderr
