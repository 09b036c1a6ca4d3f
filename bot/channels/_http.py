"""A small HTTP/1.1 server that a stranger cannot exhaust (webhooks, and later the web chat).

Built on tornado's HTTP/1.1 connection (already a dependency through PTB's webhooks
extra), which times out a request whose headers or body are not complete in time and
caps the header block. On top of it, `HardenedServer`:

- asks the route whether to take a request as soon as its headers are in (the webhook
  checks its secret there), and refuses before reading any of the body: wrong secret,
  unknown path, wrong method, a Content-Length over the limit (413) or not a number;
- counts a chunked body while it is read and stops at the limit (413);
- keeps at most `max_connections` open: at the limit, the connection idle longest
  (waiting for headers) is closed to make room; if none is idle, the new one is closed;
- answers from the route once the whole body is in, and never logs a body, a header
  or a peer address.

Routes are `Endpoint`s: ``admit(headers)`` (before the body) and ``respond(body)``. A
route that needs more (the web chat: method, query string, the peer for rate limits) has
``handle(request, body)`` instead of ``respond``, and may lower the body limit for itself
(``max_body_bytes``). ``headers`` given to the server go on every answer, refusals too.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from tornado import httputil, iostream
from tornado.http1connection import HTTP1ConnectionParameters, HTTP1ServerConnection
from tornado.tcpserver import TCPServer

log = logging.getLogger("kakekomi.http")

_CONTENT_LENGTH = re.compile(r"[0-9]{1,15}")


@dataclass(frozen=True)
class HttpLimits:
    """What one client may cost. Timeouts in seconds, sizes in bytes."""

    header_timeout: float = 10.0  # from connecting (or the last answer) to the end of headers
    body_timeout: float = 10.0  # from the end of headers to the end of the body
    max_header_bytes: int = 16 * 1024
    max_body_bytes: int = 1024 * 1024  # a Telegram update is a few KB
    max_connections: int = 256


@dataclass(frozen=True)
class Answer:
    """An HTTP response: status and a short body."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()  # more response headers (Content-Disposition…)


@dataclass(frozen=True)
class Request:
    """What a route with ``handle`` is told: never logged (the peer is only for limits)."""

    method: str
    path: str
    query: str
    headers: httputil.HTTPHeaders
    peer: str


class Endpoint(Protocol):
    """One route of a HardenedServer."""

    methods: frozenset[str]

    def admit(self, headers: httputil.HTTPHeaders) -> Answer | None:
        """Before any of the body is read: None to take the request, else the refusal."""

    async def respond(self, body: bytes, headers: httputil.HTTPHeaders) -> Answer:
        """The whole body is in: the answer (never raise; a raise is answered with 500)."""


@dataclass
class _Connection:
    idle_since: float | None  # None while a request is being read or answered
    peer: str = ""  # for per-address limits only; never logged


class HardenedServer(TCPServer, httputil.HTTPServerConnectionDelegate):
    """`routes` maps exact paths (``/tg-hook``) to endpoints; see the module doc."""

    def __init__(self, routes: Mapping[str, Endpoint], limits: HttpLimits | None = None,
                 headers: Mapping[str, str] | None = None):
        self.limits = limits or HttpLimits()
        self.headers = dict(headers or {})
        super().__init__(max_buffer_size=self.limits.max_header_bytes + 256 * 1024)
        self.routes = dict(routes)
        self.params = HTTP1ConnectionParameters(
            header_timeout=self.limits.header_timeout,
            body_timeout=self.limits.body_timeout,
            max_header_size=self.limits.max_header_bytes,
            # tornado refuses (400) a chunk whose declared size passes its limit before
            # reading it; one chunk of slack lets our own count answer 413 first.
            max_body_size=self.limits.max_body_bytes + 64 * 1024,
            decompress=False,  # a gzip bomb stays a small, unreadable body
            chunk_size=64 * 1024,
        )
        self._connections: dict[HTTP1ServerConnection, _Connection] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.refused_connections = 0  # closed at once: the limit was reached, none idle

    # -- connections ---------------------------------------------------------------------

    def handle_stream(self, stream: iostream.IOStream, address: tuple) -> None:
        if len(self._connections) >= self.limits.max_connections and not self._evict_idle():
            self.refused_connections += 1
            stream.close()
            return
        conn = HTTP1ServerConnection(stream, self.params, "client")  # no address in logs
        peer = address[0] if isinstance(address, tuple) and address else ""
        self._connections[conn] = _Connection(idle_since=time.monotonic(), peer=str(peer))
        conn.start_serving(self)

    def _evict_idle(self) -> bool:
        idle = [(c.idle_since, id(k), k) for k, c in self._connections.items() if c.idle_since]
        if not idle:
            return False
        _, _, victim = min(idle)
        del self._connections[victim]  # on_close will find it gone
        victim.stream.close()
        return True

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        return _Exchange(self, server_conn, request_conn)  # type: ignore[arg-type]

    def on_close(self, server_conn: object) -> None:
        self._connections.pop(server_conn, None)  # type: ignore[call-overload]

    def _set_busy(self, server_conn: HTTP1ServerConnection, busy: bool) -> None:
        state = self._connections.get(server_conn)
        if state is not None:
            state.idle_since = None if busy else time.monotonic()

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    async def close(self) -> None:
        """Stop listening, close every connection, wait for answers being made."""
        self.stop()
        for conn in list(self._connections):
            conn.stream.close()
        self._connections.clear()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.limits.body_timeout)


