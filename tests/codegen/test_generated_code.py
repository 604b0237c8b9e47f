"""Typed code generation: the generated modules compile and type-check (mypy --strict, tsc --noEmit,
gofmt), constrain property types, and the Python one really sends events through posthog-python.

Toolchains: mypy and posthog come with the dev dependencies; tsc and posthog-js's types from
tests/codegen/toolchain (`npm ci` there; `.ci/run` does it); gofmt from Debian's golang-go.
A missing toolchain skips only its own test, saying why.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import LiveServer
from tests.factories.identity import Team
from tests.factories.ingested import event, ingest
from tests.ingestion.conftest import Stored

TOOLCHAIN = Path(__file__).parent / "toolchain"
TSC = TOOLCHAIN / "node_modules" / ".bin" / "tsc"
NOW = datetime.now(UTC)
WEIRD = 'he said "hi"\n✓ \\ */'
SEEDED = [
    event(
        "signed_up", NOW, plan="pro", seats=3, trial=True, started="2024-01-01T00:00:00Z", **{"class": "a"}
    ),
    event("signed_up", NOW, **{"Plan Type": "x", "$current_url": "https://x"}),
    event("$pageview", NOW, **{"$current_url": "https://x", "section": "docs"}),
    event("$identify", NOW),  # a `$` event that is not a core one: not typed
    event("exception", NOW, message="boom"),  # must not override Posthog.capture_exception
    event("a-b", NOW),
    event("a_b", NOW, n=1),
    event("123 go", NOW, ok=False),
    event(WEIRD, NOW, **{WEIRD: "v"}),
    event("secret_event", NOW, x=1),
]
TYPED_EVENTS = sorted(["signed_up", "$pageview", "exception", "a-b", "a_b", "123 go", WEIRD])


async def _generated(
    client: httpx.AsyncClient, team: Team, language: str, prefix: str = "/api/projects"
) -> dict[str, Any]:
    response = await client.get(f"{prefix}/{team.id}/event_definitions/{language}/", headers=team.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def seeded(client: httpx.AsyncClient, engine: AsyncEngine, team: Team) -> Team:
    await ingest(engine, team.id, SEEDED, now=NOW + timedelta(minutes=1))
    secret = (
        await client.get(
            f"/api/projects/{team.id}/event_definitions/by_name/?name=secret_event", headers=team.headers
        )
    ).json()
    hidden = await client.patch(
        f"/api/projects/{team.id}/event_definitions/{secret['id']}/",
        json={"hidden": True},
        headers=team.headers,
    )
    assert hidden.status_code == 200
    return team


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def _mypy(tmp_path: Path, *files: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "mypy.ini").write_text("[mypy]\n")
    return _run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", "mypy.ini",
         "--cache-dir", str(tmp_path / ".mypy"), *files],
        tmp_path,
    )  # fmt: skip


class TestEnvelope:
    async def test_every_language_reports_the_same_events_and_hash(
        self, client: httpx.AsyncClient, seeded: Team
    ) -> None:
        bodies = [await _generated(client, seeded, lang) for lang in ("typescript", "python", "golang")]
        for body in bodies:
            assert set(body) == {"content", "event_count", "schema_hash", "generator_version"}
            assert body["event_count"] == len(TYPED_EVENTS)
            assert body["generator_version"] == "1.0.0"
            assert len(body["schema_hash"]) == 32
            assert int(body["schema_hash"], 16) >= 0
        assert len({body["schema_hash"] for body in bodies}) == 1
        # The environment URL serves the same module (only the generation time in the header differs).
        environment = await _generated(client, seeded, "python", "/api/environments")
        assert environment["schema_hash"] == bodies[1]["schema_hash"]
        assert environment["content"].split('"""', 2)[2] == bodies[1]["content"].split('"""', 2)[2]
        assert "secret_event" not in bodies[0]["content"]
        assert '"$identify"' not in bodies[0]["content"]

    async def test_hash_changes_exactly_when_the_schema_does(
        self, client: httpx.AsyncClient, engine: AsyncEngine, seeded: Team
    ) -> None:
        first = (await _generated(client, seeded, "python"))["schema_hash"]
        await ingest(engine, seeded.id, [event("signed_up", NOW, plan="team")], now=NOW)  # nothing new
        await ingest(
            engine, seeded.id, [event("signed_up", NOW, **{"$lib_version": "1"})], now=NOW
        )  # `$`: untyped
        assert (await _generated(client, seeded, "python"))["schema_hash"] == first
        await ingest(engine, seeded.id, [event("signed_up", NOW, referrer="ad")], now=NOW)
        assert (await _generated(client, seeded, "python"))["schema_hash"] != first

    async def test_a_project_without_events_still_gets_valid_modules(
        self, client: httpx.AsyncClient, team: Team, tmp_path: Path
    ) -> None:
        body = await _generated(client, team, "python")
        assert body["event_count"] == 0
        (tmp_path / "posthog_typed.py").write_text(body["content"])
        result = _mypy(tmp_path, "posthog_typed.py")
        assert result.returncode == 0, result.stdout


class TestPython:
    USAGE = """
