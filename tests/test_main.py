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

    from bot.core.review_inbox import ReviewInbox
    from bot.store.agents import AgentStore
    from bot.store.conversations import ConversationStore
    from bot.store.database import create_engine
    from bot.store.records import NewMessage

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


def seeded_hub_database(tmp_path) -> tuple[dict[str, str], dict[str, list]]:
    """A hub database holding the known week of tests/service_history.py; the env to run on it, and its tables."""
    from bot.store.database import create_engine
    from bot.store.schema import create_schema
    from tests.service_history import expected_tables, seed_history

    database = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = create_engine(database)
    create_schema(engine)
    history = seed_history(engine)
    engine.dispose()
    return {"DATABASE_URL": database}, expected_tables(history)


def test_report_prints_the_service_figures_as_aligned_text_with_percentages(tmp_path):
    from tests.service_history import ADA, BEN, SINCE, UNTIL

    env, _ = seeded_hub_database(tmp_path)
    printed = bot("report", "--since", SINCE, "--until", UNTIL, env=env)

    assert printed.returncode == 0, printed.stderr
    heading, *blocks = printed.stdout.split("\n\n")
    assert heading == "Frontline service report 2025-05-05 to 2025-05-11 (UTC days)"
    tables = {block.splitlines()[0]: block.splitlines()[2:] for block in blocks}
    assert list(tables) == [
        "Satisfaction by who handled it",
        "Bot containment",
        "Handoffs by reason",
        "Handoffs by intent",
        "Waiting and handling times",
        "Conversations per agent",
        "By day",
    ]
    satisfaction = tables["Satisfaction by who handled it"]
    assert [line.split("  ")[0] for line in satisfaction] == ["Bot", ADA, BEN]
    assert satisfaction[0].split()[1:] == ["4", "2", "50.0%", "3.25", "3", "2", "0", "66.7"]
    assert satisfaction[1].split()[3:] == ["3", "2", "66.7%", "3.67", "2", "1", "1", "0.0"]
    assert satisfaction[2].split()[3:] == ["2", "1", "50.0%", "4.0", "2", "0", "1", "-50.0"]
    assert tables["Bot containment"][0].split() == ["11", "5", "6", "45.5%", "54.5%"]
    assert tables["Handoffs by reason"][0].split() == ["not_understood", "3", "2", "18.2%"]
    assert tables["Handoffs by intent"][0].split() == ["track_order", "4", "2", "50.0%"]
    assert tables["Waiting and handling times"][1].split()[-3:] == ["6", "240.0", "572.5"]
    assert tables["Conversations per agent"][2].split()[-4:] == ["0", "0", "-", "-"]
    assert tables["By day"][2].split() == ["2025-05-07", "0", "0", "-", "0", "-", "-"]


def test_report_as_json_has_every_table_but_the_comments_as_counted_by_hand(tmp_path):
    import json

    from tests.service_history import SINCE, UNTIL

    env, expected = seeded_hub_database(tmp_path)
    printed = bot("report", "--since", SINCE, "--until", UNTIL, "--format", "json", env=env)

    assert printed.returncode == 0, printed.stderr
    report = json.loads(printed.stdout)
    assert report["period"] == {"since": SINCE, "until": UNTIL, "timezone": "UTC"}
    assert {table["name"]: table["rows"] for table in report["tables"]} == {
        name: rows for name, rows in expected.items() if name != "comments"
    }
    comments = bot("report", "--since", SINCE, "--until", UNTIL, "--format", "json", "--table", "comments",
                   "--search", "LOVE shop", env=env)  # fmt: skip
    assert [table["rows"] for table in json.loads(comments.stdout)["tables"]] == [
        [row for row in expected["comments"] if row["comment"] == "Love the SHOP"]
    ]


def test_report_as_csv_writes_one_table(tmp_path):
    from tests.service_history import FORMULA, SINCE, UNTIL

    env, _ = seeded_hub_database(tmp_path)
    satisfaction = bot("report", "--since", SINCE, "--until", UNTIL, "--format", "csv", "--table", "satisfaction",
                       env=env)  # fmt: skip
    comments = bot("report", "--since", SINCE, "--until", UNTIL, "--format", "csv", "--table", "comments",
                   "--search", "hyperlink", env=env)  # fmt: skip

    assert satisfaction.returncode == 0, satisfaction.stderr
    assert satisfaction.stdout.replace("\r\n", "\n") == (
        "Credited to,Ratings,Rated 4-5,CSAT,Average rating,NPS answers,Promoters,Detractors,NPS\n"
        "Bot,4,2,0.5,3.25,3,2,0,66.7\n"
        "Ada (history agent),3,2,0.6667,3.67,2,1,1,0.0\n"
        "Ben (history agent),2,1,0.5,4.0,2,0,1,-50.0\n"
    )
    assert comments.returncode == 0, comments.stderr
    assert "'" + FORMULA.replace('"', '""') in comments.stdout and len(comments.stdout.splitlines()) == 2


def test_report_refuses_bad_requests_with_exit_status_2(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}"}
    no_table = bot("report", "--format", "csv", env=env)
    two_tables = bot("report", "--format", "csv", "--table", "agents", "--table", "daily", env=env)
    bad_date = bot("report", "--since", "2025-02-30", env=env)
    backwards = bot("report", "--since", "2025-05-12", "--until", "2025-05-11", env=env)
    unknown = bot("report", "--table", "leaderboard", env=env)
    end_of_time = bot("report", "--since", "9999-12-30", "--until", "9999-12-31", env=env)

    assert (no_table.returncode, two_tables.returncode) == (2, 2)
    assert "--format csv writes one table" in no_table.stderr and "--table NAME" in two_tables.stderr
    assert bad_date.returncode == 2 and "error: 'since' must be a date like" in bad_date.stderr
    assert backwards.returncode == 2 and "is after" in backwards.stderr
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr
    assert end_of_time.returncode == 2 and end_of_time.stderr.startswith("error: ")
    assert no_table.stdout == two_tables.stdout == bad_date.stdout == backwards.stdout == ""


def test_reload_sends_only_a_model_inside_models_and_says_why_it_failed(tmp_path):
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "models" / "next.tar.gz").write_bytes(b"a model")
    (tmp_path / "outside.tar.gz").write_bytes(b"not for Rasa")
    nowhere = "http://127.0.0.1:9"
    env = {"FRONTLINE_PROJECT_DIR": str(project), "HUB_PORT": "9", "RASA_URL": nowhere, "RASA_TOKEN": "t" * 40}
    for model in ("/etc/passwd", str(tmp_path / "outside.tar.gz"), f"{project}/models/../../outside.tar.gz"):
        refused = bot("reload", "--model", model, env=env)
        assert refused.returncode == 2, refused.stderr
        inside = f"inside {project / 'models'}"
        assert refused.stderr == f"error: model_file must be a .tar.gz file {inside}; {model!r} is not\n"
    unreachable = bot("reload", "--model", str(project / "models" / "next.tar.gz"), env=env)
    assert unreachable.returncode == 1 and "Traceback" not in unreachable.stderr
    assert unreachable.stdout.startswith("no hub running")
    assert unreachable.stderr.startswith("error: the reload failed: cannot connect to Rasa")


def test_a_bad_setting_is_named_in_one_line_with_exit_status_2_not_a_traceback(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}", "RASA_TIMEOUT_MS": "soon"}
    for args in ((), ("agents", "list")):
        refused = bot(*args, env=env)
        assert refused.returncode == 2
        assert refused.stderr.strip() == "error: RASA_TIMEOUT_MS must be a whole number, not 'soon'"
