"""HTTP for the loopback stand-in: the Bot API endpoints, file downloads, the control API."""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import TYPE_CHECKING, Any

import tornado.httputil
import tornado.iostream
import tornado.web

from tests import botapi_checks as checks
from tests.botapi_methods import Call, User

if TYPE_CHECKING:
    from tests.botapi_stub import BotApiStub

# -- HTTP handlers ------------------------------------------------------------------


def decode_params(request: tornado.httputil.HTTPServerRequest) -> tuple[dict, dict]:
    """Form, multipart, JSON or query-string parameters, as the Bot API accepts them."""
    params: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("application/json") and request.body:
        params.update(json.loads(request.body))
        return params, files
    raw = {k: v[-1].decode() for k, v in request.query_arguments.items()}
    raw.update({k: v[-1].decode() for k, v in request.body_arguments.items()})
    for key, value in raw.items():
        if key in checks.JSON_FIELDS:
            try:
                params[key] = json.loads(value)
                continue
            except ValueError:
                pass
        params[key] = value
    for name, uploads in request.files.items():
        files[name] = (uploads[-1].filename, bytes(uploads[-1].body))
    return params, files


class ApiHandler(tornado.web.RequestHandler):
    def initialize(self, stub: BotApiStub) -> None:
        self.stub = stub

    async def _serve(self, token: str, method: str) -> None:
        self.set_header("Content-Type", "application/json")
        if urllib.parse.unquote(token) != self.stub.token:
            self.set_status(401)
            self.finish({"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        params, files = decode_params(self.request)
        status, body = await self.stub.handle_call(method, params, files)
        self.set_status(status)
        try:
            self.finish(json.dumps(body))
        except tornado.iostream.StreamClosedError:  # the client gave up (stop, timeout)
            pass

    post = get = _serve  # type: ignore[assignment]

    def on_connection_close(self) -> None:  # an aborted long poll is normal on stop
        pass


class FileHandler(tornado.web.RequestHandler):
    def initialize(self, stub: BotApiStub) -> None:
        self.stub = stub

    async def get(self, token: str, path: str) -> None:
        self.stub.calls.append(
            Call(next(self.stub._seq), "downloadFile", {"path": path}, 200, None, time.monotonic())
        )
        self.stub._notify()
        self.finish(b"FAKE")


class ControlHandler(tornado.web.RequestHandler):
    """Control API for a stub running in another process.

    POST /_stub/enqueue   {"update": {...}}  or  {"kind": "text"|"command"|"media"|"press"|
                          "press_label"|"group_text"|"block", "user": {"id": 1, "language_code":
                          "ja"}, "text"|"name"|"arg"|"media"|"data"|"label": ...}
                          → {"result": <message id | callback id | update>}
    GET  /_stub/calls?since=SEQ&method=NAME → {"calls": [...], "next": SEQ}
    POST /_stub/fail      {"method": ..., "kind": ..., "times": 1, "retry_after": 1}
    GET  /_stub/chat/<chat_id> → {"messages": [...], "buttons": [[label, data], ...]}
    GET  /_stub/state     → {"pending_updates": N, "calls": N, "unanswered_callbacks": N}
    """

    def initialize(self, stub: BotApiStub) -> None:
        self.stub = stub

    def get(self, action: str, rest: str) -> None:
        stub = self.stub
        if action == "calls":
            since = int(self.get_argument("since", "0"))
            method = self.get_argument("method", None)
            calls = [
                c.as_json()
                for c in stub.calls
                if c.seq > since and (method is None or c.method.lower() == method.lower())
            ]
            self.finish({"calls": calls, "next": stub.calls[-1].seq if stub.calls else since})
        elif action == "chat":
            chat_id = int(rest)
            msgs = [
                {
                    "message_id": m.message_id,
                    "from_bot": m.from_bot,
                    "text": m.text,
                    "deleted": m.deleted,
                    "buttons": m.buttons,
                    "kind": m.kind,
                }
                for m in stub.messages.get(chat_id, [])
            ]
            self.finish({"messages": msgs, "buttons": stub.buttons(chat_id)})
        elif action == "state":
            self.finish(
                {
                    "pending_updates": stub.pending_updates,
                    "calls": len(stub.calls),
                    "unanswered_callbacks": len(stub.unanswered_callbacks()),
                }
            )
        else:
            raise tornado.web.HTTPError(404)

    def post(self, action: str, rest: str) -> None:
        body = json.loads(self.request.body or b"{}")
        stub = self.stub
        if action == "fail":
            stub.fail(
                body["method"],
                body["kind"],
                times=int(body.get("times", 1)),
                retry_after=int(body.get("retry_after", 1)),
                description=body.get("description"),
                seconds=float(body.get("seconds", 0)),
            )
            self.finish({"result": True})
            return
        if action != "enqueue":
            raise tornado.web.HTTPError(404)
        if "update" in body:
            self.finish({"result": stub.enqueue(body["update"])})
            return
        u = body["user"]
        user = User(int(u["id"]), u.get("first_name", "Test"), u.get("language_code", "ja"))
        kind = body["kind"]
        result: Any = {
            "text": lambda: stub.send_text(user, body["text"]),
            "command": lambda: stub.send_command(user, body["name"], body.get("arg")),
            "media": lambda: stub.send_media(user, body.get("media", "photo")),
            "press": lambda: stub.press(user, body["data"]),
            "press_label": lambda: stub.press_label(user, body["label"]),
            "group_text": lambda: stub.send_group_text(user, body["text"]),
            "block": lambda: stub.user_blocks_bot(user),
        }[kind]()
        self.finish({"result": result})