from datetime import datetime
from posthog_typed import PosthogTyped

client = PosthogTyped("phc_x", host="http://127.0.0.1:1")
uuid: str | None = client.capture_signed_up(
    distinct_id="u1", plan="pro", seats=3, trial=True, started=datetime(2024, 1, 1), class_="a",
    plan_type="x", extra_properties={"anything": [1]},
)
client.capture_pageview(distinct_id="u1", section="docs")
client.capture_exception_2(distinct_id="u1", message="boom")
client.capture_a_b(distinct_id="u1")
client.capture_a_b_2(distinct_id="u1", n=2)
client.capture_123_go(distinct_id="u1", ok=False)
client.capture_he_said_hi(distinct_id="u1")
"""

    async def test_passes_mypy_strict_and_rejects_wrong_types(
        self, client: httpx.AsyncClient, seeded: Team, tmp_path: Path
    ) -> None:
        content = (await _generated(client, seeded, "python"))["content"]
        (tmp_path / "posthog_typed.py").write_text(content)
        (tmp_path / "usage.py").write_text(self.USAGE)
        result = _mypy(tmp_path, "posthog_typed.py", "usage.py")
        assert result.returncode == 0, result.stdout
        (tmp_path / "wrong.py").write_text(
            "from posthog_typed import PosthogTyped\n"
            "PosthogTyped('phc_x').capture_signed_up(distinct_id='u', seats='three')\n"
            "PosthogTyped('phc_x').capture_signed_up(distinct_id='u', unknown=1)\n"
        )
        wrong = _mypy(tmp_path, "posthog_typed.py", "wrong.py")
        assert wrong.returncode == 1
        assert (
            'Argument "seats" to "capture_signed_up" of "PosthogTyped" has incompatible type "str"'
            in wrong.stdout
        )
        assert 'Unexpected keyword argument "unknown"' in wrong.stdout

    async def test_sends_typed_events_through_posthog_python(
        self,
        client: httpx.AsyncClient,
        engine: AsyncEngine,
        seeded: Team,
        tmp_path: Path,
        live_server: LiveServer,
    ) -> None:
        content = (await _generated(client, seeded, "python"))["content"]
        path = tmp_path / "posthog_typed_live.py"
        path.write_text(content)
        spec = importlib.util.spec_from_file_location("posthog_typed_live", path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)

        def send() -> None:
            sdk = module.PosthogTyped(
                seeded.project.api_token, host=live_server.url, max_retries=0, disable_geoip=True
            )
            sdk.capture_signed_up(
                distinct_id="typed-1",
                plan="enterprise",
                seats=7,
                extra_properties={"x": 1},
                properties={"from_kwargs": True},
            )
            sdk.capture_he_said_hi(distinct_id="typed-1")
            sdk.flush()
            sdk.shutdown()

        await asyncio.to_thread(send)
        sent = [e for e in await Stored(engine).events(seeded.id) if e["distinct_id"] == "typed-1"]
        by_name = {e["event"]: e for e in sent}
        assert set(by_name) == {"signed_up", WEIRD}
        props = by_name["signed_up"]["properties"]
        assert (props["plan"], props["seats"], props["x"], props["from_kwargs"]) == ("enterprise", 7, 1, True)
        assert "trial" not in props  # optional and not given: not sent


class TestTypeScript:
    USAGE = """
