"""`python -m bot agents add|list` manages console accounts from the command line."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.rasa_stack import PROJECT_ROOT


def bot(*args: str, stdin: str = "", env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
        cwd=PROJECT_ROOT, env={**os.environ, **env}, timeout=60, check=False,
    )  # fmt: skip


def test_an_account_is_created_from_the_command_line_and_listed(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}"}
    created = bot(
        "agents",
        "add",
        "--username",
        "jo",
        "--name",
        "Jo Bloggs",
        "--role",
        "supervisor",
        "--password-stdin",
        stdin="a strong password\n",
        env=env,
    )
    weak = bot("agents", "add", "--username", "kim", "--name", "Kim", "--password-stdin", stdin="short\n", env=env)
    listed = bot("agents", "list", env=env)
    assert created.returncode == 0 and "created supervisor jo" in created.stdout
    assert weak.returncode == 2 and "at least 8 characters" in weak.stderr
    assert "jo\tsupervisor\tJo Bloggs" in listed.stdout and "kim" not in listed.stdout


def test_review_export_writes_the_labelled_messages_into_the_project_and_says_what_it_wrote(tmp_path):
    import asyncio
    import datetime as dt
    import shutil

    from actions.database import create_engine
    from bot.agents import AgentStore
    from bot.conversations import ConversationStore, NewMessage
    from bot.review_inbox import ReviewInbox

    project = tmp_path / "project"
    project.mkdir()
    for name in ("domain.yml", "config.yml"):
        shutil.copy(PROJECT_ROOT / name, project / name)
    shutil.copytree(PROJECT_ROOT / "data", project / "data")
    (project / "data" / "nlu" / "reviewed.yml").unlink(missing_ok=True)
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    store = ConversationStore(create_engine(database))
    store.create_schema()

    async def a_conversation_the_bot_gave_up_on_labelled_by_a_trainer() -> None:
        chat = await store.current_conversation(await store.customer("web", "browser-1"))
        for text in ("can you gift wrap it", "is order 00123842 wrapped as a present", "wheres my parcel"):
            await store.add_customer_message(chat.id, NewMessage("customer", text))
        await store.queue(chat.id, reason="not_understood", priority="normal", summary="s", packet={}, source="bot")
        trainer = await AgentStore(store.engine).add("tess", "Tess Trainer", "long enough password", "trainer")
        inbox = ReviewInbox(store.engine)
        await inbox.refresh()
        gift, wrapped, parcel = await inbox.items()
        await inbox.label(gift.id, "gift_wrapping", trainer.id)
        await inbox.label(wrapped.id, "place_order", trainer.id)
        await inbox.label(parcel.id, "track_order", trainer.id)

    asyncio.run(a_conversation_the_bot_gave_up_on_labelled_by_a_trainer())
    store.engine.dispose()
    real_export = PROJECT_ROOT / "data" / "nlu" / "reviewed.yml"
    before = real_export.read_bytes() if real_export.exists() else None

    exported = bot(
        "review", "export", "--by", "Ops Lead",
        env={"DATABASE_URL": database, "FRONTLINE_PROJECT_DIR": str(project)},
    )  # fmt: skip

    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.splitlines() == [
        "1 examples in data/nlu/reviewed.yml: place_order 1",
        "intents not in domain.yml yet, in review/new_intents.yml: gift_wrapping",
        "1 already in data/ or repeated, left out",
    ]
    written = (project / "data" / "nlu" / "reviewed.yml").read_text()
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert "# Exported by Ops Lead on " in written
    assert f"- intent: place_order\n  # labelled by Tess Trainer on {today}\n" in written
    assert "00123842" not in written and "(order_id) wrapped as a present" in written
    assert "- can you gift wrap it" in (project / "review" / "new_intents.yml").read_text()
    assert (real_export.read_bytes() if real_export.exists() else None) == before
