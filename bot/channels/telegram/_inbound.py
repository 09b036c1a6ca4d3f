"""Telegram updates → engine events, one person at a time.

What arrives is untrusted: callback data can be forged (the engine shows the person
where they are), media is never downloaded, and group chats are never processed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import CallbackQuery, ChatMemberUpdated, Message, Update
from telegram.constants import ChatMemberStatus, ChatType, MessageEntityType
from telegram.error import TelegramError
from telegram.ext import BaseUpdateProcessor, ContextTypes

from storage import ConversationStore, StorageError

from ...engine import Dialogue, Event
from ._outbound import NO_PREVIEW, ReplySender

log = logging.getLogger("kakekomi.telegram")

CHANNEL = "telegram"  # the namespace of pseudonyms and seen update ids
ANSWERS_AT_ONCE = 64  # button-press answers in flight at once (see TelegramInbound)
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
# Media the engine answers with "deleted for your safety"; checked in this order because
# a GIF arrives as both `animation` and `document`.
_MEDIA = ("animation", "photo", "video", "video_note", "voice", "audio", "document")


def lang_hint(update: Update, locales: Any) -> str | None:
    """The language serving the Telegram app's language (locales' `lang.serves`), or None.

    A hint for new people only; `locales` is the content's Locales.
    """
    user = update.effective_user
    language_for: Callable[[str | None], str | None] = locales.language_for
    return language_for(user.language_code if user else None)


def media_kind(message: Message) -> str | None:
    """The engine's media kind of a message that is not text; None for service messages."""
    for kind in _MEDIA:
        if getattr(message, kind):
            return kind
    if message.sticker:
        return "sticker"
    if message.effective_attachment is not None:  # contact, location, poll, dice, ...
        return "other"
    return None


def message_event(message: Message, hint: str | None) -> Event | None:
    """Text, /command or media; captions are never read."""
    text = message.text
    if text is not None:
        entity = message.entities[0] if message.entities else None
        if (
            entity is not None
            and entity.type == MessageEntityType.BOT_COMMAND
            and entity.offset == 0
        ):
            name = text[1 : entity.length].split("@", 1)[0].lower()
            if _COMMAND.match(name):
                arg = text[entity.length :].strip() or None
                return Event.command(name, arg, message_id=message.message_id, lang_hint=hint)
        return Event.text(text, message_id=message.message_id, lang_hint=hint)
    kind = media_kind(message)
    if kind is None:
        return None
    return Event.media(kind, message_id=message.message_id, lang_hint=hint)


