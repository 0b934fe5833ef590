"""A page pasted as plain text (no Markdown, no metadata), indexed beside the shipped knowledge, is
answered as a Markdown page would be: a question on a lead-in gets its bullets, titles are not quoted."""

from __future__ import annotations

import shutil

import pytest

from bot.answering.answerer import Answerer
from bot.config import load_settings
from bot.wiring import build_answerer
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.index.build import build_index
from tests.conftest import KNOWLEDGE, ROOT

pytestmark = pytest.mark.slow

# As copied from a web page: a title line, bullets wrapped where the window was narrow, no blank line
# between a heading and its text.
PASTED = """\
Advanced Manufacturing National Program Office

The Advanced Manufacturing National Program Office (AMNPO) is an interagency team hosted by the National \
Institute of Standards and Technology (NIST) in the U.S. Department of Commerce. It was established in 2012 \
to coordinate federal advanced manufacturing programs.

The AMNPO has two primary missions:
• to convene and enable industry-led, private-public partnerships focused on
manufacturing innovation and engaging U.S. universities
• to design and implement an integrated whole-of-government advanced manufacturing
initiative to facilitate collaboration and information sharing across federal agencies

Manufacturing USA
The AMNPO also serves as the program office for Manufacturing USA, the national network of manufacturing \
innovation institutes.
"""
MISSIONS = [
    "to convene and enable industry-led, private-public partnerships focused on manufacturing innovation and "
    "engaging U.S. universities",
    "to design and implement an integrated whole-of-government advanced manufacturing initiative to facilitate "
    "collaboration and information sharing across federal agencies",
]


@pytest.fixture(scope="module")
def pasted_answerer(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Answerer:
    base = tmp_path_factory.mktemp("pasted")
    knowledge = base / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    (knowledge / "united-states" / "amnpo.txt").write_text(PASTED, encoding="utf-8")
    settings = load_settings(ROOT / "config.yaml").model_copy(
        update={"knowledge_dir": knowledge, "index_dir": base / "index"}
    )
    assert build_index(knowledge, settings.index_dir, embedder, settings.splitter).problems == []
    return build_answerer(settings, embedder=embedder)


def test_a_question_on_a_lead_in_quotes_its_bullets(pasted_answerer: Answerer) -> None:
    answer = pasted_answerer.ask("What are the AMNPO's two primary missions?")
    assert not answer.abstained, answer.reason
    assert [q.text for q in answer.quotes] == ["The AMNPO has two primary missions:", *MISSIONS]
    assert [q.list_item for q in answer.quotes] == [False, True, True]
    assert all(c.passage.doc == "united-states/amnpo.txt" for c in answer.citations)


@pytest.mark.parametrize(
    ("question", "first_quote"),
    [
        ("What is the Advanced Manufacturing National Program Office?", "The Advanced Manufacturing National Program"),
        ("What does the AMNPO do for Manufacturing USA?", "The AMNPO also serves as the program office"),
    ],
)
def test_title_lines_of_a_pasted_page_are_not_quoted(
    pasted_answerer: Answerer, question: str, first_quote: str
) -> None:
    answer = pasted_answerer.ask(question)
    assert not answer.abstained, answer.reason
    assert answer.quotes[0].text.startswith(first_quote)
    for title in ("Advanced Manufacturing National Program Office", "Manufacturing USA"):
        assert not any(q.text.startswith(title) for q in answer.quotes), title
    assert answer.citations[0].passage.title == "Advanced Manufacturing National Program Office"
