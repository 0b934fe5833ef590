"""The splitter follows the document's structure and gives stable ids and verbatim sentences."""

from __future__ import annotations

from pathlib import Path

from embeddings.ingest.documents import Document, read_document
from embeddings.ingest.splitter import SplitterSettings, sentence_spans, split_document

ROOT = Path(__file__).resolve().parents[2]
US = "united-states/key-policies.md"


def shipped_passages() -> list:
    doc = read_document(ROOT / "knowledge" / US, ROOT / "knowledge")
    return split_document(doc, SplitterSettings())


def test_shipped_page_keeps_its_structure() -> None:
    passages = shipped_passages()
    sections = [p.section[-1] for p in passages]
    assert sections[0] == "National Policy"
    assert any("Ensuring American Leadership" in s for s in sections)
    assert any("Capturing Domestic Competitive Advantage" in s for s in sections)
    objectives = [p for p in passages if p.kind == "list_item"]
    assert len(objectives) == 5
    assert objectives[0].text.startswith("Accelerate investment")
    assert {p.section[-1] for p in objectives} == {"2012 National Strategic Plan for Advanced Manufacturing"}


def test_list_items_share_a_list_id_with_the_paragraph_that_introduces_them() -> None:
    passages = shipped_passages()
    lead = next(p for p in passages if p.text.endswith("five objectives:"))
    members = [p for p in passages if p.list_id == lead.list_id]
    assert lead.list_id is not None
    assert len(members) == 6


def test_navigation_lines_of_the_site_are_not_in_the_knowledge() -> None:
    text = " ".join(p.text for p in shipped_passages())
    assert "skip to primary navigation" not in text
    assert "Studying at Cambridge" not in text


def test_passage_ids_are_stable_and_unique() -> None:
    first, second = shipped_passages(), shipped_passages()
    assert [p.id for p in first] == [p.id for p in second]
    assert len({p.id for p in first}) == len(first)
    assert all(0 <= p.id < 2**63 for p in first)
    assert first[0].key == f"{US}#0"


def test_sentences_are_verbatim_slices_and_survive_abbreviations() -> None:
    passage = shipped_passages()[0]
    sentences = passage.sentence_texts()
    assert len(sentences) == 3  # "U.S." does not end a sentence
    assert all(s in passage.text for s in sentences)
    assert sentences[0].startswith("US policy") and sentences[0].endswith("innovation ecosystem.")


def test_heading_path_is_part_of_what_gets_embedded() -> None:
    passage = shipped_passages()[1]
    assert "Ensuring American Leadership" in passage.context_text().splitlines()[0]
    assert passage.context_text().endswith(passage.text)


def test_long_paragraphs_are_cut_at_sentence_boundaries() -> None:
    body = "# T\n\n" + " ".join(f"Sentence number {i} is here." for i in range(60))
    doc = Document("long.md", "markdown", "T", body, "long.md")
    passages = split_document(doc, SplitterSettings(max_chars=200))
    assert len(passages) > 1
    assert all(len(p.text) <= 200 for p in passages)
    assert all(p.text.endswith(".") for p in passages)


def test_plain_text_bullets_become_list_items() -> None:
    body = "The plan has two goals:\n\n• Grow jobs.\n• Cut costs.\n\nAfter the list."
    doc = Document("plan.txt", "text", "Plan", body, "plan.txt")
    passages = split_document(doc, SplitterSettings())
    assert [p.kind for p in passages] == ["paragraph", "list_item", "list_item", "paragraph"]
    assert passages[1].text == "Grow jobs."
    assert passages[0].list_id == passages[1].list_id == passages[2].list_id
    assert passages[3].list_id is None


def test_a_sentence_the_segmenter_rewrote_still_gets_its_place_in_the_text() -> None:
    text = "The plan was published in 2012. It set five objectives."

    class Rewriting:  # pysbd with clean=False returns sentences as written; should it ever not
        def segment(self, text: str) -> list[str]:
            return ["The plan was published in 2012 .", "It set five objectives."]

    assert sentence_spans(text, Rewriting()) == sentence_spans(text) == ((0, 31), (32, 55))  # type: ignore[arg-type]
