"""The webhook listener cannot be exhausted by someone without the secret (issue 15, item 7).

In-process tests use tight limits (`HttpLimits`) so timeouts show in a second; the
process tests run ``python -m bot telegram`` in webhook mode with its defaults and look
at it from outside: its open files and its memory (`/proc/<pid>`). Timeouts in these
tests are guards against a hang, never what is asserted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.telegram._channel import HttpLimits
from storage import MemoryStore
from tests.botapi_stub import BotApiStub
from tests.telegram_fixtures import (
    ALICE,
    BOB,
    SECRET,
    BotCommand,
    RunningBot,
    engine_content,
    free_port,
)

HOOK_SECRET = "webhook-secret_0123456789"
LIMITS = HttpLimits(
    header_timeout=0.5, body_timeout=0.5, max_header_bytes=8 * 1024,
    max_body_bytes=64 * 1024, max_connections=64,
)
GUARD = 20.0  # seconds: only so that a broken server fails the test instead of hanging it


@pytest.fixture(scope="module")
def content(tmp_path_factory):
    return engine_content(tmp_path_factory.mktemp("content"))


@pytest.fixture
async def stub():
    async with BotApiStub() as server:
        yield server


@pytest.fixture
async def hook(stub, content):
    """A running bot in webhook mode with the tight test limits; yields its port."""
    port = free_port()
    running = RunningBot(stub, content, MemoryStore(secret=SECRET))
    await running.start(
        webhook_url=f"http://127.0.0.1:{port}/hook", listen="127.0.0.1", port=port,
        secret_token=HOOK_SECRET, http_limits=LIMITS,
    )
    try:
        yield port
    finally:
        await running.stop()


def request(
    body: bytes = b"", *, secret: str | None = HOOK_SECRET, length: int | None = None,
    path: str = "/hook", extra: str = "",
) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    if secret is not None:
        head += f"X-Telegram-Bot-Api-Secret-Token: {secret}\r\n"
    head += f"Content-Length: {len(body) if length is None else length}\r\n{extra}\r\n"
    return head.encode() + body


async def status_of(port: int, data: bytes) -> int | None:
    """Send `data`; the status of the first response, or None if the server closed the
    connection without one (incomplete or unreadable request framing)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), GUARD)
    except (ConnectionResetError, BrokenPipeError):
        return None
    finally:
        writer.close()
    if not line:
        return None
    text = line.decode("latin-1")
    assert text.startswith("HTTP/1.1 ") and text.endswith("\r\n"), text
    return int(text.split()[1])


async def first_status(reader: asyncio.StreamReader) -> int:
    line = await asyncio.wait_for(reader.readline(), GUARD)
    assert line.startswith(b"HTTP/1.1 "), line
    return int(line.split()[1])


# ---- refusals before the body, and timeouts ----------------------------------------------------


async def test_wrong_or_missing_secret_is_refused_before_the_body_is_sent(hook):
    for secret in ("wrong-secret", None):
        reader, writer = await asyncio.open_connection("127.0.0.1", hook)
        try:
            writer.write(request(secret=secret, length=50 * 1024 * 1024))  # headers only
            await writer.drain()
            assert await first_status(reader) == 403  # answered without waiting for the body
            assert await asyncio.wait_for(reader.read(), GUARD) is not None
        finally:
            writer.close()


async def test_content_length_over_the_limit_is_413_before_the_body_is_sent(hook):
    reader, writer = await asyncio.open_connection("127.0.0.1", hook)
    try:
        writer.write(request(length=LIMITS.max_body_bytes + 1))
        await writer.drain()
        assert await first_status(reader) == 413
    finally:
        writer.close()


async def test_chunked_body_is_counted_while_read_and_stopped_at_the_limit(hook):
    head = (
        "POST /hook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        f"X-Telegram-Bot-Api-Secret-Token: {HOOK_SECRET}\r\n\r\n"
    ).encode()
    chunk = b"%x\r\n%s\r\n" % (16 * 1024, b"x" * 16 * 1024)
    reader, writer = await asyncio.open_connection("127.0.0.1", hook)
    status = None
    try:
        writer.write(head)
        for _ in range(LIMITS.max_body_bytes // (16 * 1024) + 8):
            writer.write(chunk)
            await writer.drain()
        status = await first_status(reader)
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        writer.close()
    assert status in (413, None)
    assert await status_of(hook, request(b"{}")) == 200  # still answering


async def test_half_sent_headers_are_closed_after_the_header_timeout(hook):
    reader, writer = await asyncio.open_connection("127.0.0.1", hook)
    try:
        writer.write(b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and then nothing
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), GUARD) == b""  # closed by the server
    finally:
        writer.close()


