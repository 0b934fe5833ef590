"""Property-based, real model and index: any question gets a verbatim, cited answer or a QuestionError."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.answering.answer import Answer
from bot.answering.answerer import Answerer
from bot.errors import QuestionError
from tests.strategies import MARKDOWN_BITS, nested_markdown

short_text = st.text(st.characters(codec="utf-8"), max_size=120)  # long questions only cost model time
questions = st.one_of(
    short_text,
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "So"]), max_size=120),
    st.lists(st.one_of(MARKDOWN_BITS, short_text), max_size=4).map("".join),
    st.tuples(st.sampled_from(["What is ", "List all ", "Which year ", "Who is "]), short_text).map("".join),
)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=questions)
@example(question="")
@example(question="\x00\x01\x02")
@example(question="\u200b\u200d\ufeff")
@example(question="x" * 1_000_000)
@example(question=" " * 1_000_000 + "What pillars do the AMP recommendations rest on?")
@example(question=nested_markdown(500))
@example(question="---\ntitle: [unclosed\n---\nWhat pillars?")
@example(question="<!channel> <@U123> <https://evil|click> What pillars do the AMP recommendations rest on?")
@example(question="🏭" * 300)
def test_any_question_gets_an_answer_or_a_question_error(answerer: Answerer, question: str) -> None:
    try:
        answer = answerer.ask(question)
    except QuestionError as exc:
        assert str(exc) and len(str(exc)) < 300, "a short hint, not the question echoed back"
        return
    assert isinstance(answer, Answer)
    assert answer.abstained or answer.quotes
    for quote in answer.quotes:  # verbatim: every quote is a slice of the passage it cites (or its heading)
        cited = answer.citations[quote.citation - 1].passage
        assert quote.text in (cited.section if quote.heading else cited.text)
