"""Element filters (`tag_name`, `text`, `href`, `selector`) over the `elements_chain` string.

The chain lists the clicked element first, then its ancestors, `;`-separated; each element is
`tag.classes:attr="value"...` (see app/elements_chain.py). Text and href values are extracted with a
regex and compared exactly as the operator says; tags and selectors become anchored regexes built
from escaped literals.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, String, Text, any_, exists, func, literal, not_, or_, select
from sqlalchemy.dialects.postgresql import ARRAY

from app.errors import ValidationError
from app.query.ir import PropertyFilter
from app.query.sql import EVENTS

_ELEMENT_HEAD_END = r"([.:;]|$)"
_SELECTOR_PART = re.compile(
    r"^(?P<tag>[a-zA-Z][a-zA-Z0-9-]*|\*)?(?P<rest>(?:[.#][a-zA-Z0-9_-]+|\[[a-zA-Z0-9_-]+=\"?[^\"\]]*\"?\])*)$"
)
_SELECTOR_PIECE = re.compile(r"\.([a-zA-Z0-9_-]+)|#([a-zA-Z0-9_-]+)|\[([a-zA-Z0-9_-]+)=\"?([^\"\]]*)\"?\]")


def _pg_escape(value: str) -> str:
    """A literal for a Postgres ARE: escape every non-alphanumeric character."""
    return re.sub(r"([^a-zA-Z0-9_ ])", r"\\\1", value)


def _attribute_values(attribute: str, condition: Callable[[Any], ColumnElement[bool]]) -> ColumnElement[bool]:
    pattern = f'[":]{attribute}="((?:[^"\\\\]|\\\\.)*)"'
    match = func.regexp_matches(
        EVENTS.c.elements_chain, literal(pattern, String), "g", type_=ARRAY(Text)
    ).column_valued("m")
    return exists(select(literal(1)).where(condition(func.replace(match[1], '\\"', '"'))).correlate(EVENTS))


def tag_regex(tag: str) -> str:
    return f"(^|;){_pg_escape(tag)}{_ELEMENT_HEAD_END}"


def selector_regex(selector: str) -> str:
    """A simple CSS selector (tags, classes, ids, [attr=value], descendant / child combinators)."""
    parts = [p for p in re.split(r"\s*>\s*|\s+", selector.strip()) if p]
    if not parts or len(parts) > 10:
        raise ValidationError("Unsupported selector.", attr="properties")
    element_patterns = []
    for part in parts:
        match = _SELECTOR_PART.match(part)
        if not match:
            raise ValidationError(f"Unsupported selector: {selector[:100]!r}.", attr="properties")
        tag = match.group("tag")
        head = "[^.:;]*" if tag in (None, "*") else _pg_escape(tag)
        classes, attributes = [], []
        for piece in _SELECTOR_PIECE.finditer(match.group("rest")):
            css_class, element_id, attr, value = piece.groups()
            if css_class:
                classes.append(css_class)
            elif element_id:
                attributes.append(("attr_id", element_id))
            else:
                attributes.append((attr, value))
        pattern = "(^|;)" + head
        # Classes are stored sorted, so required classes appear in sorted order among others.
        for css_class in sorted(classes):
            pattern += r'(\.[^.:;"]+)*\.' + _pg_escape(css_class)
        pattern += r'(\.[^.:;"]+)*(:|;|$)'
        for name, value in attributes:
            pattern += f'(?=[^;]*{_pg_escape(name)}="{_pg_escape(value)}")'
        element_patterns.append(pattern)
    # The chain starts at the clicked element (the selector's last part) and walks up.
    return ".*".join(reversed(element_patterns))


def element_condition(filter_: PropertyFilter) -> ColumnElement[bool]:
    key, operator, value = filter_.key, filter_.operator, filter_.value
    values = [str(v) for v in value] if isinstance(value, tuple) else [str(value)]
    negative = operator in ("is_not", "not_in", "not_icontains", "not_regex", "is_not_set")
    chain = EVENTS.c.elements_chain
    condition: ColumnElement[bool]
    if key in ("tag_name", "selector"):
        patterns = [tag_regex(v) if key == "tag_name" else selector_regex(v) for v in values]
        condition = or_(*(chain.bool_op("~")(literal(p, String)) for p in patterns))
    elif operator in ("is_set", "is_not_set"):
        condition = _attribute_values(key, lambda found: found.is_not(None))
    elif operator in ("exact", "is_not", "in", "not_in"):
        condition = _attribute_values(key, lambda found: found == any_(literal(values, ARRAY(Text))))
    elif operator in ("icontains", "not_icontains"):
        needle = values[0].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        condition = _attribute_values(
            key, lambda found: found.ilike(literal(f"%{needle}%", String), escape="\\")
        )
    else:
        condition = _attribute_values(key, lambda found: found.bool_op("~")(literal(values[0], String)))
    return not_(condition) if negative else condition
