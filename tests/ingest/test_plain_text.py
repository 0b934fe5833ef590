"""Plain text as people paste it (web pages, PDFs): bullets and numbers are lists, title lines are
sections, and every sentence to quote is whole. Real files in tmp_path, read and split as `policybot index` does."""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

from embeddings.ingest.documents import read_document
from embeddings.ingest.splitter import SplitterSettings, split_document
from embeddings.passage import Passage

UK_PAGE = """\
Made Smarter Innovation

Published 12 May 2023

The Made Smarter Innovation challenge is part of the Industrial Strategy Challenge Fund. It helps
manufacturers, e.g. SMEs in the North West, adopt digital tools.

Key recommendations:
1. Invest in digital skills for the workforce.
2) Create a national network of
   adoption centres.
3. Fund research on industrial AI.

What the programme funds
The programme funds research centres and demonstrator projects in the UK.

The High Value Manufacturing Catapult has three aims:

• to bridge the gap between research and
commercialisation
• to give businesses access to equipment
  and expertise they could not afford alone
• to grow the UK's manufacturing base

Contact
Email the programme team.
"""


def split_file(folder: Path, name: str, text: str) -> list[Passage]:
    """Write `text` to `folder/name` and split it as the indexer does."""
    (folder / name).write_text(text, encoding="utf-8")
    return split_document(read_document(folder / name, folder), SplitterSettings())


def test_bullets_under_a_lead_in_are_its_list_even_without_a_blank_line(tmp_path: Path) -> None:
    text = (
        "The AMNPO has two primary missions:\n"
        "• to convene industry-led partnerships focused on\n"
        "manufacturing innovation\n"
        "• to design a whole-of-government initiative\n\n"
        "It is hosted by NIST.\n"
    )
    passages = split_file(tmp_path, "amnpo.txt", text)
    assert [(p.kind, p.text) for p in passages] == [
        ("paragraph", "The AMNPO has two primary missions:"),
        ("list_item", "to convene industry-led partnerships focused on manufacturing innovation"),
        ("list_item", "to design a whole-of-government initiative"),
        ("paragraph", "It is hosted by NIST."),
    ]
    assert passages[0].list_id is not None
    assert [p.list_id for p in passages] == [passages[0].list_id] * 3 + [None]


@pytest.mark.parametrize(
    "markers", ["• •", "◦ ◦", "▪ ▪", "‣ ‣", "– –", "- -", "* *", "1. 2.", "1) 2)", "a) b)", "(i) (ii)"]
)
def test_bullet_and_numbered_lines_are_list_items(tmp_path: Path, markers: str) -> None:
    first, second = markers.split()
    passages = split_file(tmp_path, "goals.txt", f"The plan has two goals:\n{first} Grow jobs.\n{second} Cut costs.\n")
    assert [(p.kind, p.text) for p in passages] == [
        ("paragraph", "The plan has two goals:"),
        ("list_item", "Grow jobs."),
        ("list_item", "Cut costs."),
    ]
    assert len({p.list_id for p in passages}) == 1


def test_a_pasted_uk_page_keeps_its_lists_wrapped_items_and_sections(tmp_path: Path) -> None:
    passages = split_file(tmp_path, "made-smarter.txt", UK_PAGE)
    by_text = {p.text: p for p in passages}
    recommendations = [p for p in passages if p.list_id == by_text["Key recommendations:"].list_id]
    assert [p.text for p in recommendations] == [
        "Key recommendations:",
        "Invest in digital skills for the workforce.",
        "Create a national network of adoption centres.",
        "Fund research on industrial AI.",
    ]
    lead = by_text["The High Value Manufacturing Catapult has three aims:"]
    assert [p.text for p in passages if p.list_id == lead.list_id][1:] == [
        "to bridge the gap between research and commercialisation",
        "to give businesses access to equipment and expertise they could not afford alone",
        "to grow the UK's manufacturing base",
    ]
    assert by_text["The programme funds research centres and demonstrator projects in the UK."].section == (
        "Made Smarter Innovation",
        "What the programme funds",
    )
    assert by_text["Email the programme team."].section == ("Made Smarter Innovation", "Contact")


