"""Questions about the extra documents (an HTML page, a Markdown page, a generated PDF), indexed with the
shipped knowledge, are answered from the right document with the right section or page cited."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.answering.answerer import Answerer
from bot.answering.evaluation import evaluate, load_eval_set
from bot.config import Settings, load_settings
from bot.render.terminal import render_text
from bot.wiring import build_answerer
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.index.build import build_index
from tests.pdf_fixtures import write_china_pdf

ROOT = Path(__file__).resolve().parents[2]
EXTRA = ROOT / "tests" / "data" / "knowledge_extra"


def build_extra_knowledge(folder: Path) -> Path:
    """knowledge/ plus the extra test documents and the generated China PDF, in `folder`."""
    shutil.copytree(ROOT / "knowledge", folder)
    for country in ("germany", "united-kingdom"):
        shutil.copytree(EXTRA / country, folder / country)
    write_china_pdf(folder / "china")
    return folder


@pytest.fixture(scope="module")
def extra_settings(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Settings:
    base = tmp_path_factory.mktemp("extra")
    settings = load_settings(ROOT / "config.yaml").model_copy(
        update={"knowledge_dir": build_extra_knowledge(base / "knowledge"), "index_dir": base / "index"}
    )
    report = build_index(settings.knowledge_dir, settings.index_dir, embedder, settings.splitter)
    assert report.problems == []
    return settings


@pytest.fixture(scope="module")
def extra_answerer(extra_settings: Settings, embedder: SentenceTransformerEmbedder) -> Answerer:
    return build_answerer(extra_settings, embedder=embedder)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "doc", "section", "page"),
    [
        (
            "Where was the term Industrie 4.0 first presented?",
            "germany/key-policies.html",
            "National Policy > Industrie 4.0",
            None,
        ),
        ("How are Catapult centres funded?", "united-kingdom/institutions.md", "The Catapult network", None),
        (
            "Which research centres make up the High Value Manufacturing Catapult?",
            "united-kingdom/institutions.md",
            "The Catapult network > High Value Manufacturing Catapult",
            None,
        ),
        ("What are the ten priority sectors of Made in China 2025?", "china/key-policies.pdf", "Made in China 2025", 2),
        ("What does the Internet Plus action plan aim to do?", "china/key-policies.pdf", "Internet Plus", 3),
    ],
)
def test_answers_cite_the_right_document_section_and_page(
    extra_answerer: Answerer, question: str, doc: str, section: str, page: int | None
) -> None:
    answer = extra_answerer.ask(question)
    assert not answer.abstained, answer.reason
    first = answer.citations[0].passage
    assert (first.doc, first.section_label, first.metadata.get("page")) == (doc, section, page)
    shown = render_text(answer)
    assert f"— {section}" + (f", p. {page}" if page else "") in shown


@pytest.mark.slow
def test_pdf_citation_shows_page_publisher_and_date(extra_answerer: Answerer) -> None:
    shown = render_text(extra_answerer.ask("When was Made in China 2025 issued?"))
    assert "Key Policies: China — Made in China 2025, p. 2\n    china/key-policies.pdf\n" in shown
    assert "    PolicyBot test fixtures; 2026-11-26" in shown


@pytest.mark.slow
def test_extra_evaluation_set_is_answered_from_the_right_documents(extra_answerer: Answerer) -> None:
    report = evaluate(extra_answerer, load_eval_set(ROOT / "tests" / "data" / "eval_extra.yaml"))
    assert report.hit_at_1() >= 0.85
    assert report.answer_hit() >= 0.9  # the quotes hold the answer, not only the cited passage
    assert report.recall_at(5) == 1.0
    *_, answerable_abstained, unanswerable_answered = report.abstention()
    assert (answerable_abstained, unanswerable_answered) == (0, 0)


@pytest.mark.slow
def test_a_new_users_questions_mostly_find_their_passage_and_off_topic_ones_are_declined(
    extra_answerer: Answerer,
) -> None:
    # held-out questions: floors a little under the first run (hit@1 0.778, recall@5 0.944, one answerable
    # question declined); most of its near-misses are answered today, so none is asserted to abstain
    report = evaluate(extra_answerer, load_eval_set(ROOT / "tests" / "data" / "eval_new_user.yaml"))
    missed = [r.case.question for r in report.answerable if not r.hit]
    assert report.hit_at_1() >= 0.7, missed
    assert report.recall_at(5) >= 0.85, missed
    assert sum(r.answer.abstained for r in report.answerable) <= 2, missed
    off_topic = [r for r in report.unanswerable if r.case.kind == "off-topic"]
    assert off_topic and all(r.answer.abstained for r in off_topic)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "referent", "answer"),
    [
        ("What was Innovate UK called before 2014?", "Innovate UK is", "It was known as the Technology Strategy Board"),
        ("What does the Internet Plus action plan aim to do?", "The Internet Plus action plan", "It aims to integrate"),
        ("Where was the term Industrie 4.0 first presented?", "Industrie 4.0 describes", "The term was presented"),
    ],
)
def test_a_quote_opening_with_a_pronoun_comes_with_the_sentence_it_refers_to(
    extra_answerer: Answerer, question: str, referent: str, answer: str
) -> None:
    quotes = extra_answerer.ask(question).quotes
    texts = [q.text for q in quotes]
    at = next(i for i, text in enumerate(texts) if text.startswith(answer))
    ref = next(i for i, text in enumerate(texts) if text.startswith(referent))
    # quoted only to be read by, the referent follows the answer as context; quoted as an answer
    # in its own right, it keeps its place before the sentence that leans on it
    assert (ref > at and quotes[ref].context) or (ref == at - 1 and not quotes[ref].context), texts


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "items"),
    [
        ("How are Catapult centres funded?", ["a core grant from Innovate UK", "contracts with businesses"]),
        ("What themes does the Plattform Industrie 4.0 work on?", ["Security of networked", "Legal frameworks"]),
        # the lead-in ("It brings together seven research centres:") continues the best sentence
        ("Which research centres make up the High Value Manufacturing Catapult?", ["(AFRC)", "WMG"]),
    ],
)
def test_a_quoted_sentence_introducing_a_list_comes_with_the_items(
    extra_answerer: Answerer, question: str, items: list[str]
) -> None:
    quotes = extra_answerer.ask(question).quotes  # the questions name no list cue ("all", "five"...)
    lead = next(i for i, q in enumerate(quotes) if q.text.endswith(":"))
    listed = [q.text for q in quotes[lead + 1 :] if q.list_item]
    assert all(any(item in text for text in listed) for item in items), [q.text for q in quotes]


@pytest.mark.slow
@pytest.mark.parametrize("question", ["Which was the first Catapult to open?", "Who takes part in the Plattform?"])
def test_a_lead_in_that_only_continues_the_quote_does_not_bring_an_unasked_list(
    extra_answerer: Answerer, question: str
) -> None:
    quotes = extra_answerer.ask(question).quotes  # "... the first Catapult. It brings together seven centres:"
    assert quotes and not any(q.list_item or q.text.endswith(":") for q in quotes), [q.text for q in quotes]


@pytest.mark.slow
def test_a_version_number_in_a_name_is_not_a_request_for_a_whole_list(extra_answerer: Answerer) -> None:
    answer = extra_answerer.ask("Who takes part in the Plattform Industrie 4.0?")
    assert any("trade unions" in q.text for q in answer.quotes)
    assert not any(q.list_item for q in answer.quotes)  # the Plattform's themes were listed in full


@pytest.mark.slow
@pytest.mark.parametrize("scope", ["Germany", "german", "DE"])
def test_a_country_scope_answers_only_from_that_countrys_documents(extra_answerer: Answerer, scope: str) -> None:
    answer = extra_answerer.ask("What are the national strategies for advanced manufacturing?", country=scope)
    assert not answer.abstained
    assert {c.passage.metadata.get("country") for c in answer.citations} == {"Germany"}


@pytest.mark.slow
def test_a_bracketed_country_prefix_scopes_the_question(extra_answerer: Answerer) -> None:
    unscoped = extra_answerer.ask("What does the national strategic plan recommend?")
    scoped = extra_answerer.ask("[United Kingdom] What does the national strategic plan recommend?")
    assert unscoped.citations[0].passage.metadata.get("country") == "United States"
    assert {c.passage.metadata.get("country") for c in scoped.citations} <= {"United Kingdom"}
    assert scoped.question == "What does the national strategic plan recommend?"


@pytest.mark.slow
def test_a_country_the_knowledge_base_lacks_abstains_instead_of_answering_from_another(
    extra_answerer: Answerer,
) -> None:
    answer = extra_answerer.ask("What are the key manufacturing policies?", country="Japan")
    assert answer.abstained and "no documents about Japan" in answer.reason