async def test_half_sent_body_is_closed_after_the_body_timeout(hook):
    reader, writer = await asyncio.open_connection("127.0.0.1", hook)
    try:
        writer.write(request(b'{"update_id": 1', length=1000))  # 985 bytes never come
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), GUARD) == b""
    finally:
        writer.close()


async def test_malformed_json_or_not_an_object_is_400_and_a_good_update_200(hook, stub):
    for body in (b'{"update_id": 5,', b"\xff\xfe\x00", b'"just a string"', b"[]", b"",
                 b"[" * 50_000):
        assert await status_of(hook, request(body)) == 400, body[:20]
    stub.send_command(BOB, "start")
    assert await status_of(hook, request(json.dumps(stub._queue.pop()).encode())) == 200
    await stub.wait_for(lambda: stub.texts(BOB.id), what="Bob answered")
    assert await status_of(hook, request(b"{}", path="/other")) == 404
    assert await status_of(hook, b"GET /hook HTTP/1.1\r\nHost: x\r\n\r\n") == 405


async def test_idle_connections_over_the_limit_make_room_for_a_real_update(hook, stub):
    idle = []
    try:
        for _ in range(LIMITS.max_connections * 2):
            _, writer = await asyncio.open_connection("127.0.0.1", hook)
            writer.write(b"POST /hook HTTP/1.1\r\n")
            idle.append(writer)
        await asyncio.gather(*(w.drain() for w in idle))
        stub.send_command(ALICE, "start")
        body = json.dumps(stub._queue.pop()).encode()
        assert await status_of(hook, request(body)) == 200
        await stub.wait_for(lambda: stub.texts(ALICE.id), what="Alice answered")
    finally:
        for writer in idle:
            writer.close()


# ---- the HTTP layer under random input -------------------------------------------------------

_TOKEN_CHARS = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-"),
                       min_size=1, max_size=12)
_HEADER_VALUE = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
    st.text(st.characters(min_codepoint=0xA0, max_codepoint=0x2FFF), max_size=20),  # non-ASCII
    st.just("x" * 9000),  # over the header limit
)
_BODY = st.one_of(
    st.binary(max_size=3000),
    st.just(b'{"update_id": 7, "message": {"date": "x"}}'),
    st.just(json.dumps({"update_id": 8, "message": {"text": "fuzz secret body"}}).encode()),
    st.just(b'{"update_id": 9}'),
    st.text(max_size=200).map(lambda t: t.encode("utf-16")),
    st.just(b"x" * (LIMITS.max_body_bytes + 10)),
)


@st.composite
def http_requests(draw) -> bytes:
    method = draw(st.sampled_from(["POST", "GET", "PUT", "HEAD", "OPTIONS", "PATCH", "BREW"]))
    path = draw(st.sampled_from(["/hook", "/hook?x=1", "/", "/hook/", "/%68ook", "/ほ", "*"]))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 x"]))
    body = draw(_BODY)
    headers = [("Host", "127.0.0.1")]
    secret = draw(st.sampled_from([HOOK_SECRET, "nope", None, HOOK_SECRET + "x"]))
    if secret is not None:
        headers.append(("X-Telegram-Bot-Api-Secret-Token", secret))
        if draw(st.booleans()):
            headers.append(("X-Telegram-Bot-Api-Secret-Token", secret))  # duplicate
    length = draw(st.sampled_from(["exact", "short", "long", "none", "junk", "dup", "chunked"]))
    if length == "exact":
        headers.append(("Content-Length", str(len(body))))
    elif length == "short":
        headers.append(("Content-Length", str(max(0, len(body) - 5))))
    elif length == "long":
        headers.append(("Content-Length", str(len(body) + 100)))
    elif length == "junk":
        headers.append(("Content-Length", draw(st.sampled_from(["-1", "1e3", "፩", "0x10", " "]))))
    elif length == "dup":
        headers += [("Content-Length", str(len(body))), ("Content-Length", "3")]
    elif length == "chunked":
        headers.append(("Transfer-Encoding", draw(st.sampled_from(["chunked", "gzip, chunked",
                                                                    "identity"]))))
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    encoding = draw(st.sampled_from([None, "gzip", "br", "identity"]))
    if encoding:
        headers.append(("Content-Encoding", encoding))
    headers += draw(st.lists(st.tuples(_TOKEN_CHARS, _HEADER_VALUE), max_size=4))
    head = f"{method} {path} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode("utf-8") + b"\r\n" + body


