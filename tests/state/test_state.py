"""The shared state database: SQLite and a real PostgreSQL, schema and migration, claims, feedback, outages."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings, StateConfig
from bot.errors import StateDatabaseError, StateUnavailable
from bot.reloader import IndexReloader
from bot.state.claims import SharedKeys
from bot.state.connect import open_database
from bot.state.database import Database, parse_url
from bot.state.feedback import HELPFUL, NOT_HELPFUL, FeedbackStore
from bot.state.migrations import LATEST, migrate
from bot.state.published import published_version, record_published_version
from embeddings.index.build import build_index
from embeddings.index.loaded import current_version_name
from embeddings.retrieval import Retriever
from tests.postgres_fixtures import PASSWORD, PostgresServer
from tests.slack.fakeslack import FakeSlack
from tests.state.test_storage_faults import _answer

ROOT = Path(__file__).resolve().parents[2]

# The feedback schema as PolicyBot wrote it before the state database had migrations.
OLD_FEEDBACK_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY, created TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL,
    passage_ids TEXT NOT NULL, index_version TEXT NOT NULL, abstained INTEGER NOT NULL,
    user TEXT NOT NULL, channel TEXT NOT NULL, thread_ts TEXT, message_ts TEXT, blocks TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_thread ON answers (channel, thread_ts);
CREATE INDEX IF NOT EXISTS answers_message ON answers (channel, message_ts);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers (id), user TEXT NOT NULL, channel TEXT NOT NULL,
    vote TEXT NOT NULL, created TEXT NOT NULL, PRIMARY KEY (answer_id, user)
);
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id TEXT NOT NULL REFERENCES answers (id),
    user TEXT NOT NULL, created TEXT NOT NULL, right_answer TEXT NOT NULL, right_source TEXT NOT NULL
);
"""


def _settings(url: str, tmp_path: Path) -> Settings:
    return Settings(state=StateConfig(url=url, pending_file=tmp_path / "pending.jsonl"), config_path=None)


@pytest.fixture
def db(state_url: str, tmp_path: Path) -> Iterator[Database]:
    database = open_database(_settings(state_url, tmp_path), env={})
    yield database
    database.close()


def _schema_steps(db: Database) -> list[int]:
    with db.transaction() as tx:
        return [r["version"] for r in tx.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()]


def test_an_old_feedback_file_is_migrated_and_its_feedback_still_exported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "var" / "feedback.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as old:
        old.executescript(OLD_FEEDBACK_SCHEMA)
        old.execute(
            "INSERT INTO answers VALUES ('a1', '2026-01-01T00:00:00+00:00', 'What is AMP?', 'A partnership.', "
            "'[]', 'v1', 0, 'U1', 'C1', NULL, '1.1', '[]')"
        )
        old.execute("INSERT INTO votes VALUES ('a1', 'U1', 'C1', 'not_helpful', '2026-01-01T00:00:01+00:00')")
        old.execute(
            "INSERT INTO corrections (answer_id, user, created, right_answer, right_source) "
            "VALUES ('a1', 'U1', '2026-01-01T00:00:02+00:00', 'The Advanced Manufacturing Partnership', '')"
        )
    config = tmp_path / "config.yaml"
    config.write_text("slack:\n  feedback_db: var/feedback.sqlite3\n")
    assert main(["--config", str(config), "feedback", "--export", "-"]) == 0
    out = capsys.readouterr().out
    assert "question: What is AMP?" in out and "expect: The Advanced Manufacturing Partnership" in out
    store = FeedbackStore(path)
    assert _schema_steps(store.db) == list(range(1, LATEST + 1))
    assert store.record_vote("a1", "U2", "C1", HELPFUL)  # old rows and new writes live side by side
    report = store.report()
    assert (report.answers, report.helpful, report.not_helpful) == (1, 1, 1)


def test_feedback_round_trips_and_the_schema_is_created_once(db: Database, state_url: str, tmp_path: Path) -> None:
    store = FeedbackStore(db)
    store.record_answer("a1", _answer("Which pillars?"), [{"type": "section"}], "U1", "C1", "1.0", "1.0")
    assert store.record_vote("a1", "U1", "C1", HELPFUL)
    assert store.record_vote("a1", "U1", "C1", NOT_HELPFUL)  # a changed vote replaces the first
    assert store.record_correction("a1", "U2", "Three pillars", "us/key-policies.md")
    assert not store.record_vote("nope", "U1", "C1", HELPFUL)
    again = open_database(_settings(state_url, tmp_path), env={})  # another replica starting
    try:
        report = FeedbackStore(again).report()
        assert (report.answers, report.helpful, report.not_helpful) == (1, 0, 1)
        assert report.corrections[0].right_answer == "Three pillars" and report.corrections[0].user == "U2"
        assert FeedbackStore(again).blocks("a1") == [{"type": "section"}]
        assert FeedbackStore(again).answered_message("C1", "1.0") and FeedbackStore(again).answered_in_thread(
            "C1", "1.0"
        )
        assert _schema_steps(again) == list(range(1, LATEST + 1))
    finally:
        again.close()


def test_a_schema_from_a_newer_policybot_is_refused(db: Database) -> None:
    with db.transaction() as tx:
        tx.execute("INSERT INTO schema_migrations VALUES (99, 'future', 'later')")
    with pytest.raises(StateDatabaseError, match=r"has schema version 99, this PolicyBot knows up to"):
        migrate(db)


