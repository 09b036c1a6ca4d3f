"""The Telegram webhook route: secret first, then the body, then the update queue.

Replaces PTB's tornado webhook server (as PTB's "custom webhook" example does): the
secret header is compared in constant time before any of the body is read, and the
HTTP limits of `HardenedServer` apply. Telegram waits for our answer before sending
the next update, so a good update is put on the application's queue and answered 200
at once; it is handled afterwards.

A body that is not JSON, or JSON that is not an object, is answered 400. An object PTB
cannot read as an update is answered 200 (Telegram would otherwise send it again and
again) and counted, like in polling.
"""

from __future__ import annotations

import hmac
import json

from telegram.ext import Application
from tornado import httputil

from .._http import Answer, HardenedServer, HttpLimits
from ._bot import UpdateCounter, readable_update

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_JSON = "application/json"


class TelegramWebhook:
    """An `Endpoint` for Telegram's POSTs."""

    methods = frozenset({"POST"})

    def __init__(self, app: Application, secret: str, counter: UpdateCounter):
        self.app = app
        self._secret = secret.encode()
        self.counter = counter

    def admit(self, headers: httputil.HTTPHeaders) -> Answer | None:
        given = headers.get_list(SECRET_HEADER)
        # tornado decodes header bytes as latin-1, so encoding back gives the bytes sent.
        if len(given) != 1 or not hmac.compare_digest(given[0].encode("latin-1"), self._secret):
            return Answer(403)
        return None

    async def respond(self, body: bytes, headers: httputil.HTTPHeaders) -> Answer:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep
            return Answer(400, b"not a JSON object\n")
        if not isinstance(data, dict):
            return Answer(400, b"not a JSON object\n")
        update = readable_update(data, self.app.bot, self.counter, "webhook")
        if update is not None:
            await self.app.update_queue.put(update)
        return Answer(200, b"{}", _JSON)


def webhook_server(
    app: Application,
    path: str,
    secret: str,
    counter: UpdateCounter,
    limits: HttpLimits | None = None,
) -> HardenedServer:
    """A server with one route, ``/<path>``, that feeds `app.update_queue`."""
    route = "/" + path.strip("/")
    return HardenedServer({route: TelegramWebhook(app, secret, counter)}, limits)
