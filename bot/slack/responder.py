"""Answer one Slack question: ask the shared answerer, render Block Kit, post, remember it, never fail silently."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from bot.answering.answer import Answer
from bot.answering.answerer import Answerer
from bot.answering.followup import Turn, turn_of
from bot.config import SlackConfig
from bot.errors import QuestionError
from bot.slack.blocks import APOLOGY, CONTINUED, EMPTY_QUESTION, answer_messages, fallback_text, notice_blocks
from bot.slack.delivery import slack_error
from bot.slack.external import SharedChannels
from bot.slack.mrkdwn import escape
from bot.slack.once import Once
from bot.slack.work import BUSY, Work
from bot.state.conversations import ConversationKey, ConversationStore, conversation_key
from bot.state.feedback import FeedbackStore, new_answer_id

log = logging.getLogger(__name__)

WORKING_REACTION = "eyes"


@dataclass
class Reply:
    """What to post: fallback text and blocks, and (`more`) messages continuing it in the thread."""

    text: str
    blocks: list[dict[str, Any]]
    more: list[list[dict[str, Any]]] = field(default_factory=list)


@dataclass
class Responder:
    """Everything a listener needs to answer: the answerer, the feedback store, the Slack settings."""

    answerer: Answerer
    store: FeedbackStore
    config: SlackConfig
    once: Once = field(default_factory=Once)  # keeps each event to one answer; `Once.kept_in(db)` across replicas
    work: Work = field(default_factory=Work)  # answers off bolt's threads, bounded (bot/slack/work.py)
    working_after: float = 0.4  # seconds before a 👀 reaction shows the question is being worked on
    conversations: ConversationStore | None = None  # default: the turns in the feedback store's database
    shared: SharedChannels = field(default_factory=SharedChannels)  # Slack Connect channels, as Slack says
    _ask_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.conversations is None:
            self.conversations = ConversationStore(self.store.db, self.config.dm_idle_minutes * 60)

    def allowed(self, channel: str) -> bool:
        """Direct messages always; channels when `slack.allowed_channels` is empty or lists them."""
        return channel.startswith("D") or not self.config.allowed_channels or channel in self.config.allowed_channels

    def outside(self, client: WebClient, channel: str) -> bool:
        """Whether `channel` is shared with another organisation while `slack.answer_external` is off.
        May ask Slack (conversations.info), so call it in the answer pool, not before an acknowledgement."""
        return not self.config.answer_external and self.shared.external(client, channel)

    def reply(
        self,
        question: str,
        user: str,
        channel: str,
        thread_ts: str | None,
        message_ts: str | None,
        asked_by: str | None = None,
        shareable: bool = False,
        conversation: ConversationKey | None = None,
    ) -> Reply:
        """The reply to `question`: an answer with buttons, a hint for a bad question, or an apology.
        In a `conversation` (a thread, a DM) a follow-up is read in the context of its earlier turns.

        Never raises: errors are logged and become a short apology, without their details.
        """
        if not question.strip():
            return Reply(EMPTY_QUESTION.replace("_", ""), notice_blocks(EMPTY_QUESTION))
        try:
            answer = self._ask(question, self._turns(conversation))
        except QuestionError as exc:
            return Reply(str(exc), notice_blocks(escape(str(exc))))
        except Exception:
            log.exception("answering failed in channel %s", channel)
            return Reply(APOLOGY, notice_blocks(APOLOGY))
        self._remember(conversation, turn_of(answer))
        answer_id = new_answer_id()
        continued = not shareable  # an ephemeral reply has no thread to continue in: it is trimmed instead
        blocks, *more = answer_messages(answer, self.config.max_answer_chars, answer_id, asked_by, shareable, continued)
        try:
            self.store.record_answer(answer_id, answer, blocks, user, channel, thread_ts, message_ts)
        except Exception:  # the answer is still worth posting; only its buttons depend on the store
            log.exception("could not store the answer for feedback")
            blocks, *more = answer_messages(answer, self.config.max_answer_chars, None, asked_by, continued=continued)
        return Reply(fallback_text(answer), blocks, more)

    def answer_in_channel(
        self, client: WebClient, question: str, user: str, channel: str, message_ts: str, thread_ts: str | None
    ) -> None:
        """Answer a message where it was asked (in `thread_ts`, or top level when None), in `work`'s answer
        pool: this returns at once; a full queue gets a "busy, try again shortly" reply instead.

        When the answer takes longer than `working_after` seconds, a 👀 reaction on the question shows
        that it is being worked on; it is removed once the reply is posted.
        """
        self.work.answer(
            lambda: self._answer_now(client, question, user, channel, message_ts, thread_ts),
            busy=lambda: self.post_busy(client, channel, thread_ts),
        )

    def _answer_now(
        self, client: WebClient, question: str, user: str, channel: str, message_ts: str, thread_ts: str | None
    ) -> None:
        if self.outside(client, channel):
            log.info("ignored a question in %s, shared with another organisation (slack.answer_external)", channel)
            return
        lock = threading.Lock()
        state = {"done": False, "reacted": False}

        def show_working() -> None:
            with lock:
                if not state["done"]:
                    state["reacted"] = self._react(client, "reactions_add", channel, message_ts)

        timer = threading.Timer(self.working_after, show_working)
        timer.daemon = True
        if self.working_after <= 0:
            show_working()
        else:
            timer.start()
        try:
            conversation = conversation_key(channel, thread_ts)
            reply = self.reply(question, user, channel, thread_ts, message_ts, conversation=conversation)
            self._post(client, channel, thread_ts, reply)
        finally:
            timer.cancel()
            with lock:
                state["done"] = True
            if state["reacted"]:
                self._react(client, "reactions_remove", channel, message_ts)

    def _ask(self, question: str, history: list[Turn]) -> Answer:
        with self._ask_lock:  # one question at a time through the model and the index
            return self.answerer.ask(question, history=history) if history else self.answerer.ask(question)

    def _turns(self, conversation: ConversationKey | None) -> list[Turn]:
        """The conversation's earlier turns; none when they cannot be read (the question is then read alone)."""
        if conversation is None or self.conversations is None:
            return []
        try:
            return self.conversations.turns(conversation)
        except Exception:
            log.exception("cannot read the conversation in %s; the question is read alone", conversation.channel)
            return []

    def _remember(self, conversation: ConversationKey | None, turn: Turn) -> None:
        if conversation is None or self.conversations is None:
            return
        try:
            self.conversations.add(conversation, turn)
        except Exception:  # the answer is still worth posting
            log.exception("could not store the conversation turn in channel %s", conversation.channel)

    def post(self, client: WebClient, channel: str, thread_ts: str | None, reply: Reply) -> None:
        """Post `reply` (and its continuations) where the question was asked; an apology if that fails."""
        self._post(client, channel, thread_ts, reply)

    def post_busy(self, client: WebClient, channel: str, thread_ts: str | None) -> None:
        """Tell the asker the answer queue is full."""
        self._post(client, channel, thread_ts, Reply(BUSY, notice_blocks(BUSY)))

    def _post(self, client: WebClient, channel: str, thread_ts: str | None, reply: Reply) -> None:
        try:
            posted = client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=reply.text,
                blocks=reply.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
            for blocks in reply.more:  # a long answer goes on in the thread, in order
                client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread_ts or posted.get("ts"),
                    text=CONTINUED,
                    blocks=blocks,
                    unfurl_links=False,
                    unfurl_media=False,
                )
            return
        except Exception as exc:
            log.warning("posting the answer failed in channel %s: %s", channel, slack_error(exc))
        try:  # never silent: the user at least learns that something went wrong
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=APOLOGY, blocks=notice_blocks(APOLOGY))
        except Exception as exc:
            log.error("posting the apology failed too in channel %s: %s", channel, slack_error(exc))

    @staticmethod
    def _react(client: WebClient, method: str, channel: str, ts: str) -> bool:
        try:
            getattr(client, method)(channel=channel, timestamp=ts, name=WORKING_REACTION)
            return True
        except Exception as exc:
            log.info("%s %s failed: %s", method, WORKING_REACTION, slack_error(exc))
        return False