import posthog from './posthog-typed'

posthog.capture('signed_up', { plan: 'pro', seats: 3, trial: true, started: new Date(), 'Plan Type': 'x' })
posthog.capture('signed_up')
posthog.capture('$pageview', { section: 'docs', anything: 1 })
posthog.capture('some_new_event', { free: 'form' })
posthog.captureRaw('dynamic' + 'name', { x: 1 })
posthog.capture(%(weird)s, { %(weird)s: 'v' })
// @ts-expect-error seats is a number
posthog.capture('signed_up', { seats: 'three' })
// @ts-expect-error trial is a boolean
posthog.capture('123 go', { ok: 'no' })
"""

    async def test_passes_tsc_no_emit(self, client: httpx.AsyncClient, seeded: Team, tmp_path: Path) -> None:
        if not TSC.exists():
            pytest.skip("tsc not installed: run `npm ci --prefix tests/codegen/toolchain` (.ci/run does)")
        content = (await _generated(client, seeded, "typescript"))["content"]
        (tmp_path / "posthog-typed.ts").write_text(content)
        (tmp_path / "usage.ts").write_text(self.USAGE % {"weird": json.dumps(WEIRD)})
        (tmp_path / "tsconfig.json").write_text(
            json.dumps(
                {
                    "compilerOptions": {
                        "strict": True, "noEmit": True, "target": "ES2020", "module": "ESNext",
                        "moduleResolution": "bundler", "lib": ["ES2020", "DOM"], "skipLibCheck": True,
                        "typeRoots": [str(TOOLCHAIN / "node_modules" / "@types")],
                        "baseUrl": ".",
                        "paths": {"posthog-js": [str(TOOLCHAIN / "node_modules" / "posthog-js")]},
                    },
                    "files": ["posthog-typed.ts", "usage.ts"],
                }
            )
        )  # fmt: skip
        result = _run([str(TSC), "--noEmit", "-p", "tsconfig.json"], tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        # The expect-error lines only pass if the types really reject them: prove it by removing one.
        (tmp_path / "usage.ts").write_text(
            (self.USAGE % {"weird": json.dumps(WEIRD)}).replace("// @ts-expect-error seats is a number\n", "")
        )
        rejected = _run([str(TSC), "--noEmit", "-p", "tsconfig.json"], tmp_path)
        assert rejected.returncode != 0
        assert "usage.ts" in rejected.stdout
        assert "'string' is not assignable to type 'number'" in rejected.stdout


class TestGo:
    async def test_is_valid_gofmt_formatted_go(
        self, client: httpx.AsyncClient, seeded: Team, tmp_path: Path
    ) -> None:
        gofmt = shutil.which("gofmt")
        if gofmt is None:
            pytest.skip("gofmt not installed: `apt-get install golang-go` (.ci/run does)")
        content = (await _generated(client, seeded, "golang"))["content"]
        path = tmp_path / "typed.go"
        path.write_text(content)
        parsed = _run([gofmt, "-e", "-l", str(path)], tmp_path)
        assert parsed.returncode == 0, parsed.stderr
        assert parsed.stdout == "", (
            "gofmt would reformat the generated file:\n" + _run([gofmt, "-d", str(path)], tmp_path).stdout
        )
        assert content.startswith("// Code generated by analytics event_definitions/golang; DO NOT EDIT.\n")
        for declaration in (
            "func SignedUpWithPlan(v string) SignedUpOption",
            "func SignedUpWithSeats(v float64) SignedUpOption",
            "func SignedUpWithStarted(v time.Time) SignedUpOption",
            "func SignedUpCaptureFromBase(base posthog.Capture, options ...SignedUpOption) posthog.Capture",
            "func ABCapture(distinctId string, properties ...posthog.Properties) posthog.Capture",  # a-b
            # a_b has a property, so it gets options
            "func AB2Capture(distinctId string, options ...AB2Option) posthog.Capture",
            "func Event123GoWithOk(v bool) Event123GoOption",
        ):
            assert declaration in content, declaration
        broken = path.with_name("broken.go")
        broken.write_text(content.replace("package typed", "package typed\nfunc {"))
        assert _run([gofmt, "-e", "-l", str(broken)], tmp_path).returncode != 0
