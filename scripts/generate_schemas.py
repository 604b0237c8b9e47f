"""Regenerate `app/schemas/generated/` from `openapi/*.yaml` with datamodel-code-generator.

uv run python scripts/generate_schemas.py            # write the files
uv run python scripts/generate_schemas.py --out DIR  # write elsewhere (the sync test does this)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "openapi"
TARGET = ROOT / "app" / "schemas" / "generated"

CODEGEN_OPTIONS = [
    "--input-file-type",
    "openapi",
    "--output-model-type",
    "pydantic_v2.BaseModel",
    "--target-python-version",
    "3.11",
    "--use-standard-collections",
    "--use-union-operator",
    "--use-annotated",
    "--field-constraints",
    "--enum-field-as-literal",
    "all",
    "--use-double-quotes",
    "--disable-timestamp",
    "--use-schema-description",
    "--snake-case-field",
    "--capitalise-enum-members",
    "--strict-types",
    "int",
    "bool",
    "--formatters",
    "builtin",
]
# Formatted here with fixed options so the output doesn't depend on where it is written.
RUFF_FORMAT = ["-m", "ruff", "format", "--isolated", "--line-length", "110", "--quiet"]


def generate(out_dir: Path) -> list[Path]:
    """Generate into a scratch dir inside the repo (the generator and formatter read the repo's
    pyproject.toml, so output must not depend on where it lands), then copy to `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".schemas-") as scratch:
        for source in sorted(SOURCES.glob("*.yaml")):
            produced = Path(scratch) / f"{source.stem}.py"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "datamodel_code_generator",
                    "--input",
                    str(source),
                    "--output",
                    str(produced),
                    *CODEGEN_OPTIONS,
                ],
                check=True,
            )
            subprocess.run([sys.executable, *RUFF_FORMAT, str(produced)], check=True)
            target = out_dir / produced.name
            shutil.copyfile(produced, target)
            written.append(target)
    (out_dir / "__init__.py").write_text(
        '"""Generated from openapi/ by scripts/generate_schemas.py; never edit."""\n'
    )
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args()
    for path in generate(args.out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
