"""`policybot`: index the knowledge, ask questions, run the REPL, evaluate."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.config import Settings, load_settings
from embeddings.errors import PolicyBotError

log = logging.getLogger("policybot")

CONVERSATIONS = Path("tests/data/conversations.yaml")  # relative to config.yaml's folder


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        settings = load_settings(args.config)
        if getattr(args, "mode", None):
            settings = settings.model_copy(
                update={"retrieval": settings.retrieval.model_copy(update={"mode": args.mode})}
            )
        handler: Callable[[argparse.Namespace, Settings], int] = args.handler
        return handler(args, settings)
    except PolicyBotError as exc:
        print(f"policybot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policybot", description="Answers policy questions from a curated knowledge base, with citations."
    )
    parser.add_argument("--config", type=Path, help="config file (default: ./config.yaml or $POLICYBOT_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("index", help="build or update the index from the knowledge folder")
    p.add_argument("--full", action="store_true", help="re-embed everything instead of only what changed")
    p.add_argument("--dry-run", action="store_true", help="print what would change without writing anything")
    p.add_argument("--force", action="store_true", help="publish even if the evaluation gate finds it worse")
    p.add_argument("--watch", action="store_true", help="keep watching the knowledge folder and re-index on change")
    p.add_argument("--verify", action="store_true", help="check every version's files against their checksums")
    p.set_defaults(handler=cmd_index)

    p = sub.add_parser("changes", help="print what the latest index versions changed")
    p.add_argument("-n", type=int, default=1, help="how many versions back (default 1)")
    p.set_defaults(handler=cmd_changes)

    p = sub.add_parser("ask", help="answer one question, or each line of a file (--batch)")
    p.add_argument("question", nargs="?", help="the question, in quotes")
    p.add_argument(
        "--batch",
        metavar="FILE",
        help="answer each line of FILE ('-' = standard input), one answer a line (JSON Lines with --json): "
        'a question, or {"id": ..., "question": ..., "country": ..., "conversation": ...} (same conversation = '
        "follow-ups read in context, in file order); a plain line's id is its line number; "
        "blank and # lines are skipped; bad lines are reported by number (exit 1), the rest answered",
    )
    p.add_argument("-k", type=int, help="passages to retrieve (default: retrieval.top_k)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON, for scripts")
    p.add_argument("--country", help="answer only from documents about this country")
    _mode_flag(p)
    p.set_defaults(handler=cmd_ask)

    p = sub.add_parser("repl", help="ask questions interactively")
    _mode_flag(p)
    p.set_defaults(handler=cmd_repl)

    p = sub.add_parser("eval", help="score retrieval and abstention on the evaluation set")
    p.add_argument("--set", type=Path, help="evaluation YAML (default: eval_set in config.yaml)")
    p.add_argument("--sweep", action="store_true", help="also show abstention across thresholds")
    p.add_argument(
        "--conversations",
        nargs="?",
        type=Path,
        const=CONVERSATIONS,
        metavar="FILE",
        help=f"score follow-up questions read in context instead (default FILE: {CONVERSATIONS})",
    )
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    _mode_flag(p)
    p.set_defaults(handler=cmd_eval)

    p = sub.add_parser("run", help="build the index if missing, then start the Slack bot (tokens set) or the REPL")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("serve", help="run the Slack bot: Socket Mode, or --http for the Events API")
    p.add_argument("--http", action="store_true", help="serve Slack's HTTP Events API at slack.http_host:http_port")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("manifest", help="print the Slack app manifest (YAML) for the configured features")
    p.add_argument("--http", metavar="URL", help="HTTP mode: Slack sends every request to URL (…/slack/events)")
    p.set_defaults(handler=cmd_manifest)

    p = sub.add_parser("feedback", help="report Slack feedback; --export corrections as evaluation candidates")
    p.add_argument("--export", type=Path, metavar="FILE", help="write corrections as eval-set YAML ('-' = stdout)")
    p.add_argument("--top", type=int, default=10, help="how many 'Not helpful' questions to list")
    p.set_defaults(handler=cmd_feedback)

    p = sub.add_parser("add", help="copy a file or download a URL into the knowledge folder, then index it")
    p.add_argument("source", metavar="PATH-or-URL", help="a document (.md .txt .html .pdf) or an http(s) URL")
    p.add_argument("--country", help="country it is about (also the sub-folder it goes in)")
    p.add_argument("--publisher", help="who published it")
    p.add_argument("--title", help="title shown in citations (default: from the document)")
    p.add_argument("--date", help="publication or effective date, e.g. 2012-02-22")
    p.add_argument("--version", dest="doc_version", metavar="VERSION", help="edition or version of the document")
    p.add_argument("--name", help="file name in the knowledge folder (default: from the source)")
    p.add_argument("--no-index", action="store_true", help="only add the file; index later")
    p.set_defaults(handler=cmd_add)

    p = sub.add_parser("sources", help="list the documents in the index with passage counts and metadata")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(handler=cmd_sources)
    return parser


def _mode_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode", choices=("dense", "lexical", "hybrid"), help="retrieval mode (default: retrieval.mode in config)"
    )


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("faiss.loader", "sentence_transformers", "httpx", "huggingface_hub", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from bot.answering.gate import EvaluationGate
    from bot.config import require_gate_eval_set
    from bot.wiring import load_embedder

    if args.verify:
        return _verify(settings.index_dir)
    if not args.dry_run:
        require_gate_eval_set(settings)  # before the model loads
    embedder = load_embedder(settings, building=True)
    gate = None if args.dry_run else EvaluationGate.from_settings(settings, embedder)
    status = _index_once(args, settings, embedder, gate)
    if not args.watch:
        return status
    from embeddings.index.watch import watch_and_index

    print(f"watching {settings.knowledge_dir} for changes (Ctrl-C stops)", file=sys.stderr)
    watch_and_index(
        settings.knowledge_dir,
        lambda: _index_once(args, settings, embedder, gate),
        settings.indexing.watch_debounce_ms,
        on_error=lambda exc: print(f"policybot: {exc}", file=sys.stderr),
    )
    return status


def _index_once(args: argparse.Namespace, settings: Settings, embedder: Any, gate: Any) -> int:
    from bot.wiring import index_knowledge
    from embeddings.index.changes import format_changes

    bar = _ProgressBar()
    try:
        run = index_knowledge(
            settings, embedder, full=args.full, dry_run=args.dry_run, gate=gate, force=args.force, progress=bar.update
        )
    finally:
        bar.close()
    report = run.report
    for problem in report.problems:
        print(f"skipped {problem}", file=sys.stderr)
    if report.rebuilt_because:
        print(f"full rebuild: {report.rebuilt_because}", file=sys.stderr)
    if report.gate_report:
        print(report.gate_report, file=sys.stderr)
    if report.dry_run:
        print(format_changes({"version": report.version, **report.changes}))
    print(report.summary())
    if report.kept_aside is not None:
        print("the new version was not published; fix the documents or run `policybot index --force`", file=sys.stderr)
        return 3
    told = run.replicas()
    if told:
        print(told, file=sys.stderr)
    return 0 if report.documents else 1


def _verify(index_dir: Path) -> int:
    """One line per version: ok, or what is wrong; 0 when every version is ok."""
    from embeddings.index.versions import current_version_name, is_damage, verify_versions

    results = verify_versions(index_dir)
    if not results:
        print(f"no index versions in {index_dir}; build one with: policybot index")
        return 1
    current = current_version_name(index_dir)
    for name, problem in results:
        print(f"{name}{' (published)' if name == current else ''}: {problem or 'ok'}")
    damaged = sum(is_damage(problem) or (problem is not None and name == current) for name, problem in results)
    if damaged:
        print(f"{damaged} of {len(results)} versions fail the check; run: policybot index", file=sys.stderr)
    return 1 if damaged else 0


def cmd_changes(args: argparse.Namespace, settings: Settings) -> int:
    from embeddings.index.changes import format_changes, read_changes

    entries = read_changes(settings.index_dir, max(args.n, 1))
    if not entries:
        print(f"no index has been published in {settings.index_dir} yet; run: policybot index")
        return 1
    print("\n\n".join(format_changes(entry) for entry in entries))
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.answering.answerer import check_question, decode_question
    from bot.errors import QuestionError
    from bot.render.terminal import render_text
    from bot.wiring import build_answerer

    if args.k is not None and args.k < 1:
        print("policybot: -k must be a positive number of passages", file=sys.stderr)
        return 2
    if args.batch is not None:
        if args.question is not None:
            print("policybot: give a question or --batch FILE, not both", file=sys.stderr)
            return 2
        return _ask_batch(args, settings)
    if args.question is None:
        print('policybot: ask needs a question, e.g. policybot ask "What is PCAST?", or --batch FILE', file=sys.stderr)
        return 2
    question, notice = decode_question(args.question)
    if notice:
        print(f"policybot: {notice}", file=sys.stderr)
    try:
        check_question(question, settings.answer.max_question_chars)  # before the slow model load
    except QuestionError as exc:
        print(f"policybot: {exc}", file=sys.stderr)
        return 2
    answer = build_answerer(settings).ask(question, k=args.k, country=args.country)
    print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) if args.json else render_text(answer))
    return 0


def _ask_batch(args: argparse.Namespace, settings: Settings) -> int:
    """`ask --batch FILE`: every line answered by one answerer, each answer printed as soon as it is made."""
    from bot.batch import answer_lines, read_lines
    from bot.errors import BatchInputError
    from bot.wiring import build_answerer

    from_stdin = args.batch == "-"
    name = "standard input" if from_stdin else args.batch
    try:  # before the slow model load
        stream = getattr(sys.stdin, "buffer", sys.stdin) if from_stdin else open(args.batch, "rb")  # noqa: SIM115
    except OSError as exc:
        print(f"policybot: cannot read {name}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        result = answer_lines(
            build_answerer(settings),
            read_lines(stream, name),
            lambda text: print(text, flush=True),
            lambda text: print(text, file=sys.stderr, flush=True),
            as_json=args.json,
            k=args.k,
            country=args.country,
        )
    except BatchInputError as exc:
        print(f"policybot: {exc}", file=sys.stderr)
        return 2
    finally:
        if not from_stdin:
            stream.close()
    if result.failed:
        failed, total = len(result.failed), result.answered + len(result.failed)
        lines = ("line " if failed == 1 else "lines ") + ", ".join(map(str, result.failed))
        print(f"policybot: {failed} of {total} questions not answered ({lines})", file=sys.stderr)
        return 1
    if not result.answered:
        print(f"policybot: no questions in {name} (only blank and # lines)", file=sys.stderr)
    return 0


def cmd_repl(args: argparse.Namespace, settings: Settings) -> int:
    from bot.repl import run_repl, stream_reader, terminal_reader
    from bot.wiring import build_answerer, start_reloader

    answerer = build_answerer(settings)
    reloader = start_reloader(answerer, settings)
    reader = terminal_reader(settings.history_file) if sys.stdin.isatty() else stream_reader()
    try:
        run_repl(answerer, reader, print)
    finally:
        if reloader is not None:
            reloader.stop()
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.answering.evaluation import evaluate, format_report, load_eval_set
    from bot.wiring import build_answerer

    if args.conversations is not None:
        if args.set is not None:  # it would be ignored: say so rather than score another file
            print(f"policybot: pass the conversations file as --conversations {args.set}, not --set", file=sys.stderr)
            return 2
        return _eval_conversations(args, settings)
    path = args.set or settings.eval_set
    if path is None:
        print("policybot: no evaluation set: set eval_set in config.yaml or pass --set FILE", file=sys.stderr)
        return 2
    cases = load_eval_set(path)
    answerer = build_answerer(settings)
    report = evaluate(answerer, cases)
    threshold = answerer.scores.threshold
    if args.json:
        precision, recall, wrong, missed = report.abstention()
        figures = {
            "hit_at_1": report.hit_at_1(),
            "recall_at_5": report.recall_at(5),
            "mrr_at_10": report.mrr(),
            "abstention_precision": precision,
            "abstention_recall": recall,
            "answerable_abstained": wrong,
            "unanswerable_answered": missed,
            "answerability_auc": report.auc(),
            "threshold": threshold,
        }
        print(json.dumps(figures, indent=2))
    else:
        sweep = [round(0.05 * i, 2) for i in range(1, 20)] if args.sweep else None
        print(format_report(report, threshold, sweep))
    return 0


def _eval_conversations(args: argparse.Namespace, settings: Settings) -> int:
    """`eval --conversations`: follow-ups in context, alone and rewritten; abstention; standalone turns kept."""
    from bot.answering.evaluation import evaluate_conversations, format_conversation_report, load_conversations
    from bot.wiring import build_answerer

    path: Path = args.conversations
    if not path.is_absolute():
        base = settings.config_path.resolve().parent if settings.config_path else Path.cwd()
        path = path if path.is_file() else base / path
    conversations = load_conversations(path)
    report = evaluate_conversations(build_answerer(settings), conversations)
    print(json.dumps(report.figures(), indent=2) if args.json else format_conversation_report(report))
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from embeddings.index.versions import check_version, current_version_dir

    current = current_version_dir(settings.index_dir)
    problem = None if current is None else check_version(current)  # an older format, a damaged file
    if current is None or problem:
        state = f"The index in {settings.index_dir} cannot be used ({problem})" if problem else "No index yet"
        print(f"{state}: building it from {settings.knowledge_dir}.", file=sys.stderr)
        status = cmd_index(
            argparse.Namespace(full=False, dry_run=False, force=False, watch=False, verify=False), settings
        )
        if status:
            return status
    from bot.slack.tokens import APP_TOKEN, slack_configured

    if slack_configured(settings.env):
        return cmd_serve(argparse.Namespace(http=not settings.env.get(APP_TOKEN)), settings)
    return cmd_repl(args, settings)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.slack.serve import serve

    serve(settings, http=args.http, announce=lambda line: print(line, file=sys.stderr))
    return 0


def cmd_manifest(args: argparse.Namespace, settings: Settings) -> int:
    import yaml

    from bot.slack.manifest import manifest

    print(yaml.safe_dump(manifest(settings.slack, args.http), sort_keys=False, allow_unicode=True), end="")
    return 0


def cmd_feedback(args: argparse.Namespace, settings: Settings) -> int:
    from bot.state.connect import configured_url, open_database
    from bot.state.feedback import FeedbackStore, eval_set_name, export_candidates, format_report

    url, _, _ = configured_url(settings)
    if url.dialect == "sqlite" and not Path(url.target).is_file():
        print(f"No feedback yet: {url.target} does not exist.", file=sys.stderr)
        return 0
    db = open_database(settings)
    try:
        report = FeedbackStore(db).report(top=args.top)
    finally:
        db.close()
    if args.export is None:
        print(format_report(report))
    elif str(args.export) == "-":
        print(export_candidates(report, eval_set_name(settings)), end="")
    else:
        args.export.write_text(export_candidates(report, eval_set_name(settings)), encoding="utf-8")
        print(f"Wrote {len(report.corrections)} candidate(s) to {args.export}", file=sys.stderr)
    return 0


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    from embeddings.ingest.add import add_document

    given = {"title": args.title, "publisher": args.publisher, "country": args.country, "date": args.date}
    metadata = {k: v for k, v in {**given, "version": args.doc_version}.items() if v}
    added = add_document(
        args.source,
        settings.knowledge_dir,
        metadata,
        settings.ingest,
        name=args.name,
    )
    doc = added.document
    pages = f", {len(doc.pages)} pages with text" if doc.pages else ""
    print(f"added {added.path} ({doc.format}{pages}): {doc.title}")
    if args.no_index:
        return 0
    return cmd_index(argparse.Namespace(full=False, dry_run=False, force=False, watch=False, verify=False), settings)


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from bot.render.document_list import format_document_list, summarize
    from embeddings.index.loaded import load_index

    index = load_index(settings.index_dir, token=settings.vector_store.token)
    summaries = summarize(index.passages.values())
    if args.json:
        print(json.dumps([s.to_dict() for s in summaries], indent=2, ensure_ascii=False))
    else:
        print(format_document_list(summaries, index.meta.version))
    return 0


class _ProgressBar:
    """A tqdm bar with the real total, shown only on a terminal."""

    def __init__(self) -> None:
        self._bar: Any = None  # tqdm, imported only when a terminal shows it
        self._enabled = sys.stderr.isatty()

    def update(self, done: int, total: int) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="text", desc="embedding", leave=False)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


if __name__ == "__main__":
    sys.exit(main())
