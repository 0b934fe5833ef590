"""Whether passages mention a country, year or name in any form (what the guards read)."""

from __future__ import annotations

import pytest

from bot.answering.mentions import in_vocabulary, unmentioned

UK_PAGE = "Manufacturing added about 139 billion pounds to UK GDP in 2012, a tenth of the total."
POLICY = "The Germans fund Fraunhofer institutes; Germany's chancellor Bismarck founded the welfare state."


@pytest.mark.parametrize("country", ["United Kingdom", "UK", "Britain", "British", "Great Britain", "the U.K."])
def test_a_country_is_mentioned_by_any_of_its_names(country: str) -> None:
    assert unmentioned([country], [UK_PAGE]) == []


@pytest.mark.parametrize(
    ("asked", "text"),
    [
        ("France", "The French government set up an investment bank."),
        ("French", "Industry in France employs three million people."),
        ("Germany", "The Germans fund applied research."),
        ("German", "Germany's federal government adopted a strategy."),
        ("Poland", "Warsaw is the capital of the Polish state."),
        ("United States", "The U.S. Congress passed the act."),
    ],
)
def test_demonyms_plurals_and_possessives_mention_the_country(asked: str, text: str) -> None:
    assert unmentioned([asked], [text]) == []


def test_a_country_no_text_names_is_unmentioned() -> None:
    assert unmentioned(["Japan", "France", "Japanese"], [UK_PAGE, POLICY]) == ["Japan", "France", "Japanese"]


def test_a_name_one_letter_off_is_mentioned() -> None:
    assert unmentioned(["Bismark", "Bismarcks", "Fraunhoffer"], [POLICY]) == []


def test_other_names_are_not_mentioned() -> None:
    assert unmentioned(["Bismuth", "Merkel", "Fraun"], [POLICY]) == ["Bismuth", "Merkel", "Fraun"]


def test_a_name_is_mentioned_only_when_all_its_words_are() -> None:
    assert unmentioned(["Fraunhofer Institutes", "Fraunhofer Society"], [POLICY]) == ["Fraunhofer Society"]


def test_a_well_known_acronym_is_mentioned_by_its_expansion_and_back() -> None:
    expanded = "Manufacturing added a tenth of Gross Domestic Product."
    assert unmentioned(["GDP"], [expanded]) == []
    assert unmentioned(["Gross Domestic Product"], [UK_PAGE]) == []
    assert unmentioned(["GNP"], [UK_PAGE]) == ["GNP"]


def test_an_acronym_the_documents_define_is_mentioned_by_its_long_form() -> None:
    acronyms = {"AMP": "Advanced Manufacturing Partnership"}
    text = "The Advanced Manufacturing Partnership steering committee made sixteen recommendations."
    assert unmentioned(["AMP"], [text], acronyms) == []
    assert unmentioned(["AMP"], [text]) == ["AMP"]


def test_a_year_is_mentioned_only_as_written() -> None:
    texts = [UK_PAGE, "The plan ran over 2013–2015."]
    assert unmentioned(["2012", "2013", "2015", "2014"], texts) == ["2014"]
    assert unmentioned(["2012"], ["a price of 1,2012 pounds, or 2012.5"]) == ["2012"]


def test_the_vocabulary_check_takes_plurals_and_close_spellings() -> None:
    vocabulary = frozenset({"catapult", "bismarck", "science", "act"})
    assert in_vocabulary("Catapults", vocabulary)
    assert in_vocabulary("Bismark", vocabulary)
    assert not in_vocabulary("CHIPS", vocabulary)
    assert not in_vocabulary("Science Acts Board", vocabulary)


def test_names_match_without_their_accents() -> None:
    assert unmentioned(["Schrodinger", "Herve", "Kucukdeveci"], ["Schrödinger and Hervé met Ms Küçükdeveci."]) == []
