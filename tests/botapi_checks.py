"""The Bot API's input rules, as the loopback stand-in enforces them.

Kept apart from the server so the rules read as a list: each check raises
`ApiError` with the status and description the real server sends, so a bot
that breaks a limit fails in tests the way it would fail in production.
Sources: /work/shared/reference/telegram-bot-api.md §1.1, §1.12, §3.3.
"""

from __future__ import annotations

import html
import re
from typing import Any

TEXT_MAX = 4096
CAPTION_MAX = 1024
CALLBACK_DATA_MAX_BYTES = 64
CALLBACK_ANSWER_TEXT_MAX = 200
KEYBOARD_MAX_BUTTONS = 100
COMMANDS_MAX = 100
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")

# Fields PTB JSON-encodes into form fields (everything that is not a str).
# A field absent here stays a string, so a text "123" is never turned into 123.
JSON_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "message_ids",
        "user_id",
        "reply_markup",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "entities",
        "caption_entities",
        "timeout",
        "offset",
        "limit",
        "allowed_updates",
        "show_alert",
        "cache_time",
        "disable_notification",
        "protect_content",
        "max_connections",
        "drop_pending_updates",
        "disable_content_type_detection",
        "revoke_messages",
    }
)

_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "blockquote",
    }
)
_HTML_TOKEN = re.compile(
    r"<(?P<close>/?)(?P<tag>[a-zA-Z][a-zA-Z0-9-]*)(?P<attrs>[^<>]*)>"
    r"|&(?P<entity>lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);"
    r"|(?P<stray>[<>&])"
)


class ApiError(Exception):
    """A Bot API error reply: HTTP status = error_code, as the real server does."""

    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


def utf16_len(text: str) -> int:
    """Length as Telegram counts entity offsets (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text a person sees: HTML tags removed and entities decoded.

    Only HTML is checked strictly (a stray `<`, `>` or `&`, an unknown or unclosed tag
    fails like the real server's "can't parse entities"); other modes pass through.
    """
    if (parse_mode or "").upper() != "HTML":
        return text
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in _HTML_TOKEN.finditer(text):
        out.append(text[pos : m.start()])
        pos = m.end()
        offset = len(text[: m.start()].encode())
        if m.group("stray"):
            raise bad_request(
                f"can't parse entities: unexpected {m.group('stray')!r} at byte offset {offset}"
            )
        if m.group("entity"):
            out.append(html.unescape(m.group(0)))
            continue
        tag = m.group("tag").lower()
        if tag not in _HTML_TAGS:
            raise bad_request(
                f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset {offset}'
            )
        if m.group("close"):
            if not stack or stack.pop() != tag:
                raise bad_request(
                    f"can't parse entities: Unmatched end tag at byte offset {offset}"
                )
        else:
            stack.append(tag)
    out.append(text[pos:])
    if stack:
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(out)


def check_text(text: Any, parse_mode: str | None) -> str:
    """sendMessage/editMessageText text: 1-4096 after entity parsing (counted in UTF-16)."""
    if not isinstance(text, str) or not text.strip():
        raise bad_request("message text is empty")
    plain = visible_text(text, parse_mode)
    if not plain.strip():
        raise bad_request("message text is empty")
    if utf16_len(plain) > TEXT_MAX:
        raise bad_request("message is too long")
    return plain


def check_caption(caption: Any, parse_mode: str | None) -> str | None:
    if caption is None or caption == "":
        return None
    plain = visible_text(str(caption), parse_mode)
    if utf16_len(plain) > CAPTION_MAX:
        raise bad_request("message caption is too long")
    return plain


def check_reply_markup(markup: Any) -> dict | None:
    """Inline keyboards only: non-empty labels, callback_data 1-64 UTF-8 bytes, ≤100 buttons."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup  # reply keyboards etc.: not used by kakekomi, accepted as-is
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    count = 0
    for row in rows:
        for button in row:
            count += 1
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            data = button.get("callback_data")
            if data is not None:
                size = len(str(data).encode())
                if not 1 <= size <= CALLBACK_DATA_MAX_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
            elif not any(k in button for k in ("url", "switch_inline_query", "copy_text")):
                raise bad_request('can\'t find field "callback_data"')
    if count > KEYBOARD_MAX_BUTTONS:
        raise bad_request("reply markup is too long")
    return markup


def check_commands(commands: Any, language_code: Any) -> list[dict]:
    if not isinstance(commands, list) or len(commands) > COMMANDS_MAX:
        raise bad_request("commands must be a list of at most 100 BotCommand")
    for command in commands:
        name = command.get("command", "") if isinstance(command, dict) else ""
        if not COMMAND_RE.match(name):
            raise bad_request("BOT_COMMAND_INVALID")
        description = str(command.get("description", ""))
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    if language_code not in (None, "") and not re.fullmatch(r"[a-z]{2}", str(language_code)):
        raise bad_request("invalid language code specified")
    return commands


def check_callback_answer_text(text: Any) -> None:
    if text is not None and len(str(text)) > CALLBACK_ANSWER_TEXT_MAX:
        raise bad_request("MESSAGE_TOO_LONG")
