"""Tag normalization and bulk actions shared by every taggable."""

from __future__ import annotations

import pytest

from app.errors import ValidationError
from app.services.tags import apply_tag_action, normalize_tags, validate_bulk_request


class TestNormalize:
    def test_strips_lowercases_dedupes_and_sorts(self) -> None:
        assert normalize_tags([" Beta", "alpha", "BETA ", "", "   "]) == ["alpha", "beta"]

    def test_rejects_non_strings_naming_the_item(self) -> None:
        with pytest.raises(ValidationError) as caught:
            normalize_tags(["ok", 3])
        assert caught.value.attr == "tags__1"

    def test_rejects_over_long_tags(self) -> None:
        with pytest.raises(ValidationError) as caught:
            normalize_tags(["x" * 256])
        assert caught.value.code == "max_length"


class TestActions:
    @pytest.mark.parametrize(
        ("action", "expected"),
        [("add", ["a", "b", "c"]), ("remove", ["a"]), ("set", ["b", "c"])],
    )
    def test_actions(self, action: str, expected: list[str]) -> None:
        assert apply_tag_action(["a", "b"], action, ["b", "c"]) == expected  # type: ignore[arg-type]

    def test_add_and_remove_need_tags(self) -> None:
        with pytest.raises(ValidationError):
            validate_bulk_request([1], "add", [])
        validate_bulk_request([1], "set", [])

    def test_ids_bounds(self) -> None:
        with pytest.raises(ValidationError):
            validate_bulk_request([], "set", [])
        with pytest.raises(ValidationError):
            validate_bulk_request(list(range(501)), "set", [])
