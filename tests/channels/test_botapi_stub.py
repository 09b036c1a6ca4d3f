"""The loopback stand-in itself: it must refuse what Telegram refuses, and run on its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.botapi_stub import BotApiStub, User

ROOT = Path(__file__).resolve().parents[2]
ALICE = User(555001, language_code="en")


@pytest.fixture
async def stub():
    async with BotApiStub() as server:
        yield server


async def call(stub: BotApiStub, method: str, **params) -> httpx.Response:
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    async with httpx.AsyncClient() as client:
        return await client.post(f"{stub.base_url}{stub.token}/{method}", data=form)


async def test_limits_are_enforced_like_the_real_server(stub):
    stub.send_text(ALICE, "hi")  # the chat exists once the person wrote
    cases = [
        ({"text": "x" * 4097}, "message is too long"),
        ({"text": "😀" * 2049}, "message is too long"),  # 4098 UTF-16 units
        ({"text": "  "}, "message text is empty"),
        ({"text": "a < b", "parse_mode": "HTML"}, "can't parse entities"),
        ({"text": "<x>hi</x>", "parse_mode": "HTML"}, "can't parse entities"),
        (
            {
                "text": "ok",
                "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": "あ" * 22}]]},
            },
            "BUTTON_DATA_INVALID",
        ),
    ]
    for params, description in cases:
        response = await call(stub, "sendMessage", chat_id=ALICE.id, **params)
        assert response.status_code == 400, params
        assert description in response.json()["description"]
    ok = await call(
        stub, "sendMessage", chat_id=ALICE.id, text="<b>a</b> &lt; &#x27;", parse_mode="HTML"
    )
    assert ok.status_code == 200 and stub.texts(ALICE.id) == ["a < '"]
    assert (await call(stub, "sendMessage", chat_id=42, text="x")).status_code == 400


async def test_wrong_token_is_unauthorized(stub):
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{stub.base_url}1:wrong/getMe")
    assert response.status_code == 401


async def test_get_updates_honours_offset_and_long_polls(stub):
    stub.send_text(ALICE, "one")
    stub.send_text(ALICE, "two")
    first = (await call(stub, "getUpdates", timeout=0)).json()["result"]
    assert [u["message"]["text"] for u in first] == ["one", "two"]
    again = (await call(stub, "getUpdates", offset=first[1]["update_id"])).json()["result"]
    assert [u["message"]["text"] for u in again] == ["two"]  # "one" is confirmed now
    empty = await call(stub, "getUpdates", offset=first[1]["update_id"] + 1, timeout=0)
    assert empty.json()["result"] == [] and stub.pending_updates == 0


async def test_faults_are_injected_per_method_and_run_out(stub):
    stub.send_text(ALICE, "hi")
    stub.fail("sendMessage", "retry_after", retry_after=3)
    stub.fail("sendMessage", "blocked")
    first = await call(stub, "sendMessage", chat_id=ALICE.id, text="x")
    second = await call(stub, "sendMessage", chat_id=ALICE.id, text="x")
    third = await call(stub, "sendMessage", chat_id=ALICE.id, text="x")
    assert first.status_code == 429 and first.json()["parameters"] == {"retry_after": 3}
    assert second.status_code == 403 and third.status_code == 200


def test_runs_as_a_separate_process_with_a_control_api():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.botapi_stub", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(process.stdout.readline())
        control = f"http://127.0.0.1:{port}/_stub"
        with httpx.Client() as client:
            sent = client.post(
                f"{control}/enqueue",
                json={"kind": "command", "name": "start", "user": {"id": 555002}},
            ).json()
            assert sent["result"] == 1  # the message id
            assert client.get(f"{control}/state").json()["pending_updates"] == 1
            client.post(f"{control}/fail", json={"method": "getMe", "kind": "bad_gateway"})
            from tests.botapi_stub import TOKEN

            assert client.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe").status_code == 502
            calls = client.get(f"{control}/calls", params={"method": "getMe"}).json()["calls"]
            assert [c["status"] for c in calls] == [502]
    finally:
        process.kill()
        process.wait()
