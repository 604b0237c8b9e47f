"""PostHog's `elements_chain` string format: serialization from `$elements` and parsing back.

Format (order 0 = the clicked element first, joined with `;`):
`tag.classA.classB:attr__x="1"href="/a"nth-child="2"nth-of-type="1"text="Go"` — classes sorted,
attributes sorted by key and concatenated without separators, `"` escaped as `\\"`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

# A whole element: runs of characters that are not `;` or quotes, or complete quoted strings.
_ELEMENT_SPLIT = re.compile(r'(?:[^\s;"]|"(?:[^"\\]|\\.)*")+')
# `tag.classes` then `:` then attributes; classes may contain `:`, so split before the first `key=`.
_ELEMENT_PARTS = re.compile(r"^(.*?)(:([a-zA-Z0-9_-]+=.*))?$", re.DOTALL)
_ATTRIBUTE = re.compile(r'(?P<key>[a-zA-Z0-9_\-]+)="(?P<value>(?:[^"\\]|\\.)*)"')


@dataclass(slots=True)
class Element:
    text: str | None = None
    tag_name: str | None = None
    attr_class: list[str] | None = None
    href: str | None = None
    attr_id: str | None = None
    nth_child: int | None = None
    nth_of_type: int | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    order: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _escape(value: object) -> str:
    return str(value).replace('"', '\\"')


def _unescape(value: str) -> str:
    return value.replace('\\"', '"')


def element_to_string(element: Element) -> str:
    head = element.tag_name or ""
    for css_class in sorted(element.attr_class or []):
        head += "." + css_class.replace('"', "")
    attributes: dict[str, object] = {}
    if element.text:
        attributes["text"] = element.text
    attributes["nth-child"] = element.nth_child or 0
    attributes["nth-of-type"] = element.nth_of_type or 0
    if element.href:
        attributes["href"] = element.href
    if element.attr_id:
        attributes["attr_id"] = element.attr_id
    attributes.update(element.attributes)
    rendered = "".join(f'{_escape(key)}="{_escape(value)}"' for key, value in sorted(attributes.items()))
    return f"{head}:{rendered}"


def elements_to_chain(elements: list[Element]) -> str:
    return ";".join(element_to_string(element) for element in elements)


def _classes(raw: object) -> list[str] | None:
    if isinstance(raw, str):
        raw = raw.split()
    if isinstance(raw, list):
        classes = [str(item) for item in raw if str(item)]
        return classes or None
    return None


def _int_or_none(raw: object) -> int | None:
    try:
        return int(raw)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return None


def element_from_sdk(raw: dict[str, Any]) -> Element:
    """One entry of an autocapture event's `$elements`, as posthog-js sends it."""
    attributes = {str(k): str(v) for k, v in raw.items() if str(k).startswith("attr__") and v is not None}
    text = raw.get("$el_text", raw.get("text"))
    return Element(
        text=str(text)[:400] if text not in (None, "") else None,
        tag_name=str(raw["tag_name"]) if raw.get("tag_name") else None,
        attr_class=_classes(raw.get("attr_class", raw.get("classes"))),
        href=str(raw.get("attr__href") or raw.get("href") or "")[:2048] or None,
        attr_id=str(raw.get("attr__id") or raw.get("attr_id") or "") or None,
        nth_child=_int_or_none(raw.get("nth_child")),
        nth_of_type=_int_or_none(raw.get("nth_of_type")),
        attributes=attributes,
    )


def chain_from_sdk_elements(raw_elements: object) -> str:
    """`$elements` (a list of dicts) → `elements_chain`; anything malformed is skipped, not fatal."""
    if not isinstance(raw_elements, list):
        return ""
    return elements_to_chain([element_from_sdk(raw) for raw in raw_elements if isinstance(raw, dict)])


def parse_element(text: str, order: int) -> Element:
    match = _ELEMENT_PARTS.match(text)
    head, attributes_text = (match.group(1), match.group(3) or "") if match else (text, "")
    tag, *classes = head.split(".")
    element = Element(tag_name=tag or None, attr_class=[c for c in classes if c] or None, order=order)
    for attribute in _ATTRIBUTE.finditer(attributes_text):
        key, value = attribute.group("key"), _unescape(attribute.group("value"))
        if key == "href":
            element.href = value
        elif key == "nth-child":
            element.nth_child = _int_or_none(value)
        elif key == "nth-of-type":
            element.nth_of_type = _int_or_none(value)
        elif key == "text":
            element.text = value
        elif key == "attr_id":
            element.attr_id = value
        else:
            element.attributes[key] = value
    return element


def parse_chain(chain: str) -> list[Element]:
    return [
        parse_element(match.group(0), order) for order, match in enumerate(_ELEMENT_SPLIT.finditer(chain))
    ]
