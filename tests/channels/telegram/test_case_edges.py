"""The edges of a counsellor conversation end to end (the real runtime, the fake Bot API, a real
SQLite file): forged buttons, typed "/..." text, members who left the staff group, commands for
another bot, forum service messages, and a deployment without a staff group."""

from __future__ import annotations

import io
import json
from typing import Any

from bot.channels.telegram import BotSetup
from bot.dialogue import Engine
from bot.handover.case import CaseState
from tests.channels.telegram import test_handover
from tests.channels.telegram.conftest import (
    ANA,
    RunningBot,
    current_message_id,
    labels,
    last_screen,
    press,
    settled,
)
from tests.channels.telegram.test_handover import (
    DORA,
    STAFF,
    Handover,
    identity_strings,
    sent_to,
)
from tests.fake_bot_api import Call, FakeBotAPI

# The staff group's fixtures: a running bot with a staff forum.
desk, handover_engine = test_handover.desk, test_handover.handover_engine

STALE = "Dieser Knopf ist nicht mehr aktuell."


def case_code(desk: Handover) -> str:
    return str(desk.topic()[1]["name"].split(" · ")[0])


def card_data(desk: Handover, label: str) -> tuple[int, str]:
    """The case card's message id and the data of its button `label`."""
    thread, _ = desk.topic()
    card = desk.in_topic(thread)[1]
    buttons = [b for row in card["reply_markup"]["inline_keyboard"] for b in row]
    return card["message_id"], next(b["callback_data"] for b in buttons if label in b["text"])


def copies_to(api: FakeBotAPI, chat_id: int, after: int) -> list[Call]:
    return [c for c in sent_to(api, chat_id, after) if c.method == "copyMessage"]


def staff_notes(api: FakeBotAPI, after: int) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in sent_to(api, STAFF["id"], after)
        if c.method == "sendMessage"
    ]


def assert_no_trace(logs: io.StringIO, desk: Handover, *secrets: str) -> None:
    """Neither the logs nor the database files (with the write-ahead log) hold any of
    `secrets`."""
    files = desk.bot.database.parent.glob(f"{desk.bot.database.name}*")
    stored = b"".join(path.read_bytes() for path in files)
    for secret in secrets:
        assert secret not in logs.getvalue(), secret
        assert secret.encode() not in stored, secret


# -- 1. forged case buttons in a private chat -----------------------------------------------------


async def test_a_forged_case_button_in_a_private_chat_gets_the_stale_button_answer(
    desk: Handover, api: FakeBotAPI
) -> None:
    await desk.ask()
    code = case_code(desk)

    for forged in ("case|claim|XXXX", f"case|claim|{code}", f"case|close|{code}", ""):
        screen = await last_screen(api, ANA)
        api.press(ANA, current_message_id(api, screen), forged)
        await settled(api)

    toasts = [call.params.get("text") for call in api.calls_to("answerCallbackQuery")[-4:]]
    assert toasts == [STALE] * 4
    assert "not known" not in json.dumps([call.params for call in api.calls])
    assert (await desk.case(code)).state is CaseState.WAITING
    assert api.unanswered_callbacks == set()


# -- 2. typed "/..." text in a case ----------------------------------------------------------------


async def test_slash_text_that_is_no_command_is_relayed_both_ways(
    desk: Handover, api: FakeBotAPI, logs: io.StringIO
) -> None:
    await desk.ask()
    thread, _ = desk.topic()

    sent = len(api.calls)
    api.send_text(ANA, "/hilfe bitte, ist das normal?")
    await settled(api)
    relayed = copies_to(api, STAFF["id"], sent)
    assert len(relayed) == 1
    assert relayed[0].params["message_thread_id"] == thread

    sent = len(api.calls)
    api.topic_message(STAFF, DORA, thread, "/termin morgen um 10?")
    await settled(api)
    (copy,) = copies_to(api, ANA.user_id, sent)
    assert api.chat_messages(ANA.user_id)[copy.result["message_id"]]["text"] == (
        "/termin morgen um 10?"
    )
    # a known command of the person still acts: /menu shows the menu, nothing is relayed
    sent = len(api.calls)
    api.send_text(ANA, "/menu")
    assert (await last_screen(api, ANA)).params["text"] == "Worum geht es?"
    assert not copies_to(api, STAFF["id"], sent)
    assert_no_trace(logs, desk, "/hilfe", "/termin", *identity_strings(ANA))


