"""What /exit leaves, and what the counters see, with a staff group: the real runtime against the
fake Bot API, a real SQLite file. "On the phone" is what the fake API still holds in the person's
chat after /exit: it knows every message that exists there."""

from __future__ import annotations

import asyncio
import datetime
import io
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.channels.telegram import BotSetup
from bot.config import Deployment
from bot.dialogue import Engine
from bot.stats import CountRow
from bot.store import StoreError
from tests.channels.telegram.conftest import (
    ANA,
    RunningBot,
    button_data,
    current_message_id,
    last_screen,
    log_events,
    press,
    session_count,
    settled,
    start_bot,
    with_deployment,
)
from tests.channels.telegram.test_handover import DORA, STAFF, Handover, return_codes, started
from tests.channels.telegram.test_operations import counters, get
from tests.channels.telegram.test_privacy import TYPED, database_bytes, identity_of_ana
from tests.conftest import MINIMAL_FLOW, engine_for
from tests.fake_bot_api import FakeBotAPI


@pytest.fixture
def handover_engine(deployment: Deployment) -> Engine:
    return engine_for(MINIMAL_FLOW, deployment, handover_available=True)


@pytest.fixture
async def desk(
    api: FakeBotAPI, setup: BotSetup, handover_engine: Engine, deployment: Deployment
) -> AsyncIterator[Handover]:
    running = await started(
        api, replace(setup, operations=("127.0.0.1", 0)), handover_engine, deployment
    )
    yield running
    await running.bot.stop()


async def settled_slowly(api: FakeBotAPI) -> None:
    """Settled, with time for calls that hang before they are retried."""
    await api.wait_handled(timeout=20)


# -- the counters ----------------------------------------------------------------------------------


async def test_a_request_for_a_counsellor_is_counted_when_a_case_opens(
    desk: Handover, api: FakeBotAPI
) -> None:
    await desk.ask()
    await settled(api)

    today = datetime.datetime.now(datetime.UTC).date()
    assert CountRow(today, "handover_requested", "ro", "general", 1) in await counters(desk.bot)
    _, metrics = await get(desk.bot, "/metrics")
    requested = 'wegweiser_events_total{area="general",event="handover_requested",language="ro"}'
    assert f"{requested} 1.0" in metrics


# -- /exit: the person's side first --------------------------------------------------------------


def staff_calls(api: FakeBotAPI, after: int) -> list[int]:
    """Indexes of the calls to the staff group from call `after` on."""
    return [
        index
        for index, call in enumerate(api.calls[after:], after)
        if call.params.get("chat_id") == STAFF["id"]
    ]


async def test_exit_in_a_case_erases_the_chat_before_the_staff_group_hears_of_it(
    desk: Handover, api: FakeBotAPI
) -> None:
    await desk.ask()
    thread, _ = desk.topic()
    api.send_text(ANA, "Eine Nachricht")
    await settled(api)
    # The staff group is slow (as at its 20 messages a minute): its calls hang, then succeed.
    for method in ("sendMessage", "editForumTopic", "closeForumTopic"):
        api.fail(method, "timeout", delay=3.0)
    sent = len(api.calls)

    api.send_text(ANA, "/exit")
    erased = await api.wait_for(
        "deleteMessages", lambda c: c.params["chat_id"] == ANA.user_id, after=sent, timeout=1.5
    )

    assert api.chat_messages(ANA.user_id) == {}
    assert all(index > api.calls.index(erased) for index in staff_calls(api, sent))
    await settled_slowly(api)
    assert "ℹ️ The person has left the chat." in [m.get("text") for m in desk.in_topic(thread)]
    assert desk.topic()[1]["closed"]


