"""Customers on Telegram, for real: the hub in webhook mode, a Bot API double, Rasa, actions, the console API."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.store import schema as t
from bot.store.database import create_engine
from tests.hub_clients import AgentClient
from tests.rasa_stack import RasaStack
from tests.telegram_api import TelegramApiServer, make_user, post_update

SECRET = "frontline-test-secret_42"
PUBLIC_URL = "https://shop.example.com"
_user_ids = itertools.count(7770001)


@pytest.fixture(scope="module")
def telegram() -> Iterator[TelegramApiServer]:
    with TelegramApiServer() as api:
        yield api


def hub_env(telegram: TelegramApiServer, database, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{database}",
        "TELEGRAM_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.url,
        "TELEGRAM_WEBHOOK_URL": PUBLIC_URL,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "MAX_MESSAGE_CHARS": "6000",
        **extra,
    }


@pytest.fixture(scope="module")
def telegram_hub(assistant: RasaStack, telegram: TelegramApiServer, tmp_path_factory) -> Iterator[RasaStack]:
    database = tmp_path_factory.mktemp("telegram_hub") / "hub.db"
    assistant.start_hub(env=hub_env(telegram, database))
    assistant.hub_database = database
    telegram.wait_for("setWebhook")
    try:
        yield assistant
    finally:
        assistant.stop_hub()


@pytest.fixture
def hub_asking_both(telegram_hub: RasaStack, telegram: TelegramApiServer) -> Iterator[RasaStack]:
    """The module's hub restarted with FEEDBACK_QUESTIONS=csat,nps (stars, then how likely to recommend us)."""
    database = telegram_hub.hub_database
    telegram_hub.start_hub(env=hub_env(telegram, database, FEEDBACK_QUESTIONS="csat,nps"))
    try:
        yield telegram_hub
    finally:
        telegram_hub.start_hub(env=hub_env(telegram, database))


class Customer:
    """One Telegram user writing to the shop's bot, through the webhook as Telegram delivers updates."""

    def __init__(self, hub: RasaStack, api: TelegramApiServer, first_name: str = "Ada") -> None:
        self.hub = hub
        self.api = api
        self.user = make_user(next(_user_ids), first_name=first_name, last_name="Tester", username=None)
        self.chat_id = self.user["id"]

    def post(self, update: dict, secret: str | None = SECRET) -> tuple[int, str]:
        return post_update(f"{self.hub.hub_url}/telegram/webhook", update, secret)

    def says(self, text: str) -> dict:
        update = self.api.text_update(text, user=self.user)
        status, body = self.post(update)
        assert status == 200, body
        return update

    def sent(self) -> list[str]:
        return self.api.sent_texts(self.chat_id)

    def wait_for_text(self, fragment: str, timeout: float = 20.0) -> dict:
        call = self.api.wait_for(
            "sendMessage",
            lambda c: (
                c.params.get("chat_id") == self.chat_id and fragment in str(c.params.get("text")) and c.status == 200
            ),
            timeout=timeout,
        )
        return call.params

    def conversation_id(self) -> str:
        engine = create_engine(f"sqlite:///{self.hub.hub_database}")
        with engine.connect() as conn:
            return conn.execute(
                select(t.conversations.c.id)
                .join(t.customers, t.customers.c.id == t.conversations.c.customer_id)
                .where(t.customers.c.channel == "telegram", t.customers.c.external_id == str(self.chat_id))
            ).scalar_one()

    def stored_texts(self) -> list[str]:
        engine = create_engine(f"sqlite:///{self.hub.hub_database}")
        with engine.connect() as conn:
            return list(
                conn.execute(
                    select(t.messages.c.text)
                    .where(t.messages.c.conversation_id == self.conversation_id(), t.messages.c.sender == "customer")
                    .order_by(t.messages.c.id)
                ).scalars()
            )


