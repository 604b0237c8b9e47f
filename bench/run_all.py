"""Every benchmark in one run, written to `bench/results/<date>.md` with the machine it ran on.

    uv run python bench/run_all.py            # 1M-event datasets and the 10-minute soak (about 45 minutes)
    uv run python bench/run_all.py --full     # adds the 10M-event figures the issues set targets for
    uv run python bench/run_all.py --only ingest,queries

Each benchmark is its own script printing its table, its side-by-side baseline and the ratio; this
runner only sequences them (they would distort each other's timings if run together) and collects
their output verbatim, so a figure in the results file is exactly what the script printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    args: tuple[str, ...] = ()
    full_only: bool = False  # runs only with --full


# At 10M only the shapes the issues set 10M targets for (the others take minutes each there).
TEN_MILLION = ("--events", "10000000", "--repeat", "3")
BENCHES = [
    Bench("ingest", "ingest.py", ("--events", "200000")),
    Bench("queries", "queries.py", ("--events", "1000000")),
    Bench("funnels", "queries_funnels.py", ("--events", "1000000")),
    Bench("queries 10M", "queries.py", full_only=True, args=(*TEN_MILLION, "--shapes", "count by day,DAU")),
    Bench(
        "funnels 10M",
        "queries_funnels.py",
        full_only=True,
        args=(*TEN_MILLION, "--shapes", "funnel 3 steps ordered,retention"),
    ),
    Bench("elements", "elements.py", ("--events", "1000000")),
    Bench("api", "api.py"),
    Bench("stream", "stream.py"),
    Bench("soak", "soak.py", ("--minutes", "10")),
]


def _version(command: list[str]) -> str:
    try:
        return (
            subprocess.run(command, capture_output=True, text=True, check=False)
            .stdout.strip()
            .splitlines()[0]
        )
    except (OSError, IndexError):
        return "not found"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return "\n".join(
        [
            f"- CPU: {cpu}, {psutil.cpu_count(logical=True)} logical cores",
            f"- Memory: {psutil.virtual_memory().total / 2**30:.0f} GiB",
            f"- OS: {platform.platform()}",
            f"- Python: {platform.python_version()}",
            f"- PostgreSQL: {_version(['psql', '--version'])}",
            f"- Redis: {_version(['redis-server', '--version'])}",
            f"- Commit: {_version(['git', '-C', str(ROOT), 'rev-parse', '--short', 'HEAD'])}",
        ]
    )


def run(bench: Bench) -> tuple[str, float, int]:
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / bench.script), *bench.args],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        check=False,
    )
    output = completed.stdout + (
        f"\n[stderr tail]\n{completed.stderr[-2000:]}" if completed.returncode else ""
    )
    return output, time.monotonic() - started, completed.returncode


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="include the 10M-event datasets")
    parser.add_argument("--only", help="comma-separated benchmark names")
    args = parser.parse_args()
    chosen = [
        b
        for b in BENCHES
        if (args.full or not b.full_only) and (not args.only or b.name in args.only.split(","))
    ]
    sections = []
    failed = 0
    for bench in chosen:
        if not (ROOT / "bench" / bench.script).exists():
            sections.append(f"## {bench.name}\n\nnot present in this checkout\n")
            continue
        print(f"running {bench.name} …", flush=True)
        output, seconds, code = run(bench)
        failed += code != 0
        status = "" if code == 0 else f" (exit code {code})"
        sections.append(f"## {bench.name}{status}\n\n{seconds:.0f} s\n\n```\n{output.strip()}\n```\n")
        print(output, flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    day = dt.date.today().isoformat()
    # A second run the same day gets its own file: results are a record, not overwritten.
    path, n = RESULTS / f"{day}.md", 1
    while path.exists():
        n += 1
        path = RESULTS / f"{day}-{n}.md"
    path.write_text(
        f"# Benchmark results {dt.date.today().isoformat()}\n\n{machine()}\n\n" + "\n".join(sections)
    )
    print(f"wrote {path.relative_to(ROOT)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
