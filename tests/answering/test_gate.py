"""The evaluation gate tells new coverage from harm: pages that answer what the set calls
unanswerable are published with lines to paste into the set; damage is still refused."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.answering.evaluation import EvalCase, evaluate, load_eval_set
from bot.answering.gate import EvaluationGate
from bot.cli import main
from bot.config import Settings, load_settings
from bot.wiring import build_answerer
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.index.build import IndexReport, build_index
from embeddings.index.versions import current_version_name
from tests.conftest import EVAL_SET, ROOT, US_DOC, edit, settings_for

pytestmark = pytest.mark.slow

EXTRA = ROOT / "tests" / "data" / "knowledge_extra"
GERMANY = "What are Germany's key manufacturing policies?"
GERMAN_LEAD = "German manufacturing policy is shaped by"  # the first words the answer quotes
AMP_PARAGRAPH = re.compile(r"Capturing Domestic Competitive Advantage in Advanced Manufacturing contains.*?\n\n", re.S)


@pytest.fixture
def config(
    tmp_path: Path,
    knowledge_copy: Path,
    shipped_settings: Settings,
    embedder: SentenceTransformerEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """The repository's config.yaml over a copy of the knowledge, its index published already,
    with the shipped evaluation set as the gate; `policybot index` uses the session's model."""
    shutil.copytree(shipped_settings.index_dir, tmp_path / "index")
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("knowledge_dir: knowledge\n", f"knowledge_dir: {knowledge_copy}\n")
    text = text.replace("index_dir: index\n", f"index_dir: {tmp_path / 'index'}\n")
    text = text.replace("gate_eval_set: tests/data/eval.yaml\n", f"gate_eval_set: {EVAL_SET}\n")
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setattr("bot.wiring.load_embedder", lambda settings, **_: embedder)
    return tmp_path / "config.yaml"


def add_extra_pages(knowledge: Path) -> None:
    for country in ("germany", "united-kingdom"):
        shutil.copytree(EXTRA / country, knowledge / country)


def test_pages_of_other_countries_publish_and_the_questions_they_answer_are_offered_for_answerable(
    config: Path,
    knowledge_copy: Path,
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    add_extra_pages(knowledge_copy)
    assert main(["--config", str(config), "index"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"^gate: hit@1 .*: passed$", err, re.M), err
    assert f"newly covered: move these from `unanswerable:` to `answerable:` in {EVAL_SET}" in err
    pasted = [line for line in err.splitlines() if line.startswith("  - {")]
    assert any(GERMANY in line and line.endswith("# germany/key-policies.html") for line in pasted), err
    assert "worse:" not in err

    # pasted under `answerable:`, the lines are questions the published version answers right
    (tmp_path / "covered.yaml").write_text("answerable:\n" + "\n".join(pasted) + "\n", encoding="utf-8")
    covered = load_eval_set(tmp_path / "covered.yaml")
    assert GERMANY in [case.question for case in covered]
    report = evaluate(build_answerer(load_settings(config), embedder=embedder), covered)
    assert [r.case.question for r in report.results if not r.hit] == []


def test_rewriting_the_paragraph_that_answers_questions_is_refused_even_beside_new_pages(
    config: Path, knowledge_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_extra_pages(knowledge_copy)
    before = current_version_name(tmp_path / "index")
    doc = knowledge_copy / US_DOC
    rewritten = "The second PCAST report drew on a steering committee of industry and university leaders.\n\n"
    doc.write_text(AMP_PARAGRAPH.sub(rewritten, doc.read_text(encoding="utf-8")), encoding="utf-8")

    assert main(["--config", str(config), "index"]) == 3
    err = capsys.readouterr().err
    assert re.search(r"^gate: hit@1 .*: FAILED$", err, re.M), err
    assert "worse: What pillars do the AMP recommendations rest on?" in err
    assert GERMANY in err  # the new coverage is still reported
    assert current_version_name(tmp_path / "index") == before
    assert len(list((tmp_path / "index" / "rejected").iterdir())) == 1


def gated_build(
    shipped: Settings, knowledge: Path, index: Path, embedder: SentenceTransformerEmbedder, cases: list[EvalCase]
) -> IndexReport:
    """Index `knowledge` over a copy of the shipped index, gated by `cases`."""
    shutil.copytree(shipped.index_dir, index)
    settings = settings_for(shipped, knowledge, index)
    gate = EvaluationGate(settings, embedder, cases, EVAL_SET)
    return build_index(knowledge, index, embedder, settings.splitter, gate=gate)


def test_an_off_topic_question_answered_from_a_new_page_is_a_regression_not_coverage(
    knowledge_copy: Path, tmp_path: Path, shipped_settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    add_extra_pages(knowledge_copy)
    (knowledge_copy / "bread.md").write_text(
        "# Baking sourdough bread\n\nTo bake sourdough bread, mix flour, water, salt and a live sourdough "
        "starter, let the dough rise overnight, then bake it in a hot oven.\n",
        encoding="utf-8",
    )
    bread = "How do I bake sourdough bread?"
    cases = [EvalCase(bread, None, "off-topic"), EvalCase(GERMANY, None, "near-miss")]
    report = gated_build(shipped_settings, knowledge_copy, tmp_path / "index", embedder, cases)
    assert not report.published, report.gate_report
    assert f"worse: {bread}" in report.gate_report
    pasted = [line for line in report.gate_report.splitlines() if line.startswith("  - {")]
    assert pasted == [f'  - {{question: "{GERMANY}", expect: "{GERMAN_LEAD}"}}  # germany/key-policies.html']


def test_a_renamed_and_damaged_document_is_not_taken_for_a_new_one(
    knowledge_copy: Path, tmp_path: Path, shipped_settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    (knowledge_copy / "usa").mkdir()
    (knowledge_copy / US_DOC).rename(knowledge_copy / "usa" / "key-policies.md")
    edit(knowledge_copy / "usa" / "key-policies.md", "three pillars", "three themes")
    cases = [EvalCase("What pillars do the AMP recommendations rest on?", "three pillars")]
    report = gated_build(shipped_settings, knowledge_copy, tmp_path / "index", embedder, cases)
    assert not report.published
    assert report.gate_report.splitlines() == [
        "gate: hit@1 1.000 -> 0.000, abstention accuracy 1.000 -> 1.000 (allowed drop 0.05): FAILED",
        "  worse: What pillars do the AMP recommendations rest on?",
    ]


def test_an_answer_outranked_by_a_new_page_is_reported_as_moved_and_not_counted(
    knowledge_copy: Path, tmp_path: Path, shipped_settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    (knowledge_copy / "notes.md").write_text(
        '---\ntitle: "AMP notes"\ncountry: United States\n---\n\n# The AMP recommendations\n\n'
        "The AMP recommendations rest on a year of workshops with manufacturers, universities and federal agencies.\n",
        encoding="utf-8",
    )
    cases = [EvalCase("What pillars do the AMP recommendations rest on?", "three pillars")]
    report = gated_build(shipped_settings, knowledge_copy, tmp_path / "index", embedder, cases)
    assert report.published, report.gate_report
    assert report.gate_report.splitlines()[1:] == [
        "  moved: What pillars do the AMP recommendations rest on? (now cites notes.md, which does not hold "
        "'three pillars')"
    ]
