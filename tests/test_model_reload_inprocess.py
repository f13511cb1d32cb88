"""Model reload on the hub in-process: only a trained model inside the project's models/ directory is sent to Rasa,
and a reload Rasa answers with an error ends `failed` with Rasa's reason while the bot goes on answering.

The failures are Rasa's own (rasa/server.py 3.6: `ErrorResponse` bodies on `PUT /model`, a broken `/status`, a
dropped connection) reaching the real `RasaClient` through `FakeRasa.rasa_api`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import jwt
import pytest

from bot.core.hub import Hub
from bot.core.model_reload import ModelOutsideModels, ModelReloader, confined_model
from bot.core.runtime import LocalBotGate
from tests.inprocess import RASA_TOKEN, FakeRasa, InProcessHub, running_hub, says

Story = Callable[[InProcessHub], Awaitable[None]]
Answer = Callable[[httpx.Request], httpx.Response]


def project_with_model(tmp_path: Path) -> Path:
    """A project directory whose models/ holds a trained model (as far as the fake Rasa cares)."""
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "models" / "next.tar.gz").write_bytes(b"a model")
    return project


def with_hub(tmp_path: Path, project: Path, story: Story, rasa: FakeRasa | None = None) -> None:
    async def main() -> None:
        async with running_hub(tmp_path / "hub.db", rasa, FRONTLINE_PROJECT_DIR=str(project)) as hub:
            await story(hub)

    asyncio.run(main())


async def reload(hub: InProcessHub, model_file: Any = None) -> httpx.Response:
    body = {} if model_file is None else {"model_file": model_file}
    async with httpx.AsyncClient(base_url=hub.url, headers={"Authorization": f"Bearer {RASA_TOKEN}"}) as client:
        return await client.post("/api/model/reload", json=body)


async def finished(hub: InProcessHub) -> dict[str, Any]:
    status = await hub.app.ctx.reloader.wait()
    return dict(status.to_json())


# ------------------------------------------------------------------------------------ only models/ reaches Rasa


@pytest.mark.parametrize(
    "model_file",
    [
        "/etc/passwd",
        "../outside.tar.gz",
        "models/../../outside.tar.gz",
        "{tmp}/outside.tar.gz",
        "models/sneaky.tar.gz",
        "models/not-a-model.txt",
        "models",
    ],
)
def test_a_reload_refuses_any_file_but_a_model_inside_models(tmp_path, model_file):
    project = project_with_model(tmp_path)
    (tmp_path / "outside.tar.gz").write_bytes(b"not for Rasa")
    (project / "models" / "sneaky.tar.gz").symlink_to(tmp_path / "outside.tar.gz")
    (project / "models" / "not-a-model.txt").write_text("notes")
    rasa = FakeRasa()

    async def story(hub: InProcessHub) -> None:
        response = await reload(hub, model_file.format(tmp=tmp_path))
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "model_outside_models"
        assert f"model_file must be a .tar.gz file inside {project / 'models'}" in error["message"]
        assert rasa.reloads == []

    with_hub(tmp_path, project, story, rasa)


def test_a_reload_takes_a_model_in_models_by_relative_or_absolute_path_or_through_a_symlink_within(tmp_path):
    project = project_with_model(tmp_path)
    (project / "models" / "latest.tar.gz").symlink_to(project / "models" / "next.tar.gz")
    rasa = FakeRasa()
    model = str(project / "models" / "next.tar.gz")

    async def story(hub: InProcessHub) -> None:
        for asked in ("models/next.tar.gz", model, "models/latest.tar.gz"):
            assert (await reload(hub, asked)).status_code == 202
            assert (await finished(hub))["state"] == "done"
        missing = await reload(hub, "models/gone.tar.gz")
        assert (missing.status_code, missing.json()["error"]["code"]) == (422, "no_model")
        not_text = await reload(hub, ["models/next.tar.gz"])
        assert (not_text.status_code, not_text.json()["error"]["code"]) == (422, "bad_model_file")

    with_hub(tmp_path, project, story, rasa)
    assert rasa.reloads == [model, model, model], "Rasa is given the real path, symlinks resolved"


def test_confined_model_resolves_relative_to_where_it_is_asked_from(tmp_path):
    project = project_with_model(tmp_path)
    models = project / "models"
    assert confined_model("next.tar.gz", models, models) == models / "next.tar.gz"
    assert confined_model("project/models/next.tar.gz", tmp_path, models) == models / "next.tar.gz"
    with pytest.raises(ModelOutsideModels, match="inside"):
        confined_model("next.tar.gz", project, models)
    with pytest.raises(ModelOutsideModels, match="inside"):
        confined_model("bad\x00name.tar.gz", models, models)
    with pytest.raises(ModelOutsideModels, match="No trained model") as missing:
        confined_model("models/gone.tar.gz", project, models)
    assert missing.value.code == "no_model"


# ------------------------------------------------------------------------------------ every reload ends


def rasa_error(status: int, reason: str, message: str) -> httpx.Response:
    """A failing answer as rasa/server.py's `ErrorResponse` renders it."""
    body = {"version": "3.6.21", "status": "failure", "message": message, "reason": reason, "details": {}}
    return httpx.Response(status, json={**body, "help": None, "code": status})


