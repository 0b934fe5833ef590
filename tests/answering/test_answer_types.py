"""What a question asks for, and whether a sentence holds it."""

from __future__ import annotations

import pytest

from bot.answering.answer_types import AnswerType, classify, holds


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many recommendations did the steering committee make?", AnswerType.NUMBER),
        ("How much money did the 2012 plan allocate to advanced manufacturing?", AnswerType.MONEY),
        ("What percentage of GDP comes from manufacturing?", AnswerType.PERCENT),
        ("When was the National Network for Manufacturing Innovation proposed?", AnswerType.DATE),
        ("In what year did the Normans conquer England?", AnswerType.DATE),
        ("How long did the reign of Rollo last?", AnswerType.DURATION),
        ("Who commissioned the PCAST reports?", AnswerType.PERSON),
        ("Which agency runs the Catapult network?", AnswerType.ORGANISATION),
        ("Where was the term Industrie 4.0 first presented?", AnswerType.PLACE),
        ("Why does the American government back advanced manufacturing?", AnswerType.REASON),
        ("Does the PCAST report call for an industrial policy?", AnswerType.YES_NO),
        ("What pillars do the AMP recommendations rest on?", AnswerType.OTHER),
    ],
)
def test_questions_are_classified_by_what_they_ask_for(question: str, kind: AnswerType) -> None:
    assert classify(question) is kind


@pytest.mark.parametrize(
    ("kind", "sentence", "expected"),
    [
        (AnswerType.NUMBER, "The committee made sixteen recommendations.", True),
        (AnswerType.NUMBER, "The committee made recommendations.", False),
        (AnswerType.MONEY, "The plan allocated $1 billion to the institutes.", True),
        (AnswerType.MONEY, "The plan supported the institutes.", False),
        (AnswerType.PERCENT, "Manufacturing is 11% of output.", True),
        (AnswerType.DATE, "The strategy was first adopted in 2006.", True),
        (AnswerType.DATE, "The strategy was adopted by the government.", False),
        (AnswerType.DURATION, "The programme ran for five years.", True),
    ],
)
def test_a_sentence_holds_the_kind_asked_for_only_when_it_is_there(
    kind: AnswerType, sentence: str, expected: bool
) -> None:
    assert holds(kind, sentence, "question") is expected


def test_a_name_the_question_already_holds_is_not_an_answer_to_who() -> None:
    question = "Who commissioned the PCAST reports?"
    assert not holds(AnswerType.PERSON, "The PCAST reports were commissioned.", question)
    assert holds(AnswerType.PERSON, "President Obama commissioned the PCAST reports.", question)
