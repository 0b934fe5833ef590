"""Reading a follow-up in the context of its conversation: what depends on earlier turns, and how it is rewritten.
Pure rules: no model, no index (the real answerer's figures are in `policybot eval --conversations`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering.evaluation import load_eval_set
from bot.answering.followup import Turn, depends_on_context, read_in_context

PCAST_2011 = Turn(
    "What did the 2011 PCAST report recommend?",
    "What did the 2011 PCAST report recommend?",
    ("The reports key recommendations are the establishment of an Advanced Manufacturing Initiative.",),
    ("Ensuring American Leadership in Advanced Manufacturing (PCAST, 2011)",),
)
HTS = Turn(
    "What is Germany's High-Tech Strategy?",
    "What is Germany's High-Tech Strategy?",
    ("The High-Tech Strategy, first adopted by the federal government in 2006, is Germany's overarching strategy.",),
    ("The High-Tech Strategy (Hightech-Strategie)",),
)
MINISTRY = Turn(
    "Which ministry leads manufacturing policy in China?",
    "Which ministry leads manufacturing policy in China?",
    ("The Ministry of Industry and Information Technology (MIIT) leads the implementation of policy.",),
    ("Overview",),
)
CATAPULTS = Turn(
    "How are Catapult centres funded?",
    "How are Catapult centres funded?",
    ("Catapult centres are technology and innovation centres. Catapults are funded from three sources:",),
    ("The Catapult network",),
)
PLAN_SKILLS = Turn(
    "What does the national strategic plan say about the skills gap?",
    "What does the national strategic plan say about the skills gap?",
    ("Expand the number of workers who have the skills needed by a growing advanced manufacturing sector.",),
    ("2012 National Strategic Plan for Advanced Manufacturing",),
)
ROOT = Path(__file__).resolve().parents[2]
OFF_TOPIC = Turn("How do I reset my Slack password?", "How do I reset my Slack password?", abstained=True)


@pytest.mark.parametrize(
    "message",
    [
        "How do I bake sourdough bread?",
        "What is PCAST?",
        "Which ministry leads the implementation of manufacturing policy in China?",
        "What is the High Value Manufacturing Catapult and which centres does it bring together?",
        "And Industrie 4.0, where was it first presented?",
        "thanks! and what's the weather in Boston tomorrow?",
        "Which report argues that an innovation policy is needed?",
        "What is the national strategic plan and what does it recommend?",
        "So, what is Industrie 4.0?",
        "Which report argues for an innovation policy instead of an industrial policy?",
    ],
)
def test_a_question_that_stands_alone_is_searched_as_it_is(message: str) -> None:
    reading = read_in_context(message, [PCAST_2011, CATAPULTS])
    assert reading.question == message
    assert not reading.in_context


@pytest.mark.parametrize(
    "message",
    [
        "And the 2012 one?",
        "Who commissioned them?",
        "When was it first adopted?",
        "What about energy?",
        "no, I meant Germany",
        "Which one is about workers?",
        "Is there a security argument too?",
        "Does that plan aim to raise private investment?",
        "What do the centres do?",
    ],
)
def test_a_follow_up_is_known_to_depend_on_earlier_turns(message: str) -> None:
    assert depends_on_context(message, [CATAPULTS]) != ""


def test_the_first_question_of_a_conversation_is_never_rewritten() -> None:
    assert read_in_context("And the 2012 one?", []).question == "And the 2012 one?"


def test_another_year_is_asked_in_the_earlier_question() -> None:
    reading = read_in_context("And the 2012 one?", [PCAST_2011])
    assert reading.question == "What did the 2012 PCAST report recommend?"
    assert reading.in_context and reading.why


def test_a_country_correction_asks_the_same_question_of_that_countrys_documents() -> None:
    assert read_in_context("no, I meant Germany", [MINISTRY]).question == (
        "[Germany] Which ministry leads manufacturing policy in Germany?"
    )


def test_a_country_of_its_own_asks_the_last_question_of_that_country() -> None:
    assert read_in_context("And in Germany?", [PLAN_SKILLS]).question.startswith("[Germany] What does the national")


def test_what_about_replaces_the_object_of_about() -> None:
    assert read_in_context("What about education?", [PLAN_SKILLS]).question == (
        "What does the national strategic plan say about education?"
    )


def test_a_pronoun_is_replaced_by_the_topic_of_the_last_turn() -> None:
    assert read_in_context("When was it first adopted?", [HTS]).question.startswith(
        "When was High-Tech Strategy first adopted"
    )
    assert "the budget of High-Tech Strategy" in read_in_context("How big is its budget?", [HTS]).question


def test_a_name_is_taken_with_the_word_the_cited_passage_holds_beside_it() -> None:
    assert read_in_context("When were they set up?", [CATAPULTS]).question.startswith("When were Catapult centres")


def test_a_new_name_replaces_the_old_topic_and_keeps_the_question() -> None:
    reading = read_in_context("What about Fraunhofer institutes?", [CATAPULTS])
    assert "Catapult" not in reading.question
    assert "Fraunhofer" in reading.question and "funded" in reading.question


def test_an_unanswered_aside_keeps_the_topic_of_the_turns_before_it() -> None:
    reading = read_in_context("What about its recommendations on tax?", [PCAST_2011, OFF_TOPIC])
    assert "PCAST" in reading.question and "Slack" not in reading.question


def test_a_new_topic_ends_the_old_one() -> None:
    asked = "What is Industrie 4.0?"
    new_topic = Turn(asked, asked, ("Industrie 4.0 describes ...",), ("Industrie 4.0",))
    reading = read_in_context("Who takes part in it?", [PCAST_2011, new_topic])
    assert "Industrie 4.0" in reading.question and "PCAST" not in reading.question


def test_no_question_of_the_evaluation_sets_is_read_as_a_follow_up() -> None:
    """Every question of eval.yaml, eval_extra.yaml and eval_new_user.yaml was written to stand alone:
    asked mid-conversation, each must be searched exactly as asked."""
    questions = [
        case.question
        for name in ("eval.yaml", "eval_extra.yaml", "eval_new_user.yaml")
        for case in load_eval_set(ROOT / "tests" / "data" / name)
    ]
    assert len(questions) > 90
    read = {q: read_in_context(q, [HTS, PCAST_2011]).question for q in questions}
    assert {q: r for q, r in read.items() if r != q} == {}


def test_the_platform_is_read_as_the_one_name_of_the_last_answer_that_holds_its_noun() -> None:
    presented = Turn(
        "Where was the term Industrie 4.0 first presented?",
        "Where was the term Industrie 4.0 first presented?",
        ("The term was presented at the Hannover Messe. The Plattform Industrie 4.0 brings together trade unions.",),
        ("Industrie 4.0",),
    )
    assert read_in_context("Who takes part in the platform?", [presented]).question == (
        "Who takes part in the Plattform Industrie 4.0?"
    )


def test_a_description_two_names_fit_is_left_as_it_is() -> None:
    centres = Turn(
        "Which centres does the High Value Manufacturing Catapult bring together?",
        "Which centres does the High Value Manufacturing Catapult bring together?",
        ("It brings together the Advanced Forming Research Centre and the Manufacturing Technology Centre.",),
        ("High Value Manufacturing Catapult",),
    )
    assert "the centre " in read_in_context("What does the centre do?", [centres]).question


def test_they_stands_for_the_topic_with_the_noun_it_came_with() -> None:
    assert read_in_context("Who commissioned them?", [PCAST_2011]).question.startswith("Who commissioned PCAST reports")


def test_another_country_is_asked_what_the_last_message_asked_not_what_it_took_from_the_old_one() -> None:
    education = Turn(
        "What about education?",
        "What does the national strategic plan say about education?",
        ("Make the education and training system more responsive to the demand for skills.",),
        ("2012 National Strategic Plan for Advanced Manufacturing",),
    )
    assert read_in_context("And in Germany?", [PLAN_SKILLS, education]).question == "[Germany] What about education?"


def test_a_correction_is_asked_again_of_the_next_country_as_it_was_read() -> None:
    germany = Turn("no, I meant Germany", "[Germany] Which ministry leads manufacturing policy in Germany?", ("BMBF",))
    assert read_in_context("What about Japan?", [MINISTRY, germany]).question == (
        "[Japan] Which ministry leads manufacturing policy in Japan?"
    )