def rasa_answering(put: Answer, status: Answer) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        bearer = request.headers["Authorization"].removeprefix("Bearer ")
        assert jwt.decode(bearer, RASA_TOKEN, algorithms=["HS256"])["user"]["role"] == "admin"
        assert "token" not in request.url.params, "no secret in a URL"
        if (request.method, request.url.path) == ("PUT", "/model"):
            return put(request)
        assert (request.method, request.url.path) == ("GET", "/status")
        return status(request)

    return answer


def loaded(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(204)


def runs_next(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"model_file": "next.tar.gz", "num_active_training_jobs": 0})


def connection_drops(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


FAILURES = {
    "refused as not loadable (400)": (
        rasa_answering(
            lambda r: rasa_error(400, "BadRequest", "Agent with name 'models/next.tar.gz' could not be loaded."),
            runs_next,
        ),
        "Rasa refused the model (400)",
        "could not be loaded",
    ),
    "failed to load (500)": (
        rasa_answering(
            lambda r: rasa_error(500, "LoadingError", "An unexpected error occurred. Error: not a gzip file"),
            runs_next,
        ),
        "Rasa refused the model (500)",
        "not a gzip file",
    ),
    "connection dropped during the load": (
        rasa_answering(connection_drops, runs_next),
        "the connection to Rasa failed",
        "ServerDisconnectedError",
    ),
    "status fails after the load (500)": (
        rasa_answering(loaded, lambda r: httpx.Response(500, text="Internal Server Error")),
        "Rasa answered 500 to GET /status",
        "Internal Server Error",
    ),
    "connection gone after the load": (
        rasa_answering(loaded, connection_drops),
        "the connection to Rasa failed",
        "Server disconnected",
    ),
    "status is not JSON": (
        rasa_answering(loaded, lambda r: httpx.Response(200, text="<html>proxy error</html>")),
        "not JSON",
        "Expecting value",
    ),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_reload_rasa_fails_ends_failed_with_the_reason_and_the_bot_answers_the_messages_held_meanwhile(
    tmp_path, failure
):
    answer, *reason = FAILURES[failure]
    project = project_with_model(tmp_path)
    rasa = FakeRasa({"hello": [says("Hi there!")], "still there?": [says("Yes!")]})
    rasa.rasa_api = answer
    rasa.reload_gate = asyncio.Event()

    async def story(hub: InProcessHub) -> None:
        customer = await hub.connected_customer()
        started = await reload(hub, "models/next.tar.gz")
        assert started.status_code == 202 and started.json()["reload"]["state"] == "loading"
        await customer.say("hello")
        await asyncio.sleep(0.1)
        assert rasa.texts() == [], "the bot is paused while Rasa loads"
        rasa.reload_gate.set()

        status = await finished(hub)
        assert status["state"] == "failed"
        assert all(part in status["error"] for part in reason), status["error"]
        assert RASA_TOKEN not in status["error"]
        assert status["finished_at"] is not None and status["model"] is None
        async with httpx.AsyncClient(base_url=hub.url, headers={"Authorization": f"Bearer {RASA_TOKEN}"}) as client:
            assert (await client.get("/api/model/reload")).json()["reload"] == status

        await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["text"] == "Hi there!")
        await customer.say("still there?")
        await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["text"] == "Yes!")
        rasa.rasa_api = None
        assert (await reload(hub, "models/next.tar.gz")).status_code == 202, "a failed reload does not block the next"
        assert (await finished(hub))["state"] == "done"

    with_hub(tmp_path, project, story, rasa)


def test_a_reload_cut_short_by_the_hub_stopping_ends_failed_and_reopens_the_bot_gate():
    """No server needed: the reloader and the hub's own gate, with a Rasa that never finishes loading."""

    class NeverLoads(FakeRasa):
        async def replace_model(self, model_file: str, timeout: float = 600.0) -> str:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    async def main() -> None:
        gate = LocalBotGate()
        hub = SimpleNamespace(settings=SimpleNamespace(rasa_token=RASA_TOKEN), rasa=NeverLoads())

        async def reload_model(model_file: str) -> tuple[str, float]:
            async with gate.closed():
                return await hub.rasa.replace_model(model_file), 0.0

        hub.reload_model = reload_model
        reloader = ModelReloader(cast(Hub, hub))
        reloader.start("models/next.tar.gz")
        await asyncio.sleep(0.05)
        asking = asyncio.create_task(_ask(gate))
        await asyncio.sleep(0.05)
        assert not asking.done(), "the gate is closed while Rasa loads"
        assert reloader._task is not None
        reloader._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reloader.wait()
        assert reloader.status.state == "failed"
        assert reloader.status.error == "the hub stopped before Rasa had loaded the model"
        assert reloader.status.finished_at is not None
        await asyncio.wait_for(asking, 1)

    asyncio.run(main())


async def _ask(gate: LocalBotGate) -> None:
    async with gate.asking():
        pass
