"""The `elements_chain` format: PostHog's documented example, SDK input, escaping and round trips."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.elements_chain import Element, chain_from_sdk_elements, elements_to_chain, parse_chain

DOC_EXAMPLE = (
    'a.btn.primary:attr__class="btn primary"attr__href="/signup"href="/signup"nth-child="2"nth-of-type="1"'
    'text="Sign up";div.container:nth-child="1"nth-of-type="1"'
)


class TestSerialize:
    def test_matches_posthog_example(self) -> None:
        elements = [
            Element(
                tag_name="a",
                attr_class=["primary", "btn"],
                href="/signup",
                text="Sign up",
                nth_child=2,
                nth_of_type=1,
                attributes={"attr__class": "btn primary", "attr__href": "/signup"},
            ),
            Element(tag_name="div", attr_class=["container"], nth_child=1, nth_of_type=1),
        ]
        assert elements_to_chain(elements) == DOC_EXAMPLE

    def test_tag_only(self) -> None:
        assert elements_to_chain([Element(tag_name="span")]) == 'span:nth-child="0"nth-of-type="0"'

    def test_from_sdk_elements(self) -> None:
        raw = [
            {
                "tag_name": "button",
                "$el_text": "Buy",
                "classes": ["cta"],
                "attr__class": "cta",
                "nth_child": 3,
                "nth_of_type": 2,
                "attr__data-attr": "buy",
            },
            {"tag_name": "form", "attr__id": "checkout", "nth_child": 1, "nth_of_type": 1},
            "not an element",
        ]
        assert chain_from_sdk_elements(raw) == (
            'button.cta:attr__class="cta"attr__data-attr="buy"nth-child="3"nth-of-type="2"text="Buy";'
            'form:attr__id="checkout"attr_id="checkout"nth-child="1"nth-of-type="1"'
        )
        assert chain_from_sdk_elements("garbage") == ""


class TestParse:
    def test_parses_posthog_example(self) -> None:
        first, second = parse_chain(DOC_EXAMPLE)
        assert first.as_dict() == {
            "text": "Sign up",
            "tag_name": "a",
            "attr_class": ["btn", "primary"],
            "href": "/signup",
            "attr_id": None,
            "nth_child": 2,
            "nth_of_type": 1,
            "attributes": {"attr__class": "btn primary", "attr__href": "/signup"},
            "order": 0,
        }
        assert (second.tag_name, second.attr_class, second.order) == ("div", ["container"], 1)

    def test_round_trip_of_minimal_element_fills_defaults(self) -> None:
        (element,) = parse_chain(elements_to_chain([Element(tag_name="a", href="/x", text="go")]))
        assert element.as_dict() == {
            "text": "go",
            "tag_name": "a",
            "attr_class": None,
            "href": "/x",
            "attr_id": None,
            "nth_child": 0,
            "nth_of_type": 0,
            "attributes": {},
            "order": 0,
        }

    def test_quotes_semicolons_and_colons_inside_values(self) -> None:
        original = [Element(tag_name="p", text='say "hi"; then: leave', attributes={"attr__title": 'a;b"c'})]
        (element,) = parse_chain(elements_to_chain(original))
        assert element.text == 'say "hi"; then: leave'
        assert element.attributes == {"attr__title": 'a;b"c'}

    def test_empty_chain(self) -> None:
        assert parse_chain("") == []


_token = st.text(alphabet=st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=8)
_value = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\\"), max_size=20)


@given(
    st.lists(
        st.builds(
            Element,
            tag_name=_token,
            attr_class=st.one_of(st.none(), st.lists(_token, min_size=1, max_size=3, unique=True)),
            text=st.one_of(st.none(), _value.filter(bool)),
            href=st.one_of(st.none(), _value.filter(bool)),
            nth_child=st.integers(min_value=1, max_value=50),
            nth_of_type=st.integers(min_value=1, max_value=50),
            attributes=st.dictionaries(_token.map(lambda k: "attr__" + k), _value, max_size=3),
        ),
        max_size=5,
    )
)
def test_round_trip_property(elements: list[Element]) -> None:
    parsed = parse_chain(elements_to_chain(elements))
    assert len(parsed) == len(elements)
    for order, (before, after) in enumerate(zip(elements, parsed, strict=True)):
        assert after.order == order
        assert after.tag_name == before.tag_name
        assert after.attr_class == (sorted(before.attr_class) if before.attr_class else None)
        assert after.text == before.text
        assert after.href == before.href
        assert (after.nth_child, after.nth_of_type) == (before.nth_child, before.nth_of_type)
        assert after.attributes == before.attributes