# -- 3. members who left the staff group, or are restricted ---------------------------------------


async def test_a_member_who_left_or_is_restricted_can_neither_claim_nor_close_nor_write(
    desk: Handover, api: FakeBotAPI, logs: io.StringIO
) -> None:
    await desk.ask()
    thread, _ = desk.topic()
    code = case_code(desk)

    for status in ("left", "kicked", "restricted"):
        api.set_member(STAFF, DORA, status)
        sent = len(api.calls)
        for label in ("Claim", "Close"):
            card, data = card_data(desk, label)
            api.press(DORA, card, data, chat=STAFF)
            await settled(api)
        api.topic_message(STAFF, DORA, thread, "/close")
        api.topic_message(STAFF, DORA, thread, "Hallo, hier ist Dora.")
        await settled(api)

        assert (await desk.case(code)).state is CaseState.WAITING, status
        assert not copies_to(api, ANA.user_id, sent), status
        toasts = [c.params.get("text") for c in api.calls_to("answerCallbackQuery")[-2:]]
        assert toasts == ["Only members of the staff group can do this."] * 2, status

    # a member again: the same button works
    api.set_member(STAFF, DORA, "member")
    card, data = card_data(desk, "Claim")
    api.press(DORA, card, data, chat=STAFF)
    await settled(api)
    assert (await desk.case(code)).state is CaseState.CLAIMED
    assert "refused a staff action of a non-member" in logs.getvalue()
    assert_no_trace(logs, desk, "Hallo, hier ist Dora.", str(DORA.user_id), *identity_strings(ANA))


# -- 4. commands addressed to another bot ----------------------------------------------------------


async def test_a_command_for_another_bot_is_ignored(desk: Handover, api: FakeBotAPI) -> None:
    await desk.ask()
    thread, _ = desk.topic()
    code = case_code(desk)

    sent = len(api.calls)
    for command in ("/close@otherbot", "/close@otherbot code", "/stats@otherbot", "/alias@x Eva"):
        api.topic_message(STAFF, DORA, thread, command)
    await settled(api)
    assert (await desk.case(code)).state is CaseState.WAITING
    assert not copies_to(api, ANA.user_id, sent)
    assert staff_notes(api, sent) == []

    api.topic_message(STAFF, DORA, thread, "/close@Wegweiser_Test_Bot")
    await settled(api)
    assert (await desk.case(code)).state is CaseState.CLOSED


# -- 5. forum service messages ---------------------------------------------------------------------

SERVICE_MESSAGES: list[dict[str, Any]] = [
    {"forum_topic_edited": {"name": "renamed"}},
    {"forum_topic_closed": {}},
    {"forum_topic_reopened": {}},
    {"new_chat_members": [{"id": 5550200, "is_bot": False, "first_name": "Neu"}]},
    {"left_chat_member": {"id": 5550200, "is_bot": False, "first_name": "Neu"}},
]


async def test_forum_service_messages_in_a_case_topic_are_ignored(
    desk: Handover, api: FakeBotAPI
) -> None:
    await desk.ask()
    thread, _ = desk.topic()
    card = desk.in_topic(thread)[1]
    pinned = {"pinned_message": {k: v for k, v in card.items() if k != "reply_markup"}}

    sent = len(api.calls)
    for content in [*SERVICE_MESSAGES, pinned]:
        api.topic_message(STAFF, DORA, thread, **content)
    await settled(api)

    assert not copies_to(api, ANA.user_id, sent)
    assert staff_notes(api, sent) == []


# -- 6. no staff group -----------------------------------------------------------------------------


async def test_without_a_staff_group_the_counsellor_screen_gives_the_contacts_and_no_promise(
    bot: RunningBot, api: FakeBotAPI, engine: Engine, setup: BotSetup
) -> None:
    api.send_text(ANA, "/start")
    await press(api, ANA, "Română")
    await press(api, ANA, "Zum Menü")

    shown = await press(api, ANA, "Beraterin")

    assert shown.params["text"].startswith("Ruf uns an: 0123 111")
    assert "Möchtest du mit einer Beraterin sprechen?" not in shown.params["text"]
    assert "Ja, bitte" not in labels(shown)
    assert "Lieber anrufen" in labels(shown)
    # /counsellor leads to the same screen
    api.send_text(ANA, "/counsellor")
    assert (await last_screen(api, ANA)).params["text"] == shown.params["text"]
