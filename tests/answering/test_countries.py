"""Countries asked for by name, adjective or ISO code find the knowledge base's name for them."""

from __future__ import annotations

import pytest

from bot.answering.countries import countries_named, match_country, split_scope

KNOWN = {"Germany", "United Kingdom", "United States"}


@pytest.mark.parametrize(
    ("asked", "found"),
    [
        ("germany", "Germany"),
        ("German", "Germany"),
        ("DE", "Germany"),
        ("the UK", "United Kingdom"),
        ("USA", "United States"),
    ],
)
def test_a_country_asked_for_in_any_form_finds_its_documents(asked: str, found: str) -> None:
    assert match_country(asked, KNOWN) == found


def test_a_country_the_knowledge_base_lacks_is_not_matched_to_another() -> None:
    assert match_country("Japan", KNOWN) is None


def test_a_bracketed_prefix_is_the_scope_and_the_rest_the_question() -> None:
    assert split_scope("  [United Kingdom]  What is a Catapult?") == ("United Kingdom", "What is a Catapult?")
    assert split_scope("What is [x]?") == (None, "What is [x]?")


def test_possessives_and_adjectives_name_the_country() -> None:
    assert countries_named("Britain's plan and the American one") == {"GB", "US"}


def test_plural_demonyms_and_a_capital_us_name_the_country() -> None:
    assert countries_named("The Germans and the Poles met the French") == {"DE", "FR"}
    assert countries_named("How many US presidents studied there?") == {"US"}
    assert countries_named("Tell us about it") == set()
