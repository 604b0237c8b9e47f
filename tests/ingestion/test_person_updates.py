"""Folding `$set` / `$set_once` / `$unset` equals applying the events one by one (pure)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.ingestion.person_updates import PersonUpdate

KEYS = st.sampled_from(["a", "b", "c"])
VALUES = st.one_of(st.integers(0, 3), st.none(), st.text(max_size=2))
UPDATES = st.tuples(
    st.dictionaries(KEYS, VALUES, max_size=2),
    st.dictionaries(KEYS, VALUES, max_size=2),
    st.lists(KEYS, max_size=2),
)


def one_by_one(
    stored: dict[str, Any], events: list[tuple[dict[str, Any], dict[str, Any], list[str]]]
) -> dict[str, Any]:
    """PostHog's order within one event: `$set_once` where missing, then `$set`, then `$unset`."""
    person = dict(stored)
    for set_, set_once, unset in events:
        for key, value in set_once.items():
            person.setdefault(key, value)
        person.update(set_)
        for key in unset:
            person.pop(key, None)
    return person


@given(st.dictionaries(KEYS, VALUES, max_size=3), st.lists(UPDATES, max_size=6))
def test_fold_matches_sequential_application(stored: dict[str, Any], events: list[Any]) -> None:
    update = PersonUpdate()
    for set_, set_once, unset in events:
        update.apply(set_, set_once, unset)
    assert update.applied_to(stored) == one_by_one(stored, events)


def test_set_once_after_unset_sets_and_unset_after_set_once_removes() -> None:
    update = PersonUpdate()
    update.apply({}, {}, ["a"])
    update.apply({}, {"a": 1, "b": 2}, [])
    update.apply({}, {}, ["b"])
    assert update.applied_to({"a": 0, "b": 0}) == {"a": 1}
