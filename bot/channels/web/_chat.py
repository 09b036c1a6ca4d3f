"""The web chat as a channel: form posts and JSON in, engine events; replies out as HTML.

A conversation is keyed by a random token (`secrets`, 256 bits) that lives only in the
page (hidden form fields) or the browser's sessionStorage; it is stored server-side under
``store.pseudonym("web", token)``, like every channel's ids. No cookie is ever set.

Every route answers with the security headers of `SECURITY_HEADERS` (the server adds them
to refusals too). No log line holds a text, a token or an address.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

from ...engine import COMMANDS, MAX_TEXT, Dialogue, Document, Event, Reply
from .._http import Answer, Request
from ._branding import Branding
from ._limits import RateLimiter
from ._page import Pages, Shown, shown, static_file

log = logging.getLogger("kakekomi.web")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
FORM_LIMIT = 64 * 1024  # bytes: a form or a JSON turn (4,000 characters is at most 16 KB)
TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
COMMAND = re.compile(r"[a-z_]{1,20}")
WEB_COMMANDS = frozenset(COMMANDS) | {"resume"}
MAX_WAIT = 5.0  # seconds a turn over its bucket may be held before it is answered
MEMO_KEEP = 15 * 60.0  # seconds a memo file can be downloaded after it was made
MEMO_MAX = 256  # memo files kept at most (the oldest goes first)


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 43 characters, 256 bits


class BadInput(Exception):
    """The request body cannot be read as a form or a JSON turn (answered 400)."""


@dataclass
class Turn:
    """One request's wish: who, in which language, doing what."""

    token: str | None
    lang: str | None
    event: str | None = None  # text | button | command
    value: str = ""