class _Exchange(httputil.HTTPMessageDelegate):
    """One request on one connection."""

    def __init__(
        self,
        server: HardenedServer,
        server_conn: HTTP1ServerConnection,
        request_conn: httputil.HTTPConnection,
    ):
        self.server = server
        self.server_conn = server_conn
        self.request_conn = request_conn
        self.endpoint: Endpoint | None = None
        self.headers = httputil.HTTPHeaders()
        self.chunks: list[bytes] = []
        self.size = 0
        self.limit = server.limits.max_body_bytes
        self.start_line: httputil.RequestStartLine | None = None
        self.done = False

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ):
        self.server._set_busy(self.server_conn, True)
        assert isinstance(start_line, httputil.RequestStartLine)
        self.headers = headers
        self.start_line = start_line
        refusal = self._check(start_line, headers)
        if refusal is not None:
            return self._refuse(refusal)
        return None

    def _check(
        self, start_line: httputil.RequestStartLine, headers: httputil.HTTPHeaders
    ) -> Answer | None:
        endpoint = self.server.routes.get(start_line.path.split("?", 1)[0])
        if endpoint is None:
            return Answer(404)
        if start_line.method not in endpoint.methods:
            return Answer(405)
        refusal = endpoint.admit(headers)
        if refusal is not None:
            return refusal
        self.limit = min(self.limit, getattr(endpoint, "max_body_bytes", None) or self.limit)
        length = headers.get("Content-Length")
        if length is not None:
            if not _CONTENT_LENGTH.fullmatch(length.strip()):
                return Answer(400)
            if int(length) > self.limit:
                return Answer(413)
        self.endpoint = endpoint
        return None

    def data_received(self, chunk: bytes):
        if self.done:
            return None
        self.size += len(chunk)
        if self.size > self.limit:  # a chunked body grows too big
            self.chunks.clear()
            return self._refuse(Answer(413))
        self.chunks.append(chunk)
        return None

    def finish(self) -> None:
        if self.done or self.endpoint is None:
            return
        task = asyncio.ensure_future(self._answer(self.endpoint, b"".join(self.chunks)))
        self.chunks.clear()
        self.server._tasks.add(task)
        task.add_done_callback(self.server._tasks.discard)

    def on_connection_close(self) -> None:
        self.done = True
        self.chunks.clear()

    async def _answer(self, endpoint: Endpoint, body: bytes) -> None:
        try:
            handle = getattr(endpoint, "handle", None)
            if handle is not None and self.start_line is not None:
                path, _, query = self.start_line.path.partition("?")
                state = self.server._connections.get(self.server_conn)
                request = Request(self.start_line.method, path, query, self.headers,
                                  state.peer if state else "")
                answer = await handle(request, body)
            else:
                answer = await endpoint.respond(body, self.headers)
        except Exception as exc:  # noqa: BLE001 - a bug in a route must not end the server
            log.error("route failed: %s", type(exc).__name__)
            answer = Answer(500)
        if self.done:
            return
        self.done = True
        await self._write(answer, close=False)
        self.server._set_busy(self.server_conn, False)

    async def _refuse(self, answer: Answer) -> None:
        """Answer at once and close, so the rest of the body is never read."""
        self.done = True
        await self._write(answer, close=True)
        self.request_conn.close()  # type: ignore[attr-defined]

    async def _write(self, answer: Answer, *, close: bool) -> None:
        headers = httputil.HTTPHeaders(self.server.headers)
        headers["Content-Type"] = answer.content_type
        headers["Content-Length"] = str(len(answer.body))
        for name, value in answer.headers:
            headers[name] = value
        if close:
            headers["Connection"] = "close"
        reason = httputil.responses.get(answer.status, "Unknown")
        try:
            written = self.request_conn.write_headers(
                httputil.ResponseStartLine("HTTP/1.1", answer.status, reason),
                headers,
                answer.body or None,
            )
            self.request_conn.finish()
            await asyncio.wait_for(written, self.server.limits.body_timeout)
        except (iostream.StreamClosedError, TimeoutError):
            pass  # the client went away; nothing to tell it