async def with_an_agent(customer: Customer, agent: AgentClient) -> str:
    """The customer asks for a person on Telegram and an online agent claims them; the conversation id."""
    await agent.login()
    await agent.go_online()
    customer.post(customer.api.command_update("/human", user=customer.user))
    customer.wait_for_text("in line")
    conversation_id = customer.conversation_id()
    assert (await agent.post(f"/api/conversations/{conversation_id}/claim")).status_code == 200
    return conversation_id


def run(scenario):
    return asyncio.run(scenario())


def test_the_hub_registers_its_webhook_with_the_secret_token(telegram_hub, telegram):
    webhook = telegram.webhook
    assert webhook is not None and webhook.url == f"{PUBLIC_URL}/telegram/webhook"
    assert webhook.secret_token == SECRET
    assert set(webhook.allowed_updates) == {"message", "edited_message", "callback_query"}


def test_a_customer_gets_the_bot_answer_with_a_typing_action_first(telegram_hub, telegram):
    customer = Customer(telegram_hub, telegram)
    customer.says("where is my order 00123842?")
    answer = customer.wait_for_text("on its way with DHL")
    typing = telegram.wait_for("sendChatAction", lambda c: c.params.get("chat_id") == customer.chat_id)
    assert typing.params["action"] == "typing"
    assert "parse_mode" not in answer


@pytest.mark.parametrize("secret", [None, "wrong-secret", SECRET + "x"])
def test_an_update_without_the_right_secret_is_refused_and_not_stored(telegram_hub, telegram, secret):
    customer = Customer(telegram_hub, telegram)
    status, _ = customer.post(telegram.text_update("where is my order 00123842?", user=customer.user), secret)
    assert status == 403
    engine = create_engine(f"sqlite:///{telegram_hub.hub_database}")
    with engine.connect() as conn:
        known = conn.execute(
            select(func.count()).select_from(t.customers).where(t.customers.c.external_id == str(customer.chat_id))
        ).scalar_one()
    assert known == 0


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'{"message": {}}'])
def test_a_malformed_update_gets_a_clear_400(telegram_hub, body):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{telegram_hub.hub_url}/telegram/webhook",
        data=body,
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 400


def test_an_update_telegram_delivers_twice_is_stored_once_and_answered_once(telegram_hub, telegram):
    customer = Customer(telegram_hub, telegram)
    update = telegram.text_update("how long does delivery take?", user=customer.user)
    assert customer.post(update)[0] == 200
    assert customer.post(update)[0] == 200
    customer.wait_for_text("working days")
    assert customer.stored_texts() == ["how long does delivery take?"]
    asyncio.run(asyncio.sleep(1.0))
    assert len([text for text in customer.sent() if "working days" in text]) == 1


def test_start_greets_and_help_says_what_the_bot_does_with_buttons(telegram_hub, telegram):
    customer = Customer(telegram_hub, telegram)
    assert customer.post(telegram.command_update("/start", user=customer.user))[0] == 200
    customer.wait_for_text("Hi")
    assert customer.post(telegram.command_update("/help", user=customer.user))[0] == 200
    help_message = customer.wait_for_text("/human")
    titles = [row[0]["text"] for row in help_message["reply_markup"]["inline_keyboard"]]
    assert "Talk to a person" in titles


def test_a_button_tap_reaches_the_bot_as_its_payload(telegram_hub, telegram):
    customer = Customer(telegram_hub, telegram)
    customer.says("tell me a joke")
    menu = customer.wait_for_text("I can help with your orders")
    buttons = [row[0] for row in menu["reply_markup"]["inline_keyboard"]]
    track = next(b for b in buttons if "rack" in b["text"])
    tap = telegram.callback_update(track["callback_data"], user=customer.user)
    assert customer.post(tap)[0] == 200
    customer.wait_for_text("order number")
    answered = telegram.wait_for("answerCallbackQuery")
    assert answered.params["callback_query_id"] == tap["callback_query"]["id"] and not answered.failed
    telegram.wait_for("editMessageReplyMarkup", lambda c: c.params.get("chat_id") == customer.chat_id)
    assert track["text"] in customer.stored_texts()


