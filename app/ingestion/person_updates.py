"""Folding a batch's `$set` / `$set_once` / `$unset` per person into one update (pure).

A batch may touch a person many times; applying the events one by one would cost a row update each.
Instead the events are folded, in order, into two maps that one statement applies to the stored
properties: `(once || stored) || assigned`, minus the removed keys. `once` holds `$set_once` values for
keys the batch has not decided itself (they only land where the stored person lacks the key);
`assigned` holds the batch's final decision for every key it `$set` or `$unset`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REMOVED = object()


@dataclass(slots=True)
class PersonUpdate:
    once: dict[str, Any] = field(default_factory=dict)
    assigned: dict[str, Any] = field(default_factory=dict)
    identified: bool = False

    def apply(self, set_: dict[str, Any], set_once: dict[str, Any], unset: list[str]) -> None:
        """One event's updates, in PostHog's order: `$set_once`, then `$set`, then `$unset`."""
        for key, value in set_once.items():
            if key in self.assigned:
                if self.assigned[key] is REMOVED:
                    self.assigned[key] = value
            else:
                self.once.setdefault(key, value)
        self.assigned.update(set_)
        for key in unset:
            self.assigned[key] = REMOVED

    @property
    def empty(self) -> bool:
        return not (self.once or self.assigned or self.identified)

    def set_values(self) -> dict[str, Any]:
        return {k: v for k, v in self.assigned.items() if v is not REMOVED}

    def removed_keys(self) -> list[str]:
        return [k for k, v in self.assigned.items() if v is REMOVED]

    def applied_to(self, stored: dict[str, Any]) -> dict[str, Any]:
        """The same result the SQL statement computes, for properties already in hand."""
        result = {**self.once, **stored, **self.set_values()}
        for key in self.removed_keys():
            result.pop(key, None)
        return result
