"""The web chat of `kakekomi serve` (issue 17), through a real server on 127.0.0.1.

No browser here (tests/browser/ drives Chromium): these tests post forms and JSON the way
a browser without JavaScript, or app.js, would, against real SQLite, and read the pages
and headers that come back.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from bot.channels._http import HardenedServer, HttpLimits
from bot.channels.web import SECURITY_HEADERS, RateLimiter, WebChat, load_branding
from bot.content import load_content
from bot.engine import Dialogue
from storage import SqliteStore
from tests.telegram_fixtures import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "4b7d9f1a3c5e7082a4c6e8f0b2d4f6a81c3e5f7092b4d6f8a0c2e4f61357924b"
GUARD = 30.0  # seconds: a hang guard only, never what is asserted
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@pytest.fixture(scope="module")
def content():
    return load_content(ROOT)


class Page(HTMLParser):
    """What a person sees on a chat page: bot messages, own messages, buttons, the token."""

    def __init__(self, html: str):
        super().__init__()
        self.bot: list[str] = []
        self.me: list[str] = []
        self.buttons: list[tuple[str, str]] = []  # (data, label)
        self.tokens: set[str] = set()
        self.forms: list[dict[str, str]] = []
        self.html_lang = ""
        self.memo_form = False
        self._in: str | None = None
        self._button: str | None = None
        self._text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "html":
            self.html_lang = a.get("lang", "")
        if tag == "form":
            self.forms.append(a)
            if a.get("id") == "memo-form":
                self.memo_form = True
        if tag == "div" and "msg" in classes:
            self._in, self._text = ("bot" if "bot" in classes else "me"), ""
        if tag == "button" and "choice" in classes:
            self._button, self._text = a.get("value"), ""
        if tag == "input" and a.get("name") == "token":
            self.tokens.add(a.get("value") or "")

    def handle_data(self, data):
        if self._in or self._button is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "div" and self._in:
            (self.bot if self._in == "bot" else self.me).append(self._text)
            self._in = None
        if tag == "button" and self._button is not None:
            self.buttons.append((self._button, self._text))
            self._button = None

    @property
    def token(self) -> str:
        assert len(self.tokens) == 1, self.tokens
        return next(iter(self.tokens))

    def button(self, label: str) -> str:
        for data, shown in self.buttons:
            if shown == label:
                return data
        raise AssertionError(f"no button {label!r} in {self.buttons}")


class Site:
    """A running web chat: the real engine and content, SQLite in a temporary folder."""

    def __init__(self, chat: WebChat, server: HardenedServer, port: int, store: SqliteStore):
        self.chat, self.server, self.port, self.store = chat, server, port, store
        self.url = f"http://127.0.0.1:{port}/"
        self.http = httpx.AsyncClient(base_url=self.url, timeout=GUARD)

    def t(self, lang: str, key: str) -> str:
        return self.chat.content.locales.text(lang, key)

    async def open(self, query: str = "") -> Page:
        response = await self.http.get("/" + query)
        assert response.status_code == 200
        return Page(response.text)

    async def post(self, **form: str) -> httpx.Response:
        return await self.http.post("/", data=form)

    async def press(self, page: Page, label: str, lang: str = "ja") -> Page:
        response = await self.post(token=page.token, lang=lang, button=page.button(label))
        assert response.status_code == 200
        return Page(response.text)


async def _site(tmp_path, content, **limits) -> Site:
    store = await SqliteStore.open(tmp_path / "kakekomi.sqlite3", secret=SECRET.encode())
    dialogue = Dialogue(content, store)
    chat = WebChat(dialogue, store, load_branding(content.root), "/", **limits)
    server = HardenedServer(chat.routes(), HttpLimits(), headers=SECURITY_HEADERS)
    port = free_port()
    server.listen(port, address="127.0.0.1")
    return Site(chat, server, port, store)


@pytest.fixture
async def site(tmp_path, content):
    running = await _site(tmp_path, content)
    yield running
    await running.http.aclose()
    await running.server.close()
    await running.store.close()


def _assert_safe_headers(response: httpx.Response) -> None:
    assert response.headers["Content-Security-Policy"] == CSP
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "set-cookie" not in response.headers


# ---- pages and headers --------------------------------------------------------------------
async def test_every_answer_carries_the_privacy_headers_and_never_a_cookie(site):
    answers = [
        await site.http.get("/"),
        await site.http.get("/?lang=en"),
        await site.http.get("/about-exit"),
        await site.http.get("/static/app.js"),
        await site.http.get("/static/app.css"),
        await site.http.get("/static/brand.css"),
        await site.http.get("/healthz"),
        await site.http.get("/no-such-page"),  # 404, refused before any body
        await site.http.delete("/"),  # 405
        await site.http.post("/api/turn", content=b"{"),  # 400
    ]
    assert [r.status_code for r in answers] == [200] * 7 + [404, 405, 400]
    for response in answers:
        _assert_safe_headers(response)
    assert not site.http.cookies


async def test_the_page_is_japanese_first_with_a_neutral_title_and_english_on_request(site):
    ja = (await site.http.get("/")).text
    assert '<html lang="ja">' in ja
    assert f"<title>{site.t('ja', 'web.title')}</title>" in ja
    en = (await site.http.get("/?lang=en")).text
    assert '<html lang="en">' in en
    assert f"<title>{site.t('en', 'web.title')}</title>" in en
    for text in (ja, en):
        title = re.search(r"<title>(.*?)</title>", text).group(1)
        assert not re.search(r"画像|脅|image|threat|nude|sex", title, re.I)
        assert '<div id="log" role="log" aria-live="polite"' in text
        assert '<textarea id="say" name="text" maxlength="4000"' in text
        assert 'id="exit"' in text and 'rel="noreferrer"' in text
        assert '<meta name="kakekomi-exit" content="https://' in text
        assert '<a id="exit-info" href="/about-exit' in text
        assert 'id="forget" name="command" value="forget"' in text
        assert "<script>" not in text and "style=" not in text  # nothing inline (CSP)
        assert "http://" not in text  # no third-party resource of any kind
    assert Page(en).bot and site.t("en", "web.send") in en


async def test_healthz_says_ok_and_nothing_else(site):
    response = await site.http.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")


async def test_the_note_on_quick_exit_says_what_it_does_not_hide(site):
    response = await site.http.get("/about-exit?lang=en")
    assert response.status_code == 200
    assert "history" in response.text and "spyware" in response.text
    assert "private" in response.text


# ---- a conversation by form posts alone (no JavaScript) -----------------------------------
async def test_a_threatened_person_walks_the_triage_by_form_posts_alone(site):
    page = await site.open()
    assert site.t("ja", "menu.threatened") in [label for _, label in page.buttons]
    first_token = page.token
    assert len(first_token) >= 22  # at least 128 bits of token_urlsafe
    assert all("token" not in (form.get("action") or "") for form in page.forms)
    page = await site.press(page, site.t("ja", "menu.threatened"))
    assert page.me == [site.t("ja", "menu.threatened")]
    assert page.token == first_token
    page = await site.press(page, site.t("ja", "after.danger.no"))
    page = await site.press(page, site.t("ja", "after.age.under18"))
    shown = "\n".join(page.bot)
    # The "do not" list for someone under 18 (never the adult wording) comes next.
    assert site.t("ja", "after.threat.dont_minor").splitlines()[0] in shown
    assert page.buttons  # and the way on
    # The conversation is stored under the pseudonym of the token, never the token itself.
    assert await site.store.load(site.store.pseudonym("web", first_token)) is not None


async def test_a_post_without_a_valid_token_starts_a_new_conversation(site):
    for token in ("", "short", "x" * 200, "<script>"):
        response = await site.post(token=token, lang="en", button="1.1")
        assert response.status_code == 200
        page = Page(response.text)
        assert page.html_lang == "en"
        assert page.token != token and len(page.token) >= 22
        assert site.t("en", "menu.threatened") in [label for _, label in page.buttons]


async def test_html_typed_into_the_chat_comes_back_escaped(site):
    page = await site.open()
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'"
    response = await site.post(token=page.token, lang="ja", text=evil)
    assert response.status_code == 200
    assert "<script>alert" not in response.text and "<img" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert Page(response.text).me == [evil]


async def test_the_json_turn_answers_messages_and_buttons_for_app_js(site):
    page = await site.open()
    response = await site.http.post(
        "/api/turn",
        json={
            "token": page.token,
            "lang": "ja",
            "button": page.button(site.t("ja", "menu.threatened")),
        },
    )
    assert response.status_code == 200
    _assert_safe_headers(response)
    data = response.json()
    assert data["token"] == page.token and data["lang"] == "ja"
    assert data["messages"] and all(
        set(m) >= {"text", "buttons", "document"} for m in data["messages"]
    )
    labels = [b["label"] for m in data["messages"] for row in m["buttons"] for b in row]
    assert site.t("ja", "after.danger.no") in labels


async def test_the_memo_downloads_as_a_file(site):
    page = await site.open("?lang=en")
    token = page.token
    page = Page((await site.post(token=token, lang="en", command="memo")).text)
    page = await site.press(page, site.t("en", "memo.btn.start"), "en")
    page = Page((await site.post(token=token, lang="en", text="Instagram")).text)
    page = Page((await site.post(token=token, lang="en", command="memo")).text)
    page = await site.press(page, site.t("en", "memo.btn.overview"), "en")
    assert not page.memo_form
    page = await site.press(page, site.t("en", "memo.btn.file"), "en")
    assert page.memo_form  # the page offers the download
    response = await site.http.post("/memo", data={"token": token, "lang": "en"})
    assert response.status_code == 200
    _assert_safe_headers(response)
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "Instagram" in response.content.decode("utf-8")
    # Someone else's token gets no memo.
    other = await site.http.post("/memo", data={"token": "A" * 43, "lang": "en"})
    assert other.status_code == 404 and "Instagram" not in other.text


async def test_delete_this_conversation_asks_then_erases_everything(site):
    page = await site.open("?lang=en")
    token = page.token
    page = await site.press(page, site.t("en", "menu.threatened"), "en")
    key = site.store.pseudonym("web", token)
    assert await site.store.load(key) is not None
    page = Page((await site.post(token=token, lang="en", command="forget")).text)
    assert site.t("en", "engine.forget.confirm").splitlines()[0] in "\n".join(page.bot)
    yes = page.buttons[0][1]
    page = await site.press(page, yes, "en")
    assert await site.store.load(key) is None
    assert page.token != token  # the old token names nothing any more


# ---- abuse and bad input -------------------------------------------------------------------
async def test_too_many_turns_from_one_token_get_a_clear_429(tmp_path, content):
    site = await _site(tmp_path, content, token_limiter=RateLimiter(rate=0.001, burst=3))
    try:
        page = await site.open()
        answers = [await site.post(token=page.token, lang="en", command="help") for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert site.t("en", "web.too_many") in answers[-1].text
        _assert_safe_headers(answers[-1])
        api = await site.http.post("/api/turn", json={"token": page.token, "text": "hi"})
        assert api.status_code == 429 and api.json()["message"] == site.t("ja", "web.too_many")
        # Someone else is not held back by it.
        other = await site.open()
        assert (await site.post(token=other.token, lang="en", command="help")).status_code == 200
    finally:
        await site.http.aclose()
        await site.server.close()
        await site.store.close()


def test_the_rate_limiter_forgets_the_quietest_keys_first():
    now = [0.0]
    limiter = RateLimiter(rate=1.0, burst=2, max_keys=3, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    now[0] += 1.0
    assert limiter.allow("a") and not limiter.allow("a")  # one turn a second comes back
    for key in "bcde":
        limiter.allow(key)
    assert len(limiter) == 3


async def test_an_oversized_form_is_refused_413_before_it_is_read(site):
    response = await site.http.post(
        "/",
        content=b"text=" + b"a" * (70 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    _assert_safe_headers(response)


async def test_text_longer_than_telegram_allows_is_refused_with_a_clear_message(site):
    page = await site.open("?lang=en")
    response = await site.post(token=page.token, lang="en", text="a" * 5000)
    assert response.status_code == 413
    assert site.t("en", "web.too_long") in response.text


@pytest.mark.parametrize(
    ("path", "body", "kind"),
    [
        ("/", b"token=%ff%fe&text=x", "application/x-www-form-urlencoded"),  # not UTF-8
        ("/", b"\xff\xfe", "application/x-www-form-urlencoded"),
        ("/", b'{"text": "hi"}', "application/json"),  # a form route is sent JSON
        ("/", b"command=rm%20-rf", "application/x-www-form-urlencoded"),  # no such command
        ("/api/turn", b"not json", "application/json"),
        ("/api/turn", b"[1, 2]", "application/json"),
        ("/api/turn", b'{"text": 5}', "application/json"),
        ("/api/turn", b"[" * 100_00, "application/json"),
    ],
)
async def test_malformed_input_gets_400_and_a_short_page_never_a_traceback(site, path, body, kind):
    response = await site.http.post(path, content=body, headers={"Content-Type": kind})
    assert response.status_code == 400
    _assert_safe_headers(response)
    assert "Traceback" not in response.text and len(response.content) < 4000


async def test_the_server_logs_no_text_token_or_address(site, caplog):
    caplog.set_level("DEBUG")  # the server's own loggers; the test's client logs URLs
    page = await site.open()
    secret_words = "私の名前はさくらです"
    await site.post(token=page.token, lang="ja", text=secret_words)
    await site.http.post("/api/turn", content=b"nonsense")
    ours = [r for r in caplog.records if r.name.startswith(("kakekomi", "tornado", "bot"))]
    logged = "\n".join(r.getMessage() for r in ours)
    assert secret_words not in logged and page.token not in logged and "127.0.0.1" not in logged


# ---- kakekomi serve as a real process ---------------------------------------------------------
def test_kakekomi_serve_prints_one_line_answers_and_stops_on_sigterm(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAKEKOMI_", "TELEGRAM_"))}
    env.update(KAKEKOMI_DATA=str(tmp_path / "data"), KAKEKOMI_SECRET=SECRET)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"kakekomi: web chat on http://127.0.0.1:{port}/"), line
        assert "Telegram off" in line
        response = httpx.get(f"http://127.0.0.1:{port}/", timeout=GUARD)
        assert response.status_code == 200 and 'id="log"' in response.text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=GUARD) == 0
        assert proc.stdout.read() == ""  # one line, nothing more
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_bad_web_port_stops_serve_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAKEKOMI_", "TELEGRAM_"))}
    env.update(KAKEKOMI_DATA=str(tmp_path / "data"), KAKEKOMI_WEB_PORT="99999")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=GUARD,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "KAKEKOMI_WEB_PORT" in result.stderr


def test_web_yaml_branding_is_checked_with_file_and_line(tmp_path):
    from bot import ContentError

    (tmp_path / "web.yaml").write_text(
        "organisation: 相談室\naccent: red\nexit_url: http://example.org/\n", encoding="utf-8"
    )
    with pytest.raises(ContentError) as caught:
        load_branding(tmp_path)
    where = sorted((p.line, p.message.split(":")[0]) for p in caught.value.problems)
    assert where == [(2, "'accent'"), (3, "'exit_url'")]
    (tmp_path / "web.yaml").write_text(
        "organisation: 相談室\naccent: '#123456'\nexit_url: https://example.org/\n"
        "title: {ja: 相談室, en: Help desk}\n",
        encoding="utf-8",
    )
    branding = load_branding(tmp_path, {"jp"})
    assert (branding.accent, branding.exit_url, branding.title["en"]) == (
        "#123456",
        "https://example.org/",
        "Help desk",
    )


async def test_serve_also_takes_telegram_webhook_updates_when_they_are_set_up(tmp_path):
    from tests.botapi_stub import BotApiStub
    from tests.telegram_fixtures import ALICE

    hook_secret = "webhook-secret_0123456789"
    async with BotApiStub() as stub:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KAKEKOMI_", "TELEGRAM_"))}
        env.update(
            KAKEKOMI_DATA=str(tmp_path / "data"),
            KAKEKOMI_SECRET=SECRET,
            TELEGRAM_BOT_TOKEN=stub.token,
            TELEGRAM_API_BASE_URL=stub.url,
            KAKEKOMI_WEBHOOK_URL=f"http://127.0.0.1:{port}/tg-hook",
            KAKEKOMI_WEBHOOK_SECRET=hook_secret,
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(port), "--lang", "en"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        loop = asyncio.get_running_loop()
        try:
            line = await asyncio.wait_for(loop.run_in_executor(None, proc.stdout.readline), GUARD)
            assert "Telegram on (webhook)" in line, line
            assert stub.calls_to("setWebhook")
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", timeout=GUARD
            ) as http:
                stub.send_command(ALICE, "start")
                body = json.dumps(stub._queue.pop()).encode()
                refused = await http.post("/tg-hook", content=body)
                assert refused.status_code == 403  # no secret: refused before the body
                taken = await http.post(
                    "/tg-hook",
                    content=body,
                    headers={"X-Telegram-Bot-Api-Secret-Token": hook_secret},
                )
                assert taken.status_code == 200
                await stub.wait_for(lambda: stub.texts(ALICE.id), timeout=GUARD, what="an answer")
                assert (await http.get("/")).status_code == 200  # and the web chat beside it
            proc.send_signal(signal.SIGTERM)
            assert await loop.run_in_executor(None, lambda: proc.wait(GUARD)) == 0
            assert stub.token not in proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


async def test_too_many_new_conversations_from_one_address_get_a_429_page(tmp_path, content):
    site = await _site(tmp_path, content, address_limiter=RateLimiter(rate=0.001, burst=2))
    try:
        answers = [await site.http.get("/?lang=en") for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 429]
        assert site.t("en", "web.too_many") in answers[-1].text
        _assert_safe_headers(answers[-1])
        assert (await site.http.get("/healthz")).status_code == 200  # never limited
    finally:
        await site.http.aclose()
        await site.server.close()
        await site.store.close()


def test_a_quick_clicker_waits_a_moment_and_only_a_flood_is_refused():
    now = [0.0]
    limiter = RateLimiter(rate=1.0, burst=2, queue=2, clock=lambda: now[0])
    assert [limiter.wait("a") for _ in range(5)] == [0.0, 0.0, 1.0, 2.0, None]
    now[0] += 3.0  # the queue has drained
    assert limiter.wait("a") == 0.0


async def test_over_the_limit_without_javascript_the_page_offers_a_way_back(tmp_path, content):
    site = await _site(tmp_path, content, token_limiter=RateLimiter(rate=0.001, burst=1))
    try:
        page = await site.open("?lang=en")
        await site.press(page, site.t("en", "menu.threatened"), "en")
        limited = await site.post(token=page.token, lang="en", button="2.1")
        assert limited.status_code == 429
        assert 'name="command" value="resume"' in limited.text
        assert Page(limited.text).token == page.token  # the conversation is not lost
    finally:
        await site.http.aclose()
        await site.server.close()
        await site.store.close()


async def test_the_chat_can_live_under_another_path(tmp_path, content):
    store = await SqliteStore.open(tmp_path / "kakekomi.sqlite3", secret=SECRET.encode())
    chat = WebChat(Dialogue(content, store), store, load_branding(content.root), "/chat/")
    server = HardenedServer(chat.routes(), HttpLimits(), headers=SECURITY_HEADERS)
    port = free_port()
    server.listen(port, address="127.0.0.1")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=GUARD) as http:
            page = await http.get("/chat/")
            assert page.status_code == 200
            assert {f.get("action") for f in Page(page.text).forms} == {"/chat/"}
            assert '<script src="/chat/static/app.js"' in page.text
            assert (await http.get("/chat/static/app.js")).status_code == 200
            assert (await http.get("/")).status_code == 404
            turn = await http.post(
                "/chat/", data={"token": Page(page.text).token, "command": "help"}
            )
            assert turn.status_code == 200
    finally:
        await server.close()
        await store.close()


async def test_choosing_to_end_goes_to_the_neutral_site_like_quick_exit(site):
    page = await site.open("?lang=en")
    end = site.t("en", "engine.nav.exit")
    response = await site.post(token=page.token, lang="en", button=page.button(end))
    assert response.status_code == 303
    assert response.headers["Location"] == site.chat.branding.exit_url
    _assert_safe_headers(response)
    page = await site.open("?lang=en")
    api = await site.http.post(
        "/api/turn", json={"token": page.token, "lang": "en", "button": page.button(end)}
    )
    assert api.status_code == 200 and api.json()["exited"] is True