class WebChat:
    """The routes of the web chat under ``path`` (which starts and ends with "/")."""

    def __init__(
        self,
        dialogue: Dialogue,
        store: Any,
        branding: Branding,
        path: str = "/",
        *,
        token_limiter: RateLimiter | None = None,
        address_limiter: RateLimiter | None = None,
    ):
        self.dialogue = dialogue
        self.store = store
        self.content = dialogue.content
        self.branding = branding
        self.path = path
        self.pages = Pages(self.content, branding, path)
        self.per_token = (
            token_limiter if token_limiter is not None else RateLimiter(1.0, 10, queue=3)
        )
        # Many people can share one address (a school, a phone network): more room there.
        self.per_address = (
            address_limiter
            if address_limiter is not None
            else RateLimiter(rate=5.0, burst=50, queue=10)
        )
        self._memos: OrderedDict[str, tuple[float, Document]] = OrderedDict()
        self.refused = {"rate": 0, "bad": 0}

    # ---- routes ----------------------------------------------------------------------
    def routes(self) -> dict[str, Any]:
        p = self.path
        return {
            p: _Route(self._page, {"GET", "POST"}),
            f"{p}api/turn": _Route(self._api, {"POST"}),
            f"{p}memo": _Route(self._memo, {"POST"}),
            f"{p}about-exit": _Route(self._about, {"GET"}),
            f"{p}static/app.js": _Route(
                self._static("app.js", "text/javascript; charset=utf-8"), {"GET"}
            ),
            f"{p}static/app.css": _Route(
                self._static("app.css", "text/css; charset=utf-8"), {"GET"}
            ),
            f"{p}static/brand.css": _Route(self._brand, {"GET"}),
            "/healthz": _Route(self._health, {"GET"}),
        }

    # ---- the language ------------------------------------------------------------------
    def lang(self, wanted: str | None) -> str:
        langs = self.content.locales.languages
        return wanted if wanted in langs else self.dialogue.default_lang

    # ---- pages ---------------------------------------------------------------------------
    async def _page(self, request: Request, body: bytes) -> Answer:
        if request.method == "GET":
            query = _query(request.query)
            lang = self.lang(query.get("lang"))
            if not await self._allowed(request, Turn(None, lang)):
                return Answer(
                    429, self.pages.notice(lang, "web.too_many"), HTML, (("Retry-After", "2"),)
                )
            token = new_token()  # a GET never continues a conversation: no token in URLs
            replies, lang = await self._run(token, Turn(token, lang, "command", "start"))
            return Answer(
                200, self.pages.chat(token, lang, shown(replies, None, self.content, lang)), HTML
            )
        try:
            turn = _form_turn(request, body)
        except BadInput:
            self.refused["bad"] += 1
            return Answer(400, self.pages.notice(self.lang(None), "web.bad_request"), HTML)
        lang = self.lang(turn.lang)
        if not await self._allowed(request, turn):
            view = Shown(notice=self.pages.t(lang, "web.too_many"), again=True)
            return Answer(
                429,
                self.pages.chat(turn.token or new_token(), lang, view),
                HTML,
                (("Retry-After", "2"),),
            )
        if turn.event == "text" and len(turn.value) > MAX_TEXT:
            view = Shown(notice=self.pages.t(lang, "web.too_long"))
            return Answer(413, self.pages.chat(turn.token or new_token(), lang, view), HTML)
        token, me = self._token_and_me(turn)
        replies, lang = await self._run(token, turn)
        if _exited(replies):  # "end (clear the screen)": to the neutral site, as quick exit does
            return Answer(303, b"", HTML, (("Location", self.branding.exit_url),))
        if any(r.erased for r in replies):
            token = new_token()  # the old one names nothing now; start clean
        view = shown(replies, me(replies), self.content, lang)
        return Answer(200, self.pages.chat(token, lang, view), HTML)

    async def _api(self, request: Request, body: bytes) -> Answer:
        try:
            turn = _json_turn(body)
        except BadInput:
            self.refused["bad"] += 1
            return _json(
                400,
                {
                    "error": "bad_request",
                    "message": self.pages.t(self.lang(None), "web.bad_request"),
                },
            )
        lang = self.lang(turn.lang)
        if not await self._allowed(request, turn):
            return _json(
                429,
                {"error": "too_many", "message": self.pages.t(lang, "web.too_many")},
                (("Retry-After", "2"),),
            )
        if turn.event == "text" and len(turn.value) > MAX_TEXT:
            return _json(413, {"error": "too_long", "message": self.pages.t(lang, "web.too_long")})
        token, _ = self._token_and_me(turn)
        replies, lang = await self._run(token, turn)
        erased = any(r.erased for r in replies)
        if erased:
            token = new_token()
        messages: list[dict[str, Any]] = []
        for reply in replies:
            if reply.delete and not reply.messages:
                messages.append(
                    {
                        "text": self.pages.t(reply.lang, "engine.exit_done"),
                        "buttons": [],
                        "document": None,
                    }
                )
            for m in reply.messages:
                messages.append(
                    {
                        "text": m.text,
                        "buttons": [
                            [{"data": b.data, "label": b.label} for b in row] for row in m.buttons
                        ],
                        "document": {"filename": m.document.filename} if m.document else None,
                    }
                )
        pressed = next((r.pressed for r in replies if r.pressed), None)
        return _json(
            200,
            {
                "token": token,
                "lang": lang,
                "messages": messages,
                "exited": _exited(replies),
                "pressed": pressed,
                "erased": erased,
            },
        )

    async def _memo(self, request: Request, body: bytes) -> Answer:
        try:
            turn = _form_turn(request, body)
        except BadInput:
            return Answer(400, self.pages.notice(self.lang(None), "web.bad_request"), HTML)
        lang = self.lang(turn.lang)
        if not await self._allowed(request, turn):
            return Answer(
                429, self.pages.notice(lang, "web.too_many"), HTML, (("Retry-After", "2"),)
            )
        kept = self._memos.get(self._key(turn.token)) if turn.token else None
        if kept is None or kept[0] < time.monotonic():
            return Answer(404, self.pages.notice(lang, "web.memo_gone"), HTML)
        document = kept[1]
        name = document.filename
        ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "memo.txt"
        disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
        return Answer(
            200,
            document.content,
            "text/plain; charset=utf-8",
            (("Content-Disposition", disposition),),
        )

    async def _about(self, request: Request, body: bytes) -> Answer:
        return Answer(
            200, self.pages.about_exit(self.lang(_query(request.query).get("lang"))), HTML
        )

    def _static(self, name: str, kind: str):
        async def route(request: Request, body: bytes) -> Answer:
            return Answer(200, static_file(name), kind)

        return route

    async def _brand(self, request: Request, body: bytes) -> Answer:
        return Answer(200, self.pages.brand_css(), "text/css; charset=utf-8")

    async def _health(self, request: Request, body: bytes) -> Answer:
        return Answer(200, b"ok")

    # ---- turns -----------------------------------------------------------------------------
    def _key(self, token: str) -> str:
        return self.store.pseudonym("web", token)

    async def _allowed(self, request: Request, turn: Turn) -> bool:
        """Both buckets (address, token) give a turn; a quick clicker waits a moment first."""
        waits = [self.per_address.wait(request.peer)]
        if turn.token:
            waits.append(self.per_token.wait(self._key(turn.token)))
        if any(w is None for w in waits):
            self.refused["rate"] += 1
            if self.refused["rate"] % 100 == 1:
                log.warning("rate limit reached (%d refusals so far)", self.refused["rate"])
            return False
        delay = max(w or 0.0 for w in waits)
        if delay > 0:
            await asyncio.sleep(min(delay, MAX_WAIT))
        return True

    def _token_and_me(self, turn: Turn):
        """The token to use (a new one when missing or misshapen) and who said what."""
        if turn.token is None:
            turn.event, turn.value = "command", "start"
            return new_token(), lambda replies: None
        if turn.event == "text":
            return turn.token, lambda replies: turn.value
        if turn.event == "button":
            return turn.token, lambda replies: next((r.pressed for r in replies if r.pressed), None)
        if turn.event == "command":
            return turn.token, lambda replies: f"/{turn.value}"
        turn.event, turn.value = "command", "resume"
        return turn.token, lambda replies: None

    async def _run(self, token: str, turn: Turn) -> tuple[list[Reply], str]:
        key = self._key(token)
        lang = self.lang(turn.lang)
        if turn.event == "text":
            event = Event.text(turn.value, lang_hint=lang)
        elif turn.event == "button":
            event = Event.button(turn.value, lang_hint=lang)
        else:
            event = Event.command(turn.value or "start", lang_hint=lang)
        replies: list[Reply] = []

        async def send(reply: Reply) -> list[int]:
            replies.append(reply)
            return []

        await self.dialogue.handle(key, event, send)
        for reply in replies:
            if reply.erased:
                self._memos.pop(key, None)
            for message in reply.messages:
                if message.document is not None:
                    self._keep_memo(key, message.document)
        return replies, (replies[-1].lang if replies else lang)

    def _keep_memo(self, key: str, document: Document) -> None:
        self._memos.pop(key, None)
        self._memos[key] = (time.monotonic() + MEMO_KEEP, document)
        now = time.monotonic()
        while self._memos and (
            len(self._memos) > MEMO_MAX or next(iter(self._memos.values()))[0] < now
        ):
            self._memos.popitem(last=False)