def test_a_forged_button_is_answered_and_ignored(telegram_hub, telegram):
    customer = Customer(telegram_hub, telegram)
    customer.says("tell me a joke")
    customer.wait_for_text("I can help with your orders")
    tap = telegram.callback_update("b:1:0", user=customer.user, strict=False)
    assert customer.post(tap)[0] == 200
    telegram.wait_for("answerCallbackQuery", lambda c: c.params["callback_query_id"] == tap["callback_query"]["id"])
    assert customer.stored_texts() == ["tell me a joke"]


def test_a_whole_handoff_over_telegram_with_an_agent_in_the_console(telegram_hub, telegram):
    async def scenario():
        customer = Customer(telegram_hub, telegram, first_name="Grace")
        agent = AgentClient(telegram_hub.hub_url)
        try:
            assert (await agent.login()).status_code == 200
            await agent.go_online()
            assert customer.post(telegram.command_update("/human", user=customer.user))[0] == 200
            customer.wait_for_text("in line")
            conversation_id = customer.conversation_id()
            waiting = (await agent.get("/api/queue")).json()["waiting"]
            mine = next(c for c in waiting if c["id"] == conversation_id)
            assert mine["channel"] == "telegram" and mine["customer_name"] == "Grace Tester"

            assert (await agent.post(f"/api/conversations/{conversation_id}/claim")).status_code == 200
            customer.wait_for_text("has joined the conversation")
            reply = "Hi Grace, Sam here. <b>Prices</b> in *bold* & 5 < 6_ok [x](y)"
            assert (
                await agent.post(f"/api/conversations/{conversation_id}/messages", {"text": reply})
            ).status_code == 201
            assert customer.wait_for_text("Sam here")["text"].endswith(reply)

            customer.says("it's about the blue bottle")
            await asyncio.sleep(0.5)
            view = (await agent.get(f"/api/conversations/{conversation_id}")).json()
            assert view["messages"][-1]["text"] == "it's about the blue bottle"
            assert "it's about the blue bottle" not in [
                e.get("text") for e in telegram_hub.tracker(conversation_id)["events"] if e["event"] == "user"
            ]

            assert (await agent.post(f"/api/conversations/{conversation_id}/resolve")).status_code == 200
            asked = customer.wait_for_text("How did we do?")
            stars = asked["reply_markup"]["inline_keyboard"][0]
            five = next(b for b in stars if b["text"].endswith("5"))
            assert customer.post(telegram.callback_update(five["callback_data"], user=customer.user))[0] == 200
            customer.wait_for_text("Thank you for your feedback")
            engine = create_engine(f"sqlite:///{telegram_hub.hub_database}")
            with engine.connect() as conn:
                rating = conn.execute(select(t.ratings).where(t.ratings.c.conversation_id == conversation_id)).one()
            assert (rating.score, rating.agent_id) == (5, agent.agent["id"])
        finally:
            await agent.close()

    run(scenario)


def feedback(hub: RasaStack, conversation_id: str) -> tuple[list[tuple], list[tuple]]:
    """The (score, agent_id) answers stored for the conversation: stars, then how likely to recommend us."""
    with create_engine(f"sqlite:///{hub.hub_database}").connect() as conn:
        stars, nps = (
            [
                tuple(row)
                for row in conn.execute(
                    select(table.c.score, table.c.agent_id).where(table.c.conversation_id == conversation_id)
                )
            ]
            for table in (t.ratings, t.nps_scores)
        )
    return stars, nps