async def test_exit_erases_everything_when_the_case_desk_fails(
    desk: Handover, api: FakeBotAPI, logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    await desk.ask()
    api.send_text(ANA, "Eine Nachricht")
    await settled(api)
    assert desk.running.desk is not None

    async def broken(code: str) -> None:
        raise StoreError("the database is gone")

    monkeypatch.setattr(desk.running.desk.store, "forget_return_codes", broken)
    api.send_text(ANA, "/exit")
    await settled(api)

    assert api.chat_messages(ANA.user_id) == {}
    assert await session_count(desk.bot) == 0
    failed = [e for e in log_events(logs) if str(e["event"]).startswith("could not close the case")]
    assert failed and failed[0]["error"] == "StoreError"


# -- every message on record --------------------------------------------------------------------


async def test_exit_after_a_flood_deletes_the_refused_messages_too(
    engine: Engine, setup: BotSetup, api: FakeBotAPI
) -> None:
    limits = setup.deployment.limits.model_copy(update={"burst": 5, "per_minute": 600})
    running = await start_bot(engine, with_deployment(setup, limits=limits), api)
    try:
        api.send_text(ANA, "/start")
        for number in range(40):
            api.send_text(ANA, f"hallo {number}")
        await settled(api)
        flooded = len(api.chat_messages(ANA.user_id))
        assert flooded > 41  # the person's 41, the screens, one request to slow down
        await asyncio.sleep(0.2)  # a token for /exit

        api.send_text(ANA, "/exit")
        await settled(api)

        assert api.chat_messages(ANA.user_id) == {}
        assert await session_count(running) == 0
    finally:
        await running.stop()


async def test_refused_messages_are_on_record_without_identity(
    engine: Engine, setup: BotSetup, api: FakeBotAPI, logs: io.StringIO
) -> None:
    limits = setup.deployment.limits.model_copy(update={"burst": 2, "per_minute": 1})
    running = await start_bot(engine, with_deployment(setup, limits=limits), api)
    try:
        api.send_text(ANA, "/start")
        for _ in range(10):
            api.send_text(ANA, TYPED)
        await settled(api)
        stored = await Handover(running, api).session(ANA)
        assert len(stored.messages) == len(api.chat_messages(ANA.user_id))
    finally:
        await running.stop()

    kept = database_bytes(running.database) + logs.getvalue().encode()
    for name, needle in identity_of_ana().items():
        assert needle not in kept, name


@pytest.mark.parametrize("how", ["typed", "pressed"])
async def test_exit_in_the_middle_of_a_flood_is_never_refused(
    engine: Engine, setup: BotSetup, api: FakeBotAPI, how: str
) -> None:
    limits = setup.deployment.limits.model_copy(update={"burst": 5, "per_minute": 1})
    running = await start_bot(engine, with_deployment(setup, limits=limits), api)
    try:
        api.send_text(ANA, "/start")
        shown = await last_screen(api, ANA)
        for number in range(30):
            api.send_text(ANA, f"hallo {number}")

        if how == "typed":
            api.send_text(ANA, "/exit")
        else:
            api.press(ANA, current_message_id(api, shown), "!exit")
        await settled(api)

        assert api.chat_messages(ANA.user_id) == {}
        assert await session_count(running) == 0
    finally:
        await running.stop()


async def test_a_delivery_that_breaks_halfway_keeps_what_it_sent_for_exit(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    api.send_text(ANA, "/start")
    await press(api, ANA, "Deutsch")
    await press(api, ANA, "Zum Menü")
    await press(api, ANA, "Gesundheit")
    api.fail("sendMessage", "bad_request")  # the screen under the picture

    shown = await last_screen(api, ANA)
    api.press(ANA, current_message_id(api, shown), button_data(shown, "Test"))
    photo = await api.wait_for("sendPhoto")
    await settled(api)
    assert photo.result["message_id"] in api.chat_messages(ANA.user_id)

    api.send_text(ANA, "/exit")
    await settled(api)

    assert api.chat_messages(ANA.user_id) == {}


async def test_a_message_whose_answer_was_lost_is_deleted_by_exit_all_the_same(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    """Telegram sent the screen but its answer never came (so its id was never recorded), and
    the retry sent it again: /exit deletes both, the one it knows and the one between."""
    api.send_text(ANA, "/start")
    await press(api, ANA, "Deutsch")
    api.fail("sendMessage", "answer_lost", delay=0.2)
    api.send_text(ANA, "/menu")
    await settled(api)
    lost = [c for c in api.calls_to("sendMessage") if c.fault == "answer_lost"]
    assert len(lost) == 1 and lost[0].result["message_id"] in api.chat_messages(ANA.user_id)

    api.send_text(ANA, "/exit")
    await settled(api)

    assert api.chat_messages(ANA.user_id) == {}


# -- /exit whatever runs beside it --------------------------------------------------------------


@pytest.mark.parametrize(
    ("beside", "exit_first"),
    [
        ("close with a code", True),
        ("relay", True),
        ("relay and close", True),
        ("relay and close", False),
    ],
)
async def test_exit_leaves_nothing_whatever_a_counsellor_does_at_the_same_moment(
    desk: Handover, api: FakeBotAPI, beside: str, exit_first: bool
) -> None:
    await desk.ask()
    thread, topic = desk.topic()
    card = desk.in_topic(thread)[1]
    api.send_text(ANA, "Eine Nachricht")
    api.topic_message(STAFF, DORA, thread, "Hallo, ich bin da.")
    await settled(api)
    code = topic["name"].split(" · ")[0]

    def counsellor() -> None:
        if beside.startswith("relay"):
            api.topic_message(STAFF, DORA, thread, "Noch eine Nachricht.")
        if "close" in beside:
            button = 2 if "code" in beside else 1
            data = card["reply_markup"]["inline_keyboard"][0][button]["callback_data"]
            api.press(DORA, card["message_id"], data, chat=STAFF)

    # the staff group is slow (its flood limit), which widens every window
    for method in ("sendMessage", "editForumTopic", "editMessageText", "closeForumTopic"):
        api.fail(method, "timeout", times=1, delay=1.5)
    # in one batch of updates, so that they run side by side
    if not exit_first:
        counsellor()
    api.send_text(ANA, "/exit")
    if exit_first:
        counsellor()
    await settled_slowly(api)

    assert api.chat_messages(ANA.user_id) == {}
    assert await session_count(desk.bot) == 0
    assert (await desk.case(code)).person is None


async def test_after_exit_a_new_conversation_hears_nothing_of_the_old_case(
    desk: Handover, api: FakeBotAPI
) -> None:
    await desk.ask()
    thread, _ = desk.topic()
    card = desk.in_topic(thread)[1]
    api.send_text(ANA, "Eine Nachricht")
    await settled(api)
    close = card["reply_markup"]["inline_keyboard"][0][2]["callback_data"]  # with a return code
    # the staff group is slow: the close's news comes after the person has left and come back
    for method in ("editForumTopic", "closeForumTopic"):
        api.fail(method, "timeout", times=1, delay=1.5)

    api.press(DORA, card["message_id"], close, chat=STAFF)
    api.send_text(ANA, "/exit")
    api.send_text(ANA, "/start")
    await settled_slowly(api)

    # the new conversation: the /start and the language screen, nothing else
    left = sorted(api.chat_messages(ANA.user_id).values(), key=lambda m: m["message_id"])
    assert [m.get("text") for m in left] == ["/start", "Bitte wähl deine Sprache."]


async def test_a_close_begun_before_exit_does_not_link_the_case_to_the_person_again(
    desk: Handover, api: FakeBotAPI
) -> None:
    """A counsellor's close read the case just before the person's /exit closed and unlinked
    it (a button handler between its read and its write): the close must act on the case as it
    is, not bring back the erased person's pseudonym and a return code for them."""
    await desk.ask()
    _, topic = desk.topic()
    code = topic["name"].split(" · ")[0]
    services = desk.running.services
    assert services is not None and services.counselling is not None
    read_before_exit = await services.counselling.desk.case(code)
    assert read_before_exit is not None

    api.send_text(ANA, "/exit")
    await settled(api)
    await services.counselling.close(read_before_exit, with_code=True)

    assert (await desk.case(code)).person is None
    assert return_codes(desk.bot.database) == 0
    key = desk.bot.setup.keys.pseudonym("telegram", str(ANA.user_id))
    assert await services.counselling.desk.case_of_person(key) is None


async def test_a_turn_that_fails_keeps_the_persons_message_for_exit(
    desk: Handover, api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.send_text(ANA, "/start")
    await press(api, ANA, "Deutsch")
    services = desk.running.services
    assert services is not None and services.desk is not None

    async def broken(*args: object) -> None:
        raise StoreError("the database is gone")

    monkeypatch.setattr(services.desk.store, "case_of_return_code", broken)
    typed = api.send_text(ANA, "pony-umbrella-peach-11")["message"]["message_id"]  # a return code?
    await settled(api)
    assert typed in api.chat_messages(ANA.user_id)
    monkeypatch.undo()

    api.send_text(ANA, "/exit")
    await settled(api)

    assert api.chat_messages(ANA.user_id) == {}


async def test_a_picture_sent_while_the_store_fails_is_still_deleted_by_exit(
    bot: RunningBot, api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.send_text(ANA, "/start")
    await press(api, ANA, "Deutsch")
    await press(api, ANA, "Zum Menü")
    await press(api, ANA, "Gesundheit")
    store = bot.runtime.store
    assert store is not None

    async def broken(*args: object) -> None:
        raise StoreError("the database is gone")

    monkeypatch.setattr(store, "remember_media", broken)
    shown = await press(api, ANA, "Test")  # a picture, then the screen under it
    assert shown.params["text"] == "Beim Gesundheitsamt kannst du dich testen lassen."
    monkeypatch.undo()

    api.send_text(ANA, "/exit")
    await settled(api)

    assert api.chat_messages(ANA.user_id) == {}


async def test_exit_closes_the_case_even_when_the_store_fails_after_the_erasure(
    desk: Handover, api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As under concurrent turns, when the file rebuild after a deletion fails ("cannot VACUUM
    from within a transaction"): the row is gone, the call raises."""
    await desk.ask()
    thread, topic = desk.topic()
    code = topic["name"].split(" · ")[0]
    store = desk.bot.runtime.store
    assert store is not None
    delete = store.delete

    async def vacuum_fails(key: bytes) -> bool:
        await delete(key)
        raise StoreError("cannot VACUUM from within a transaction")

    monkeypatch.setattr(store, "delete", vacuum_fails)
    api.send_text(ANA, "/exit")
    await settled(api)

    assert api.chat_messages(ANA.user_id) == {}
    assert (await desk.case(code)).person is None
    assert "ℹ️ The person has left the chat." in [m.get("text") for m in desk.in_topic(thread)]