def test_title_lines_are_sections_not_sentences_to_quote(tmp_path: Path) -> None:
    passages = split_file(tmp_path, "made-smarter.txt", UK_PAGE)
    sentences = [s for p in passages for s in p.sentence_texts()]
    for title in ("Made Smarter Innovation", "What the programme funds", "Contact"):
        assert not any(s.startswith(title) for s in sentences), title
    assert "The programme funds research centres and demonstrator projects in the UK." in sentences
    assert read_document(tmp_path / "made-smarter.txt", tmp_path).title == "Made Smarter Innovation"


def test_a_lead_in_a_dateline_and_a_last_line_are_not_headings(tmp_path: Path) -> None:
    passages = split_file(tmp_path, "made-smarter.txt", UK_PAGE + "\nCrown copyright\n")
    texts = [p.text for p in passages]
    assert "Key recommendations:" in texts
    assert "Published 12 May 2023" in texts
    assert texts[-1] == "Crown copyright"


def test_a_paragraph_of_short_real_sentences_stays_one_paragraph(tmp_path: Path) -> None:
    text = "Grants\n\nThe fund opened in 2019.\nIt closed in 2021.\nBids were small.\nMost came from SMEs.\n"
    passages = split_file(tmp_path, "grants.txt", text)
    assert len(passages) == 1
    assert passages[0].section == ("Grants",)
    assert passages[0].sentence_texts() == [
        "The fund opened in 2019.",
        "It closed in 2021.",
        "Bids were small.",
        "Most came from SMEs.",
    ]


@pytest.mark.parametrize(
    "sentences",
    [
        ("The U.S. Department of Commerce hosts the office.", "It opened in 2012."),
        ("Small firms, e.g. suppliers to aerospace, can apply.", "Large firms cannot."),
        ("Dr. Jane Smith chairs the board.", "She was appointed in 2020."),
        ("The plan is set out in Policy Paper No. 5 of the series.", "It runs to 40 pages."),
        ("Industrie 4.0 was first presented in 2011.", "Its budget grew by 4.5 per cent."),
    ],
)
def test_quoted_sentences_are_whole_despite_abbreviations_and_decimals(
    tmp_path: Path, sentences: tuple[str, str]
) -> None:
    passages = split_file(tmp_path, "note.txt", " ".join(sentences) + "\n")
    assert [s for p in passages for s in p.sentence_texts()] == list(sentences)


def write_pdf(path: Path, parts: list[tuple[str, str]]) -> None:
    """A one-page PDF of bold heading lines each followed by its text, with no outline: pypdf gives
    the lines back without a blank line between a heading and its text."""
    pdf = FPDF()
    pdf.add_page()
    for heading, text in parts:
        pdf.set_font("helvetica", "B", 14)
        pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    path.write_bytes(bytes(pdf.output()))


def test_a_pdf_heading_is_not_glued_to_the_sentence_under_it(tmp_path: Path) -> None:
    write_pdf(
        tmp_path / "canada.pdf",
        [
            ("Key Policies: Canada", "Canada's manufacturing policy is led by ISED. It funds research."),
            (
                "Funding",
                "The Strategic Innovation Fund has two streams:\n\x95 to support research and development\n"
                "\x95 to help firms grow in Canada",
            ),
            ("Industry 4.0 roadmap", "Dr. Smith leads the No. 5 working group. Its budget grew by 4.0 per cent."),
        ],
    )
    doc = read_document(tmp_path / "canada.pdf", tmp_path)
    assert "\n\n" not in doc.pages[0].text  # the case to handle: nothing but line breaks
    passages = split_document(doc, SplitterSettings())
    assert doc.title == "Key Policies: Canada"
    assert [(p.section[1:], p.kind, p.sentence_texts()) for p in passages] == [
        ((), "paragraph", ["Canada's manufacturing policy is led by ISED.", "It funds research."]),
        (("Funding",), "paragraph", ["The Strategic Innovation Fund has two streams:"]),
        (("Funding",), "list_item", ["to support research and development"]),
        (("Funding",), "list_item", ["to help firms grow in Canada"]),
        (
            ("Industry 4.0 roadmap",),
            "paragraph",
            ["Dr. Smith leads the No. 5 working group.", "Its budget grew by 4.0 per cent."],
        ),
    ]
    assert passages[1].list_id == passages[2].list_id == passages[3].list_id is not None