def person_of(update: object) -> int | None:
    if isinstance(update, Update):
        user = update.effective_user
        if user is not None:
            return user.id
        chat = update.effective_chat
        return chat.id if chat is not None else None
    return None


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    """Different people's updates run concurrently; one person's run one by one, in order.

    Why not `concurrent_updates(True)` and the engine's per-conversation lock alone:
    the lock is taken inside `dialogue.handle`, after awaits of our own (seen_update,
    deleting a photo), so two quick updates of one person could reach the engine out of
    order. Here the order is fixed synchronously on arrival.

    Only the handling itself holds one of the `max_concurrent_updates` slots. `on_arrival`
    (it answers button presses) and waiting for the person's earlier updates happen
    before a slot is taken: one person's backlog of messages never holds slots that
    others need, and a press is acknowledged even while thousands of updates queue.
    """

    def __init__(
        self,
        max_concurrent_updates: int = 128,
        *,
        on_arrival: Callable[[object], Awaitable[None]] | None = None,
    ):
        super().__init__(max_concurrent_updates)
        self._tails: dict[int, asyncio.Future[None]] = {}
        self._on_arrival = on_arrival
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Updates arrived and not finished: being answered, waiting their turn, or handled."""
        return self._in_flight

    # PTB marks process_update final (subclasses are meant to override do_process_update),
    # but the person's order must be fixed here, synchronously on arrival, before the base
    # class takes a slot; the base class's process_update is still what runs the handling.
    async def process_update(  # type: ignore[misc]
        self, update: object, coroutine: Awaitable[Any]
    ) -> None:
        person = person_of(update)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        previous = self._tails.get(person) if person is not None else None
        if person is not None:
            self._tails[person] = done  # taken before the first await: arrival order
        started = False

        async def handle() -> None:
            nonlocal started
            started = True
            await coroutine

        handling = handle()
        self._in_flight += 1
        try:
            if self._on_arrival is not None:
                await self._on_arrival(update)
            if previous is not None:
                await asyncio.wait([previous])  # never cancels the predecessor
            # The base class takes one of the max_concurrent_updates slots, then calls
            # do_process_update: public API only, and current_concurrent_updates stays true.
            await super().process_update(update, handling)
        finally:
            self._in_flight -= 1
            if not started:
                handling.close()
                if hasattr(coroutine, "close"):
                    coroutine.close()  # type: ignore[attr-defined]
            done.set_result(None)
            if person is not None and self._tails.get(person) is done:
                del self._tails[person]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


class TelegramInbound:
    """The handlers: private chats go to the engine, everything else is turned away."""

    def __init__(self, dialogue: Dialogue, store: ConversationStore):
        self.dialogue = dialogue
        self.store = store
        self.locales = dialogue.content.locales
        self._turned_away: set[int] = set()  # group chats already told and left
        # Answering presses comes before handling them: Telegram wants an answer within
        # seconds. At most ANSWERS_AT_ONCE are in flight (with the handling slots this
        # stays under the HTTP pool's 256 connections, past which httpcore re-scans its
        # whole queue for every request); while more wait, handling pauses.
        self._answering = asyncio.Semaphore(ANSWERS_AT_ONCE)
        self._unanswered = 0
        self._answers_caught_up = asyncio.Event()
        self._answers_caught_up.set()

    def key_of(self, user_id: int) -> str:
        return self.store.pseudonym(CHANNEL, str(user_id))

    async def answer_callback(self, update: object) -> None:
        """First thing for a button press: stop the spinner (answers are due in seconds)."""
        if not isinstance(update, Update) or update.callback_query is None:
            return
        self._unanswered += 1
        if self._unanswered > ANSWERS_AT_ONCE:
            self._answers_caught_up.clear()
        try:
            async with self._answering:
                await update.callback_query.answer()
        except TelegramError as exc:  # too old, already answered, network: never fatal
            log.info(
                "callback answer failed: %s (update_id=%s)", type(exc).__name__, update.update_id
            )
        finally:
            self._unanswered -= 1
            if self._unanswered <= ANSWERS_AT_ONCE:
                self._answers_caught_up.set()

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._answers_caught_up.wait()  # a surge of presses: acknowledge them first
        if update.my_chat_member is not None:
            await self._membership(update, update.my_chat_member)
            return
        chat, user = update.effective_chat, update.effective_user
        if chat is None:
            return
        if chat.type != ChatType.PRIVATE:
            await self._turn_away(update, chat.id, chat.type)
            return
        if user is None or user.is_bot:
            return
        hint = lang_hint(update, self.locales)
        query: CallbackQuery | None = update.callback_query
        if query is not None:
            if query.data is None:  # game buttons: not ours
                return
            event: Event | None = Event.button(query.data, lang_hint=hint)
        elif update.message is not None:
            event = message_event(update.message, hint)
        else:
            return
        if event is None:  # service message (e.g. auto-delete timer changed)
            return
        key = self.key_of(user.id)
        if not await self._first_delivery(update.update_id, key):
            return
        send = ReplySender(
            context.bot,
            chat.id,
            log_key=key[:8],
            pressed_message=query.message if query is not None else None,
        )
        if event.kind == "media" and event.value != "sticker" and update.message is not None:
            await send.delete([update.message.message_id])  # never fetched, now gone
        if not send.blocked:
            await self.dialogue.handle(key, event, send)
        if send.blocked:
            # After handle() returns: erasing inside it would race the engine's own save.
            await self.dialogue.blocked(key)
            log.info("person blocked the bot; data erased for %s", key[:8])

    async def _first_delivery(self, update_id: int, key: str) -> bool:
        """False for an update already handled (Telegram redelivers after a crash)."""
        try:
            return await self.store.seen_update(CHANNEL, update_id)
        except StorageError as exc:  # better twice than never; the engine apologises
            log.warning("seen_update failed: %s for %s", type(exc).__name__, key[:8])
            return True

    async def _membership(self, update: Update, change: ChatMemberUpdated) -> None:
        status = change.new_chat_member.status
        if change.chat.type == ChatType.PRIVATE:
            # In private chats this update only says blocked (kicked) or unblocked.
            if status == ChatMemberStatus.BANNED:
                key = self.key_of(change.from_user.id)
                await self.dialogue.blocked(key)
                log.info("person blocked the bot; data erased for %s", key[:8])
            return
        if status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR):
            await self._turn_away(update, change.chat.id, change.chat.type)

    async def _turn_away(self, update: Update, chat_id: int, chat_type: str) -> None:
        """Groups and channels: say once that the bot is one-to-one only, then leave.

        Nothing written in a group ever reaches the engine or the store.
        """
        bot = update.get_bot()
        first_time = chat_id not in self._turned_away  # else a burst queued before leaving
        if len(self._turned_away) > 10_000:
            self._turned_away.clear()
        self._turned_away.add(chat_id)
        if first_time and chat_type != ChatType.CHANNEL:
            lang = lang_hint(update, self.locales) or self.dialogue.default_lang
            text = self.locales.text(lang, "engine.private_only")
            try:
                await bot.send_message(chat_id, text, link_preview_options=NO_PREVIEW)
            except TelegramError as exc:
                log.info("private_only notice failed: %s", type(exc).__name__)
        try:
            await bot.leave_chat(chat_id)
        except TelegramError as exc:
            log.info("leaving a group failed: %s", type(exc).__name__)
