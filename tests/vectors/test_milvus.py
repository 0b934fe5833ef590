"""Milvus as the vector store (`vector_store.uri`), on a real Milvus Lite: the same index, the same
answers and the same filters as FAISS; incremental updates; clear errors for a wrong or absent store."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

from bot.answering.answerer import Answerer
from bot.answering.evaluation import load_eval_set
from bot.cli import main
from bot.config import Settings, load_settings
from bot.wiring import build_answerer
from embeddings.embedder import SentenceTransformerEmbedder
from embeddings.errors import IndexError_, VectorStoreUnavailable
from embeddings.index.build import IndexReport, build_index
from embeddings.index.loaded import load_index
from embeddings.index.milvus_collections import MILVUS_FILE
from embeddings.index.versions import current_version_dir
from embeddings.vectors.base import StoreSettings
from embeddings.vectors.milvus import has_collection
from tests.answering.test_extra_knowledge import build_extra_knowledge
from tests.conftest import EVAL_SET, FakeEmbedder, write_config

pytest.importorskip("milvus_lite", reason="milvus-lite is not installed (pip install '.[milvus]')")

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    c.question
    for path in (EVAL_SET, ROOT / "tests" / "data" / "eval_extra.yaml", ROOT / "tests" / "data" / "eval_new_user.yaml")
    for c in load_eval_set(path)
]


def with_store(settings: Settings, uri: str) -> Settings:
    return settings.model_copy(update={"vector_store": StoreSettings.from_uri(uri)})


@pytest.fixture(scope="module")
def indexes(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> tuple[Settings, Settings, IndexReport]:
    """The shipped and extra knowledge indexed with FAISS, then that index switched to Milvus Lite."""
    base = tmp_path_factory.mktemp("milvus")
    faiss = load_settings(ROOT / "config.yaml").model_copy(
        update={"knowledge_dir": build_extra_knowledge(base / "knowledge"), "index_dir": base / "faiss-index"}
    )
    build_index(faiss.knowledge_dir, faiss.index_dir, embedder, faiss.splitter)
    milvus = with_store(faiss, str(base / "milvus.db")).model_copy(update={"index_dir": base / "milvus-index"})
    shutil.copytree(faiss.index_dir, milvus.index_dir)
    switched = build_index(
        milvus.knowledge_dir,
        milvus.index_dir,
        embedder,
        milvus.splitter,
        store=milvus.vector_store,
    )
    return faiss, milvus, switched


@pytest.fixture(scope="module")
def answerers(
    indexes: tuple[Settings, Settings, IndexReport], embedder: SentenceTransformerEmbedder
) -> tuple[Answerer, Answerer]:
    faiss, milvus, _ = indexes
    return build_answerer(faiss, embedder=embedder), build_answerer(milvus, embedder=embedder)


@pytest.mark.slow
def test_switching_to_milvus_needs_only_the_setting_and_reuses_the_stored_vectors(
    indexes: tuple[Settings, Settings, IndexReport],
) -> None:
    _, milvus, report = indexes
    assert report.published and report.embedded_texts == 0
    version_dir = current_version_dir(milvus.index_dir)
    assert version_dir is not None and (version_dir / MILVUS_FILE).is_file()
    assert not (version_dir / "vectors.faiss").exists()
    index = load_index(milvus.index_dir, store=milvus.vector_store)
    assert index.meta.vector_store == "milvus" and index.vectors.count == len(index.passages)


@pytest.mark.slow
def test_the_evaluation_sets_get_the_same_top_5_passages_on_faiss_and_milvus(
    answerers: tuple[Answerer, Answerer],
) -> None:
    on_faiss, on_milvus = answerers
    for question in QUESTIONS:
        _, faiss_hits = on_faiss.retrieve(question, 5)
        _, milvus_hits = on_milvus.retrieve(question, 5)
        assert len(faiss_hits) == len(milvus_hits) == 5
        for a, b in zip(faiss_hits, milvus_hits, strict=True):
            assert a.fused == pytest.approx(b.fused, abs=1e-5), question
            if abs(a.fused - b.fused) > 1e-6 or a.passage.id == b.passage.id:
                continue
            # a tie: the two stores may order equal scores differently
            assert {h.passage.id for h in faiss_hits if abs(h.fused - a.fused) < 1e-5} == {
                h.passage.id for h in milvus_hits if abs(h.fused - b.fused) < 1e-5
            }, question


@pytest.mark.slow
def test_a_country_scope_is_a_filter_inside_milvus_with_the_same_passages_as_faiss(
    answerers: tuple[Answerer, Answerer], embedder: SentenceTransformerEmbedder
) -> None:
    on_faiss, on_milvus = answerers
    answer = on_milvus.ask("What are the national strategies for advanced manufacturing?", country="Germany")
    assert not answer.abstained and {c.passage.metadata.get("country") for c in answer.citations} == {"Germany"}
    query = embedder.embed(["Which institutions fund manufacturing research?"])[0]
    for country in ("Germany", "United Kingdom", "United States"):
        _, faiss_ids = on_faiss.retriever.index.search(query, 5, country=country)
        _, milvus_ids = on_milvus.retriever.index.search(query, 5, country=country)
        assert list(milvus_ids[0]) == list(faiss_ids[0])
        found = [on_milvus.retriever.index.passages[int(i)] for i in milvus_ids[0] if i >= 0]
        assert found and {p.metadata.get("country") for p in found} == {country}
    doc = "united-kingdom/institutions.md"
    _, ids = on_milvus.retriever.index.search(query, 3, doc=doc)
    assert {on_milvus.retriever.index.passages[int(i)].doc for i in ids[0]} == {doc}
    assert on_milvus.ask("What are the key manufacturing policies?", country="Japan").abstained


@pytest.mark.slow
def test_a_lost_connection_fails_one_question_and_the_next_reconnects(
    answerers: tuple[Answerer, Answerer], indexes: tuple[Settings, Settings, IndexReport]
) -> None:
    from milvus_lite.server_manager import server_manager_instance

    _, on_milvus = answerers
    question = "How are Catapult centres funded?"
    before = on_milvus.ask(question)
    server_manager_instance.release_server(indexes[1].vector_store.uri)  # the embedded server goes away
    with pytest.raises(VectorStoreUnavailable, match=r"Milvus at .*milvus\.db failed to search .* vector_store\.uri"):
        on_milvus.ask(question)
    after = on_milvus.ask(question)
    assert [c.passage.id for c in after.citations] == [c.passage.id for c in before.citations]


def test_editing_and_deleting_documents_updates_milvus(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    knowledge = build_extra_knowledge(tmp_path / "knowledge")
    index_dir, store = tmp_path / "index", StoreSettings.from_uri(str(tmp_path / "milvus.db"))
    splitter = load_settings(ROOT / "config.yaml").splitter
    build_index(knowledge, index_dir, fake_embedder, splitter, store=store)
    first = load_index(index_dir, store=store)
    uk = knowledge / "united-kingdom" / "institutions.md"
    uk.write_text(uk.read_text() + "\n## Quantum\n\nA quantum metrology centre joined the network in 2031.\n")
    shutil.rmtree(knowledge / "china")
    fake_embedder.embedded.clear()

    report = build_index(knowledge, index_dir, fake_embedder, splitter, store=store)
    index = load_index(index_dir, store=store)
    assert report.added >= 1 and report.removed >= 1 and report.unchanged > 0
    assert len(fake_embedder.embedded) < 10  # only the edited document's new passage and its sentences
    assert index.vectors.count == len(index.passages) < len(first.passages)
    _, ids = index.vectors.search(fake_embedder.embed(["quantum metrology centre 2031"]), index.vectors.count)
    assert {int(i) for i in ids[0] if i >= 0} == set(index.passages)
    assert "quantum metrology" in index.passages[int(ids[0][0])].text
    assert not any(p.doc.startswith("china/") for p in index.passages.values())

    first_collection = json.loads((first.path / MILVUS_FILE).read_text())["collection"]
    for n in range(3):  # older versions (and their collections) are pruned after KEEP_VERSIONS
        uk.write_text(uk.read_text() + f"\nAnother centre opened in {2032 + n}.\n")
        build_index(knowledge, index_dir, fake_embedder, splitter, store=store)
    assert not first.path.exists() and not has_collection(store, first_collection)
    current = load_index(index_dir, store=store)
    assert has_collection(store, json.loads((current.path / MILVUS_FILE).read_text())["collection"])


def test_an_index_built_with_another_store_names_both_and_the_fix(
    tmp_path: Path, fake_embedder: FakeEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    knowledge, index_dir = tmp_path / "knowledge", tmp_path / "index"
    shutil.copytree(ROOT / "knowledge", knowledge)
    config = write_config(tmp_path / "config.yaml", knowledge, index_dir, "vector_store:\n  uri: index/milvus.db\n")
    build_index(knowledge, index_dir, fake_embedder, load_settings(config).splitter)  # FAISS
    with pytest.raises(IndexError_) as raised:
        load_index(index_dir, store=load_settings(config).vector_store)
    assert str(raised.value) == (
        f"{index_dir} was built with faiss; config.yaml sets vector_store.uri={tmp_path}/index/milvus.db: "
        "run policybot index (it moves the stored vectors, without re-embedding)"
    )
    store = load_settings(config).vector_store
    build_index(knowledge, index_dir, fake_embedder, load_settings(config).splitter, store=store)
    with pytest.raises(IndexError_, match=r"was built with milvus; config.yaml sets vector_store.uri=faiss"):
        load_index(index_dir, store=StoreSettings())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_milvus_is_one_line_naming_the_uri_and_the_setting(
    tmp_path: Path, fake_embedder: FakeEmbedder, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_MILVUS_TOKEN", "root:s3cret-token")
    knowledge, index_dir = tmp_path / "knowledge", tmp_path / "index"
    shutil.copytree(ROOT / "knowledge", knowledge)
    build_index(
        knowledge,
        index_dir,
        fake_embedder,
        load_settings(None).splitter,
        store=StoreSettings.from_uri(str(tmp_path / "milvus.db")),
    )
    uri = f"http://127.0.0.1:{_closed_port()}"
    config = write_config(tmp_path / "config.yaml", knowledge, index_dir, f"vector_store:\n  uri: {uri}\n")
    for command in (["ask", "How are Catapult centres funded?"], ["index"]):
        assert main(["--config", str(config), *command]) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert err.startswith(f"policybot: cannot reach Milvus at {uri} (")
        assert err.endswith("check vector_store.uri and POLICYBOT_MILVUS_TOKEN")
        assert "s3cret" not in err
    config.write_text(config.read_text().replace(uri, "http://root:pa55@127.0.0.1:19530"))
    assert main(["--config", str(config), "ask", "x"]) == 1
    err = capsys.readouterr().err
    assert "holds a password; set the token in POLICYBOT_MILVUS_TOKEN" in err and "pa55" not in err


def test_filters_reach_milvus_as_quoted_expressions() -> None:
    from embeddings.vectors.milvus import filter_expression

    assert filter_expression({"country": 'A" or id > 0 or "'}) == r'country == "A\" or id > 0 or \""'
    assert filter_expression({}, np.array([1, 2])) == "id in [1, 2]"