class _Route:
    """An `Endpoint` of HardenedServer that wants the whole request (``handle``)."""

    max_body_bytes = FORM_LIMIT

    def __init__(self, handler, methods: set[str]):
        self.handle = handler
        self.methods = frozenset(methods)

    def admit(self, headers) -> Answer | None:
        return None

    async def respond(self, body: bytes, headers) -> Answer:  # pragma: no cover - handle is used
        return Answer(500)


def _exited(replies: list[Reply]) -> bool:
    """The person chose to end and clear the screen (the engine's quick exit)."""
    return any(getattr(r, "exited", False) or (r.delete and not r.messages) for r in replies)


def _json(status: int, data: dict[str, Any], headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    return Answer(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), JSON, headers)


def _query(query: str) -> dict[str, str]:
    try:
        pairs = parse_qs(query, max_num_fields=10, errors="strict")
    except (ValueError, UnicodeDecodeError):
        return {}
    return {k: v[0] for k, v in pairs.items() if v}


def _valid_token(value: object) -> str | None:
    return value if isinstance(value, str) and TOKEN.fullmatch(value) else None


def _turn(fields: dict[str, Any]) -> Turn:
    lang = fields.get("lang")
    turn = Turn(_valid_token(fields.get("token")), lang if isinstance(lang, str) else None)
    for kind in ("command", "button", "text"):
        value = fields.get(kind)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadInput(kind)
        if kind == "command":
            name = value.strip().lstrip("/").lower()
            if not COMMAND.fullmatch(name) or name not in WEB_COMMANDS:
                raise BadInput(kind)
            value = name
        elif kind == "button" and (not value or len(value.encode("utf-8")) > 64):
            raise BadInput(kind)
        elif kind == "text" and not value.strip():
            continue  # an empty box: just show where they are
        turn.event, turn.value = kind, value
        break
    return turn


def _form_turn(request: Request, body: bytes) -> Turn:
    kind = request.headers.get("Content-Type", "application/x-www-form-urlencoded")
    if not kind.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        raise BadInput("content type")
    try:
        pairs = parse_qs(
            body.decode("utf-8"), max_num_fields=20, errors="strict", keep_blank_values=True
        )
    except (ValueError, UnicodeDecodeError):
        raise BadInput("form") from None
    return _turn({k: v[0] for k, v in pairs.items()})


def _json_turn(body: bytes) -> Turn:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise BadInput("json") from None
    if not isinstance(data, dict):
        raise BadInput("json")
    return _turn(data)
