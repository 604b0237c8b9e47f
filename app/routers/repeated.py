"""Query parameters that may repeat (`?include=a&include=b`), as PostHog's clients send them.

They are documented as plain strings (one value) and read with `getlist`: OpenAPI array parameters
make schema-driven clients and fuzzers disagree about whether a single value is a list.
"""

from __future__ import annotations

from fastapi import Request

from app.errors import ValidationError

MAX_REPEATS = 100


def repeated(request: Request, name: str, max_length: int) -> list[str]:
    values = request.query_params.getlist(name)
    if len(values) > MAX_REPEATS:
        raise ValidationError(f"At most {MAX_REPEATS} values are allowed.", attr=name)
    for value in values:
        if len(value) > max_length:
            raise ValidationError(f"Ensure this value has at most {max_length} characters.", attr=name)
    return values