def test_an_event_is_claimed_by_exactly_one_of_two_replicas(db: Database, state_url: str) -> None:
    other = Database(parse_url(state_url, Path(".")), shared=True)  # a second connection, as another replica has
    replicas = [SharedKeys(db, "event"), SharedKeys(other, "event")]
    wins: list[str] = []
    lock = threading.Lock()

    def deliver(keys: SharedKeys) -> None:
        for n in range(15):
            if keys.claim(f"Ev{n}"):
                with lock:
                    wins.append(f"Ev{n}")

    threads = [threading.Thread(target=deliver, args=(replicas[i % 2],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.close()
    assert sorted(wins) == sorted(f"Ev{n}" for n in range(15))  # each event once, none lost


def test_the_published_version_is_what_every_replica_serves(
    db: Database, state_url: str, tmp_path: Path, knowledge_copy: Path, embedder: object, shipped_settings: Settings
) -> None:
    index = tmp_path / "index"
    shutil.copytree(shipped_settings.index_dir, index)  # the shipped knowledge, already embedded
    first = current_version_name(index)
    record_published_version(db, str(first))
    doc = knowledge_copy / "united-states" / "key-policies.md"
    doc.write_text(doc.read_text().replace("three pillars", "three main pillars"))
    build_index(knowledge_copy, index, embedder, shipped_settings.splitter.settings())  # type: ignore[arg-type]
    second = current_version_name(index)
    assert second != first
    settings = shipped_settings.model_copy(update={"index_dir": index})
    from embeddings.index.loaded import load_version

    other = Database(parse_url(state_url, Path(".")), shared=True)  # the replica's own connection
    retriever = Retriever(load_version(index / "versions" / str(first)), embedder)  # type: ignore[arg-type]
    reloader = IndexReloader(retriever, settings, version_source=lambda: published_version(other))
    try:
        assert reloader.check() is False and retriever.index.version == first  # CURRENT moved; the database did not
        record_published_version(db, str(second))
        assert reloader.check() is True and retriever.index.version == second
    finally:
        other.close()


def test_an_unreachable_postgres_stops_the_start_with_one_line(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with __import__("socket").socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    for name, value in {
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": "s3cret",
        "SLACK_API_URL": fake_slack.api_url,
        "POLICYBOT_DATABASE_URL": f"postgresql://bot:{PASSWORD}@127.0.0.1:{closed}/policy",
    }.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "config.yaml"
    config.write_text(f"index_dir: {tmp_path / 'none'}\n")
    for command in (["serve", "--http"], ["feedback"]):
        assert main(["--config", str(config), *command]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert f"postgresql://bot:***@127.0.0.1:{closed}/policy" in err and PASSWORD not in err
        assert "check POLICYBOT_DATABASE_URL" in err


def test_a_bad_url_is_named(tmp_path: Path) -> None:
    with pytest.raises(StateDatabaseError, match=r"mysql://\.\.\.: the state database URL must start with"):
        parse_url("mysql://root:pw@db/x", tmp_path)
    with pytest.raises(StateDatabaseError, match=r"postgresql://u:\*\*\*@db:x/p: the port must be a number"):
        parse_url("postgresql://u:pw@db:x/p", tmp_path)
    assert parse_url("sqlite:///var/s.db", tmp_path).target == str(tmp_path / "var" / "s.db")
    assert parse_url("sqlite:////srv/s.db", tmp_path).target == "/srv/s.db"


def test_feedback_written_while_postgres_is_down_is_kept_and_written_on_reconnect(
    postgres_server: PostgresServer, postgres_url: str, tmp_path: Path
) -> None:
    from bot.state.pending import PendingWrites

    settings = _settings(postgres_url, tmp_path)
    db = open_database(settings, env={})
    store = FeedbackStore(db, PendingWrites(settings.state.pending_file))
    store.record_answer("a1", _answer(), [], "U1", "C1")
    postgres_server.stop()
    try:
        store.record_answer("a2", _answer("Second?"), [], "U1", "C1")  # kept, not raised
        assert store.record_vote("a2", "U1", "C1", HELPFUL)
        assert store.record_correction("a1", "U2", "Right", "")
        with pytest.raises(StateUnavailable, match=r"postgresql://policybot:\*\*\*@127.0.0.1"):
            store.report()  # reads cannot be kept: they fail, and the caller apologises
        assert settings.state.pending_file.stat().st_mode & 0o777 == 0o600
    finally:
        postgres_server.start()
    assert store.flush() == 3
    report = store.report()
    assert (report.answers, report.helpful, len(report.corrections)) == (2, 1, 1)
    assert not store.pending or not store.pending.has_entries()
    db.close()


def test_policybot_index_records_the_version_only_when_a_database_is_configured(
    tmp_path: Path, knowledge_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    base = f"knowledge_dir: {knowledge_copy}\nindex_dir: {tmp_path / 'index'}\nhistory_file: {tmp_path / 'h'}\n"
    config.write_text(base)
    assert main(["--config", str(config), "index"]) == 0
    assert not (tmp_path / "var").exists()  # one process, no database: index/CURRENT alone decides
    config.write_text(base + "state:\n  url: sqlite:///var/state.sqlite3\n")
    assert main(["--config", str(config), "index"]) == 0  # nothing changed, but the version is recorded
    version = current_version_name(tmp_path / "index")
    assert (
        f"replicas sharing sqlite:///{tmp_path}/var/state.sqlite3 now serve index {version}" in capsys.readouterr().err
    )
    db = Database(parse_url(f"sqlite:///{tmp_path}/var/state.sqlite3", tmp_path))
    assert published_version(db) == version