def test_fuzzed_requests_get_a_2xx_or_4xx_and_the_server_keeps_answering(
    stub_factory_content, caplog
):
    """Random methods, paths, versions, header sets (huge, duplicate, non-ASCII), bodies,
    encodings and Content-Length lies: never a 5xx, never a body in the log."""
    caplog.set_level(logging.DEBUG)
    run, port = stub_factory_content
    seen: list[int | None] = []

    @settings(max_examples=150, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(raw=http_requests())
    def one(raw: bytes) -> None:
        status = run(status_of(port, raw))
        seen.append(status)
        assert status is None or 200 <= status < 300 or 400 <= status < 500, status
        assert run(status_of(port, request(b'{"update_id": 1}'))) == 200  # still answering

    one()
    assert any(s is not None and 400 <= s < 500 for s in seen)
    logged = caplog.text
    assert "fuzz secret body" not in logged


@pytest.fixture
def stub_factory_content(content):
    """A stub and a webhook bot on a private loop (hypothesis drives a sync test)."""
    loop = asyncio.new_event_loop()
    run = loop.run_until_complete
    stub = BotApiStub()
    run(stub.start())
    port = free_port()
    running = RunningBot(stub, content, MemoryStore(secret=SECRET))
    run(running.start(
        webhook_url=f"http://127.0.0.1:{port}/hook", listen="127.0.0.1", port=port,
        secret_token=HOOK_SECRET, http_limits=LIMITS,
    ))
    try:
        yield run, port
    finally:
        run(running.stop())
        run(stub.stop())
        loop.close()


# ---- the real process: open files and memory -------------------------------------------------


@pytest.fixture
async def hook_process(stub, tmp_path):
    port = free_port()
    bot = BotCommand(
        tmp_path, stub.token, "--api-base-url", stub.url, "--lang", "en",
        "--webhook-url", f"http://127.0.0.1:{port}/hook", "--listen", "127.0.0.1",
        "--port", str(port), "--secret-token", HOOK_SECRET,
    )
    try:
        await stub.wait_for(lambda: stub.calls_to("setWebhook"), timeout=60,
                            what="the bot to set its webhook")
        yield bot, port
    finally:
        await bot.terminate()


async def _answered(stub: BotApiStub, port: int, user) -> None:
    stub.send_command(user, "start")
    body = json.dumps(stub._queue.pop()).encode()
    async with httpx.AsyncClient() as client:
        reply = await client.post(
            f"http://127.0.0.1:{port}/hook", content=body, timeout=GUARD,
            headers={"X-Telegram-Bot-Api-Secret-Token": HOOK_SECRET},
        )
    assert reply.status_code == 200
    await stub.wait_for(lambda: stub.texts(user.id), timeout=GUARD, what="an answer")


async def test_300_idle_half_open_connections_do_not_stop_a_real_update(hook_process, stub):
    bot, port = hook_process
    idle = []
    try:
        for _ in range(300):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            idle.append(writer)
        await asyncio.gather(*(w.drain() for w in idle))
        await asyncio.sleep(0.5)  # let the bot accept them all
        assert bot.open_fds() < 256 + 64  # the connection limit holds: no "too many open files"
        await _answered(stub, port, ALICE)
    finally:
        for writer in idle:
            writer.close()
    assert "Too many open files" not in bot.output()


def _flood(port: int, secret: str, size: int) -> str:
    """Post `size` bytes (declared up front) in 1 MiB pieces until the server stops us."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=GUARD)
    piece = b"x" * (1024 * 1024)
    try:
        sock.sendall(request(secret=secret, length=size))
        for _ in range(size // len(piece)):
            sock.sendall(piece)
        return "sent everything"
    except OSError:
        return "stopped"
    finally:
        sock.close()


async def test_body_flood_with_a_wrong_secret_keeps_memory_near_idle(hook_process, stub):
    bot, port = hook_process
    await _answered(stub, port, ALICE)  # warm: the first update's imports and caches
    idle_kib = bot.rss_kib()
    loop = asyncio.get_running_loop()
    outcomes = []
    for secret in ["wrong"] * 10:
        outcomes.append(await loop.run_in_executor(None, _flood, port, secret, 95 * 1024 * 1024))
        assert bot.rss_kib() - idle_kib < 30 * 1024
    assert outcomes.count("stopped") == 10  # refused, not read
    await _answered(stub, port, BOB)
    assert bot.rss_kib() - idle_kib < 30 * 1024