def test_a_shop_asking_both_questions_gets_stars_then_a_0_to_10_keyboard_on_telegram(hub_asking_both, telegram):
    async def scenario():
        customer = Customer(hub_asking_both, telegram, first_name="Noor")
        agent = AgentClient(hub_asking_both.hub_url)
        try:
            conversation_id = await with_an_agent(customer, agent)
            assert (await agent.post(f"/api/conversations/{conversation_id}/resolve")).status_code == 200
            return customer, conversation_id, agent.agent["id"]
        finally:
            await agent.close()

    customer, conversation_id, agent_id = run(scenario)
    asked = customer.wait_for_text("How did we do?")
    assert "recommend" not in asked["text"]
    stars = asked["reply_markup"]["inline_keyboard"]
    assert len(stars) == 1 and len(stars[0]) == 5
    star_message_id = stars[0][0]["callback_data"].split(":")[1]
    forged_star = telegram.callback_update(f"b:{star_message_id}:5", user=customer.user, strict=False)
    assert customer.post(forged_star)[0] == 200
    telegram.wait_for(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == forged_star["callback_query"]["id"]
    )
    assert feedback(hub_asking_both, conversation_id) == ([], [])
    five = next(b for b in stars[0] if b["text"].endswith("5"))
    assert customer.post(telegram.callback_update(five["callback_data"], user=customer.user))[0] == 200

    nps = customer.wait_for_text("One more question")
    assert "How likely are you to recommend us" in nps["text"]
    rows = nps["reply_markup"]["inline_keyboard"]
    assert [[b["text"] for b in row] for row in rows] == [["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]
    assert feedback(hub_asking_both, conversation_id) == ([(5, agent_id)], [])
    nps_message_id = rows[0][0]["callback_data"].split(":")[1]
    assert nps_message_id != star_message_id
    forged = telegram.callback_update(f"b:{nps_message_id}:11", user=customer.user, strict=False)
    assert customer.post(forged)[0] == 200
    telegram.wait_for("answerCallbackQuery", lambda c: c.params["callback_query_id"] == forged["callback_query"]["id"])
    assert feedback(hub_asking_both, conversation_id) == ([(5, agent_id)], []), "a score off the scale is ignored"

    nine = next(b for b in rows[1] if b["text"] == "9")
    assert customer.post(telegram.callback_update(nine["callback_data"], user=customer.user))[0] == 200
    customer.wait_for_text("Thank you for your feedback")
    assert feedback(hub_asking_both, conversation_id) == ([(5, agent_id)], [(9, agent_id)])

    again = telegram.callback_update(rows[0][0]["callback_data"], user=customer.user, strict=False)
    assert customer.post(again)[0] == 200
    telegram.wait_for("answerCallbackQuery", lambda c: c.params["callback_query_id"] == again["callback_query"]["id"])
    asyncio.run(asyncio.sleep(0.5))
    assert feedback(hub_asking_both, conversation_id) == ([(5, agent_id)], [(9, agent_id)]), "answered once"
    assert not [text for text in customer.sent() if "One more question" in text][1:], "NPS is asked once"


def test_a_photo_during_an_agent_stretch_reaches_the_agent_with_its_file_id(telegram_hub, telegram):
    async def scenario():
        customer = Customer(telegram_hub, telegram)
        agent = AgentClient(telegram_hub.hub_url)
        try:
            conversation_id = await with_an_agent(customer, agent)
            photo = telegram.photo_update(caption="the broken handle", user=customer.user)
            assert customer.post(photo)[0] == 200
            file_id = photo["message"]["photo"][-1]["file_id"]
            await asyncio.sleep(0.5)
            view = (await agent.get(f"/api/conversations/{conversation_id}")).json()
            last = view["messages"][-1]
            assert file_id in last["text"] and "the broken handle" in last["text"]
            assert last["payload"]["attachment"] == {"type": "photo", "file_id": file_id}
            assert not [text for text in customer.sent() if "I can only read text" in text]
            await agent.post(f"/api/conversations/{conversation_id}/resolve")
        finally:
            await agent.close()

    run(scenario)


@pytest.mark.parametrize(
    ("build", "kind"),
    [
        (lambda api, user: api.sticker_update(user=user), "stickers"),
        (lambda api, user: api.voice_update(user=user), "voice messages"),
        (lambda api, user: api.document_update("receipt.pdf", "application/pdf", user=user), "documents"),
        (lambda api, user: api.location_update(51.5, -0.12, user=user), "locations"),
    ],
)
def test_what_the_bot_cannot_read_is_stored_and_the_customer_told(telegram_hub, telegram, build, kind):
    customer = Customer(telegram_hub, telegram)
    assert customer.post(build(telegram, customer.user))[0] == 200
    customer.wait_for_text(f"can't look at {kind}")
    assert customer.stored_texts()[0].startswith("[")


def test_an_edited_message_is_kept_and_the_bot_answers_the_new_text(telegram_hub, telegram):
    customer = Customer(telegram_hub, telegram)
    original = customer.says("wher is my ordr")
    customer.wait_for_text("")
    edited = telegram.edited_text_update("where is my order 00123842?", message=original["message"])
    assert customer.post(edited)[0] == 200
    customer.wait_for_text("on its way with DHL")
    assert customer.stored_texts() == ["wher is my ordr", "(edited) where is my order 00123842?"]


def test_a_long_agent_reply_is_split_cleanly_under_telegrams_limit(telegram_hub, telegram):
    async def scenario():
        customer = Customer(telegram_hub, telegram)
        agent = AgentClient(telegram_hub.hub_url)
        try:
            conversation_id = await with_an_agent(customer, agent)
            paragraph = "Here is what happened with your order, step by step. " * 19
            long_reply = "\n\n".join([paragraph.strip()] * 5)
            assert len(long_reply) >= 5000
            assert (
                await agent.post(f"/api/conversations/{conversation_id}/messages", {"text": long_reply})
            ).status_code == 201
            customer.wait_for_text(f"{agent.agent['display_name']}: Here is what happened")
            telegram.wait_for(
                "sendMessage",
                lambda c: (
                    c.params.get("chat_id") == customer.chat_id
                    and str(c.params.get("text")).startswith("Here is what happened")
                ),
            )
            pieces = [
                c.params["text"]
                for c in telegram.calls("sendMessage")
                if c.params.get("chat_id") == customer.chat_id and "step by step" in str(c.params.get("text"))
            ]
            assert len(pieces) == 2 and all(len(p) <= 4096 for p in pieces)
            assert all(p.endswith("step by step.") for p in pieces)
            assert pieces[1].startswith("Here is what happened")
            assert " ".join(pieces).split() == f"{agent.agent['display_name']}: {long_reply}".split()
            await agent.post(f"/api/conversations/{conversation_id}/resolve")
        finally:
            await agent.close()

    run(scenario)


def test_flood_control_is_waited_out_and_the_message_still_arrives(telegram_hub, telegram):
    customer = Customer(telegram_hub, telegram)
    telegram.fail_next("sendMessage", times=1, status=429, retry_after=1)
    customer.says("what payment methods do you accept?")
    customer.wait_for_text("PayPal")
    refused = [c for c in telegram.calls("sendMessage") if c.failed and c.status == 429]
    assert refused, "the double's 429 was not hit"


def test_a_network_failure_is_retried_and_nothing_is_dropped(telegram_hub, telegram):
    customer = Customer(telegram_hub, telegram)
    telegram.drop_next("sendMessage", times=2)
    customer.says("what's your refund policy")
    customer.wait_for_text("within 30 days of delivery", timeout=30)


def test_asking_for_a_person_again_while_waiting_repeats_the_place_in_line(telegram_hub, telegram):
    customer = Customer(telegram_hub, telegram)
    assert customer.post(telegram.command_update("/human", user=customer.user))[0] == 200
    telegram.wait_for(
        "sendMessage",
        lambda c: c.params.get("chat_id") == customer.chat_id and c.status == 200
        and ("in line" in str(c.params.get("text")) or "not available" in str(c.params.get("text"))),
    )  # fmt: skip
    seen = len(customer.sent())
    assert customer.post(telegram.command_update("/human", user=customer.user))[0] == 200
    telegram.wait_for(
        "sendMessage",
        lambda c: c.params.get("chat_id") == customer.chat_id and "in line" in str(c.params.get("text"))
        and len(customer.sent()) > seen,
    )  # fmt: skip
    assert customer.stored_texts() == ["/human", "/human"]
