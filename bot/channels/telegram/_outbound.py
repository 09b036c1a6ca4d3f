"""Engine replies → Telegram messages: escaping, splitting, keyboards, careful sending.

The engine's text is plain; every character of it is HTML-escaped here, so nothing a
counsellor writes (or a person echoes back) can break the markup or inject a link.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    MaybeInaccessibleMessage,
    Message,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from ...engine import Button, OutMessage, Reply, split_text, utf16_len

log = logging.getLogger("kakekomi.telegram")
T = TypeVar("T")

TEXT_LIMIT = 4096  # sendMessage/editMessageText, after entity parsing
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes
PRESSED_MARK = "\n\n▶ "
DELETE_BATCH = 100  # deleteMessages takes 1-100 ids
# NetworkError/TimedOut on a send: try again after these pauses. A TimedOut request may
# already have been delivered, so a retry can show a message twice; for a frightened
# person a duplicate is better than silence. RetryAfter (429) is retried by AIORateLimiter.
RETRY_PAUSES = (0.5, 1.5)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    """Inline keyboard from the engine's button rows (callback_data = Button.data)."""
    if not rows:
        return None
    for row in rows:
        for button in row:
            size = len(button.data.encode())
            if not 1 <= size <= CALLBACK_DATA_LIMIT:
                # Telegram would refuse the whole message (BUTTON_DATA_INVALID).
                raise ValueError(f"button data must be 1-64 bytes, got {size}")
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows if row]
    )


class ReplySender:
    """Shows one engine reply in one private chat; the `send` the engine awaits.

    Never raises for Telegram errors: a failed message is logged by type and the rest
    still goes out, except after Forbidden (the person blocked the bot), which stops
    sending and sets `blocked` so the caller can erase their data.
    """

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        *,
        log_key: str = "-",
        pressed_message: MaybeInaccessibleMessage | None = None,
    ):
        self.bot = bot
        self.chat_id = chat_id
        self.log_key = log_key
        self.pressed_message = pressed_message
        self.blocked = False

    async def __call__(self, reply: Reply) -> list[int]:
        if reply.delete:
            await self.delete(reply.delete)
        message = self.pressed_message
        if reply.pressed and message is not None and message.message_id not in reply.delete:
            await self.mark_pressed(message, reply.pressed)
        sent: list[int] = []
        for out in reply.messages:
            if self.blocked:
                break
            sent.extend(await self.send(out))
        return sent

    async def send(self, out: OutMessage) -> list[int]:
        """One OutMessage: its text (split if long), then its document; buttons go last."""
        markup = keyboard(out.buttons)
        chunks = split_text(out.text, TEXT_LIMIT)
        caption = None
        if out.document is not None and len(chunks) == 1 and utf16_len(chunks[0]) <= CAPTION_LIMIT:
            caption, chunks = chunks[0], []
        if out.document is None and markup is not None and not chunks:
            log.error("reply with buttons but no text for %s: buttons dropped", self.log_key)
            markup = None
        ids: list[int] = []
        for number, chunk in enumerate(chunks, 1):
            last = number == len(chunks) and out.document is None
            sent = await self._attempt(
                self.bot.send_message,
                self.chat_id,
                html.escape(chunk),
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=markup if last else None,
            )
            if sent is None:
                if self.blocked:
                    return ids
                continue
            ids.append(sent.message_id)
        if out.document is not None:
            doc = out.document
            sent = await self._attempt(
                self.bot.send_document,
                self.chat_id,
                InputFile(doc.content, filename=doc.filename),
                caption=html.escape(caption) if caption else None,
                parse_mode=ParseMode.HTML if caption else None,
                reply_markup=markup,
            )
            if sent is not None:
                ids.append(sent.message_id)
        return ids

    async def delete(self, message_ids: list[int]) -> None:
        """Quick exit: delete these messages, best-effort (Telegram keeps some, see §1.4)."""
        ids = sorted({i for i in message_ids if isinstance(i, int) and i > 0})
        for start in range(0, len(ids), DELETE_BATCH):
            batch = ids[start : start + DELETE_BATCH]
            try:
                if len(batch) == 1:
                    await self._attempt(
                        self.bot.delete_message, self.chat_id, batch[0], strict=True
                    )
                else:  # deleteMessages skips ids it cannot delete
                    await self._attempt(self.bot.delete_messages, self.chat_id, batch, strict=True)
            except BadRequest as exc:  # e.g. older than 48 h, or already gone
                log.info("delete refused (%s) for %s", type(exc).__name__, self.log_key)
            if self.blocked:
                return

    async def mark_pressed(self, message: MaybeInaccessibleMessage, label: str) -> None:
        """Show on the old message which button was pressed, and take its buttons away."""
        if not isinstance(message, Message):  # InaccessibleMessage: too old to touch
            return
        text = message.text
        try:
            if text is not None:
                base = text.rsplit(PRESSED_MARK, 1)[0]  # pressed again: replace the mark
                marked = base + PRESSED_MARK + label
                if utf16_len(marked) <= TEXT_LIMIT:
                    await self._attempt(
                        self.bot.edit_message_text,
                        html.escape(marked),
                        chat_id=self.chat_id,
                        message_id=message.message_id,
                        parse_mode=ParseMode.HTML,
                        link_preview_options=NO_PREVIEW,
                        strict=True,
                    )
                    return
            await self._attempt(
                self.bot.edit_message_reply_markup,
                chat_id=self.chat_id,
                message_id=message.message_id,
                strict=True,
            )
        except BadRequest as exc:
            # "message is not modified" (a double tap) means it already shows the mark;
            # "message to edit not found" / "can't be edited": nothing to mark.
            if "not modified" not in str(exc).lower():
                log.info(
                    "could not mark pressed button (%s) for %s", type(exc).__name__, self.log_key
                )

    async def _attempt(
        self, call: Callable[..., Awaitable[T]], *args: Any, strict: bool = False, **kwargs: Any
    ) -> T | None:
        """Run one API call: retry network failures, note Forbidden; None if it failed.

        BadRequest is logged and swallowed, or raised when `strict` (edits and deletes,
        whose callers tell "not modified" or "already gone" apart).
        """
        what = getattr(call, "__name__", "call")
        for attempt in range(len(RETRY_PAUSES) + 1):
            try:
                return await call(*args, **kwargs)
            except Forbidden:
                self.blocked = True
                return None
            except BadRequest:  # a subclass of NetworkError: must come first
                if strict:
                    raise
                log.warning("%s refused for %s: BadRequest", what, self.log_key)
                return None
            except (TimedOut, NetworkError) as exc:
                if attempt == len(RETRY_PAUSES):
                    log.warning(
                        "%s failed for %s after %d attempts: %s",
                        what,
                        self.log_key,
                        attempt + 1,
                        type(exc).__name__,
                    )
                    return None
                await asyncio.sleep(RETRY_PAUSES[attempt])
            except RetryAfter:  # AIORateLimiter already waited and retried
                log.warning("%s still rate-limited for %s", what, self.log_key)
                return None
            except TelegramError as exc:
                log.warning("%s failed for %s: %s", what, self.log_key, type(exc).__name__)
                return None
        return None
