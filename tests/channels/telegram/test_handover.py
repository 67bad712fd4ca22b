"""The counsellor handover end to end: the real bot, a staff supergroup with forum topics on the
fake Bot API, a real SQLite file."""

from __future__ import annotations

import datetime
import io
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from bot.channels.telegram import BotSetup
from bot.config import Deployment, HandoverSetting, TeamSetting
from bot.dialogue import Engine
from bot.dialogue.engine import END_CASE
from bot.handover.case import Case, CaseState
from bot.runtime import Runtime
from bot.store import StoredSession
from bot.store.sqlite import SQLiteStore
from tests.channels.telegram.conftest import (
    ANA,
    RunningBot,
    last_screen,
    press,
    settled,
    start_bot,
)
from tests.clock import SettableClock
from tests.conftest import MINIMAL_FLOW, engine_for
from tests.fake_bot_api import CONTENT_EXAMPLES, Call, FakeBotAPI, Person

STAFF = {"id": -1009876543210, "type": "supergroup", "title": "Team", "is_forum": True}
OTHER_GROUP = {"id": -1001234567890, "type": "supergroup", "title": "Irgendeine Gruppe"}
DORA = Person(user_id=5550100, first_name="Dora", language_code="de")  # a counsellor
BEA = Person(user_id=5550004, first_name="Bea", language_code="de")
NEW_PHONE = Person(user_id=5550005, first_name="Nina", language_code="ro")


@dataclass
class Handover:
    bot: RunningBot
    api: FakeBotAPI

    @property
    def running(self) -> Runtime:
        return self.bot.application.bot_data["wegweiser"]

    async def ask(self, person: Person = ANA, language: str = "Română") -> Call:
        """The person asks for a counsellor and confirms; returns the screen they get."""
        self.api.send_text(person, "/start")
        await press(self.api, person, language)
        await press(self.api, person, "Zum Menü")
        await press(self.api, person, "Beraterin")
        return await press(self.api, person, "Ja, bitte")

    def topic(self) -> tuple[int, dict]:
        (thread, topic), *_ = [
            t for t in self.api.topics(STAFF["id"]).items() if not t[1]["deleted"]
        ][-1:]
        return thread, topic

    def in_topic(self, thread: int) -> list[dict]:
        return list(self.api.topic_messages(STAFF["id"], thread).values())

    async def session(self, person: Person = ANA) -> StoredSession:
        """The person's session as the bot's database file holds it."""
        store = await SQLiteStore.open(self.bot.database)
        try:
            stored = await store.load(
                self.bot.setup.keys.pseudonym("telegram", str(person.user_id))
            )
            assert stored is not None
            return stored
        finally:
            await store.close()

    async def case(self, code: str) -> Case:
        store = await SQLiteStore.open(self.bot.database)
        try:
            case = await store.case(code)
            assert case is not None
            return case
        finally:
            await store.close()


def deployment_with(deployment: Deployment, **handover: object) -> Deployment:
    return deployment.model_copy(update={"handover": HandoverSetting(**handover)})  # type: ignore[arg-type]


@pytest.fixture
def handover_engine(deployment: Deployment) -> Engine:
    return engine_for(MINIMAL_FLOW, deployment, handover_available=True)


async def started(
    api: FakeBotAPI, setup: BotSetup, engine: Engine, deployment: Deployment
) -> Handover:
    api.add_chat(STAFF)
    api.make_admin(STAFF)
    bot = await start_bot(
        engine, replace(setup, deployment=deployment, staff_chat_id=STAFF["id"]), api
    )
    return Handover(bot, api)


@pytest.fixture
async def desk(
    api: FakeBotAPI, setup: BotSetup, handover_engine: Engine, deployment: Deployment
) -> AsyncIterator[Handover]:
    running = await started(api, setup, handover_engine, deployment)
    yield running
    await running.bot.stop()


def sent_to(api: FakeBotAPI, chat_id: int, after: int = 0) -> list[Call]:
    return [c for c in api.calls[after:] if c.params.get("chat_id") == chat_id and c.fault is None]


def return_codes(database: Path) -> int:
    """How many return codes the bot's database file holds."""
    with closing(sqlite3.connect(database)) as connection:
        (count,) = connection.execute("SELECT count(*) FROM return_codes").fetchone()
        return int(count)


def identity_strings(person: Person) -> list[str]:
    return [str(person.user_id), person.first_name, person.last_name or "§", person.username or "§"]


# -- request, confirm, topic, card -----------------------------------------------------------------


async def test_a_request_opens_a_topic_with_an_anonymous_name_and_card(
    desk: Handover, api: FakeBotAPI
) -> None:
    waiting = await desk.ask()

    assert waiting.params["text"].startswith("Eine Beraterin antwortet bald.")
    assert desk.running.desk is not None
    thread, topic = desk.topic()
    code = topic["name"].split(" · ")[0]
    assert topic["name"] == f"{code} · ro · general"
    card = desk.in_topic(thread)[1]  # after the forum_topic_created message
    assert card["text"].startswith(f"Case {code}\nLanguage: ro\nTopic area: general\nPath: ")
    assert "main.menu → main.counsellor" in card["text"]
    buttons = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["✋ Claim", "✔ Close", "🔑 Close + return code"]
    everything = json.dumps([topic, *desk.in_topic(thread)], ensure_ascii=False)
    for value in identity_strings(ANA):
        assert value not in everything
    # the button that ends the conversation is on the person's screen
    end = next(b for row in waiting.params["reply_markup"]["inline_keyboard"] for b in row)
    assert (end["text"], end["callback_data"]) == ("Gespräch beenden", END_CASE)


async def test_claim_reply_and_both_directions_by_copy_not_forward(
    desk: Handover, api: FakeBotAPI
) -> None:
    await desk.ask()
    thread, topic = desk.topic()
    card = desk.in_topic(thread)[1]

    api.press(
        DORA,
        card["message_id"],
        card["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        chat=STAFF,
    )
    claimed = await last_screen(api, ANA)
    assert claimed.params["text"].startswith("Eine Beraterin schreibt jetzt mit dir.")
    await settled(api)
    _, topic = desk.topic()
    assert "Dora" not in topic["name"]  # no alias chosen: no name at all
    shown = api.chat_messages(STAFF["id"])[card["message_id"]]["text"]
    assert "Status: claimed by a counsellor" in shown

    # the counsellor writes: the person gets a copy
    sent = len(api.calls)
    api.topic_message(STAFF, DORA, thread, "Hallo, ich bin da. Wie kann ich helfen?")
    copy = await api.wait_for(
        "copyMessage", lambda c: c.params["chat_id"] == ANA.user_id, after=sent
    )
    assert copy.params["from_chat_id"] == STAFF["id"]
    delivered = api.chat_messages(ANA.user_id)[copy.result["message_id"]]
    assert delivered["text"] == "Hallo, ich bin da. Wie kann ich helfen?"
    assert not {"forward_origin", "forward_from"} & delivered.keys()
    assert not api.calls_to("forwardMessage")

    # the person answers: the team gets a copy in the topic
    sent = len(api.calls)
    api.send_text(ANA, "Ich brauche einen Test.")
    relayed = await api.wait_for(
        "copyMessage", lambda c: c.params["chat_id"] == STAFF["id"], after=sent
    )
    assert relayed.params["message_thread_id"] == thread
    in_staff = api.chat_messages(STAFF["id"])[relayed.result["message_id"]]
    assert in_staff["text"] == "Ich brauche einen Test."
    assert in_staff.get("from", {}).get("id") != ANA.user_id  # sent by the bot, not as Ana
    for value in identity_strings(ANA):
        assert value not in json.dumps(in_staff, ensure_ascii=False)


async def test_a_photo_and_a_voice_note_go_both_ways(desk: Handover, api: FakeBotAPI) -> None:
    await desk.ask()
    thread, _ = desk.topic()

    for kind in ("photo", "voice"):
        sent = len(api.calls)
        api.send_message(ANA, **CONTENT_EXAMPLES[kind])
        to_staff = await api.wait_for(
            "copyMessage", lambda c: c.params["chat_id"] == STAFF["id"], after=sent
        )
        assert kind in api.chat_messages(STAFF["id"])[to_staff.result["message_id"]]
        sent = len(api.calls)
        api.topic_message(STAFF, DORA, thread, **CONTENT_EXAMPLES[kind])
        to_ana = await api.wait_for(
            "copyMessage", lambda c: c.params["chat_id"] == ANA.user_id, after=sent
        )
        assert kind in api.chat_messages(ANA.user_id)[to_ana.result["message_id"]]


async def test_edits_are_mirrored_and_replies_keep_their_threading(
    desk: Handover, api: FakeBotAPI
) -> None:
    await desk.ask()
    thread, _ = desk.topic()
    sent = len(api.calls)
    original = api.send_text(ANA, "Ich habe eine Frag")["message"]["message_id"]
    relayed = await api.wait_for(
        "copyMessage", lambda c: c.params["chat_id"] == STAFF["id"], after=sent
    )
    staff_copy = relayed.result["message_id"]

    sent = len(api.calls)
    api.edit_text(ANA, original, "Ich habe eine Frage.")
    edited = await api.wait_for(
        "editMessageText", lambda c: c.params["chat_id"] == STAFF["id"], after=sent
    )
    assert edited.params["message_id"] == staff_copy
    assert api.chat_messages(STAFF["id"])[staff_copy]["text"] == "Ich habe eine Frage."

    sent = len(api.calls)
    api.topic_message(STAFF, DORA, thread, "Gern, frag.", reply_to=staff_copy)
    answer = await api.wait_for(
        "copyMessage", lambda c: c.params["chat_id"] == ANA.user_id, after=sent
    )
    assert answer.params["reply_parameters"]["message_id"] == original

    sent = len(api.calls)
    api.edit_text(DORA, answer.params["message_id"], "Gern, frag nur.", chat=STAFF)
    mirrored = await api.wait_for(
        "editMessageText", lambda c: c.params["chat_id"] == ANA.user_id, after=sent
    )
    assert (
        api.chat_messages(ANA.user_id)[mirrored.params["message_id"]]["text"] == "Gern, frag nur."
    )


# -- ending, closing, leaving ---------------------------------------------------------------------


async def test_the_person_ends_the_conversation_with_one_button(
    desk: Handover, api: FakeBotAPI
) -> None:
    await desk.ask()
    thread, _ = desk.topic()

    ended = await press(api, ANA, "Gespräch beenden")

    assert ended.params["text"] == "Worum geht es?"  # back in the main menu
    toast = api.calls_to("answerCallbackQuery")[-1]
    assert toast.params["text"] == "Das Gespräch ist beendet."
    await settled(api)
    assert desk.topic()[1]["closed"]
    assert any(
        "The person ended the conversation." in m.get("text", "") for m in desk.in_topic(thread)
    )
    # the tree speaks again
    api.send_text(ANA, "Notfall")
    assert (await last_screen(api, ANA)).params["text"] == "Notruf 110. Hilfetelefon 116 016."


async def test_the_counsellor_closes_and_the_person_is_told(
    desk: Handover, api: FakeBotAPI
) -> None:
    await desk.ask()
    thread, topic = desk.topic()
    code = topic["name"].split(" · ")[0]

    api.topic_message(STAFF, DORA, thread, "/close")
    told = await api.wait_for(
        "sendMessage",
        lambda c: c.params["chat_id"] == ANA.user_id and "beendet" in c.params["text"],
    )

    assert told.params["text"] == "Die Beraterin hat das Gespräch beendet."
    await settled(api)
    assert desk.topic()[1]["closed"] and desk.topic()[1]["name"].startswith("✔ ")
    assert (await desk.case(code)).state is CaseState.CLOSED
    # typed text is the tree's again, not the counsellor's
    sent = len(api.calls)
    api.send_text(ANA, "hallo")
    await settled(api)
    assert not [c for c in api.calls[sent:] if c.method == "copyMessage"]


async def test_a_return_code_reconnects_to_the_same_topic_and_expires(
    api: FakeBotAPI, setup: BotSetup, handover_engine: Engine, deployment: Deployment
) -> None:
    clock = SettableClock()
    desk = await started(
        api,
        replace(setup, clock=clock),
        handover_engine,
        deployment_with(deployment, return_code_days=0.00004),
    )
    try:
        await desk.ask()
        thread, _ = desk.topic()
        card = desk.in_topic(thread)[1]
        close_with_code = card["reply_markup"]["inline_keyboard"][0][2]["callback_data"]
        api.press(DORA, card["message_id"], close_with_code, chat=STAFF)
        told = await api.wait_for(
            "sendMessage", lambda c: c.params["chat_id"] == ANA.user_id and "🔑" in c.params["text"]
        )
        return_code = told.params["text"].rsplit("\n🔑 ", 1)[-1]
        assert told.params["text"].startswith(
            "Die Beraterin hat das Gespräch beendet.\n\nMit diesem Code"
        )

        # from a new phone, the code leads to the same topic
        api.send_text(NEW_PHONE, "/start")
        await press(api, NEW_PHONE, "Română")
        api.send_text(NEW_PHONE, return_code.upper().replace("-", " "))
        resumed = await last_screen(api, NEW_PHONE)
        assert resumed.params["text"] == "Du bist wieder verbunden."
        sent = len(api.calls)
        api.send_text(NEW_PHONE, "Ich bin es wieder.")
        relayed = await api.wait_for(
            "copyMessage", lambda c: c.params["chat_id"] == STAFF["id"], after=sent
        )
        assert relayed.params["message_thread_id"] == thread
        assert not desk.topic()[1]["closed"]

        # a code works once; and an old one expires (0.00004 days: 3.5 s)
        api.topic_message(STAFF, DORA, thread, "/close code")
        told = await api.wait_for(
            "sendMessage",
            lambda c: c.params["chat_id"] == NEW_PHONE.user_id and "🔑" in c.params["text"],
            after=sent,
        )
        second_code = told.params["text"].rsplit("\n🔑 ", 1)[-1]
        clock.advance(3.6)  # longer than return_code_days
        api.send_text(BEA, "/start")
        await press(api, BEA, "Deutsch")
        api.send_text(BEA, second_code)
        assert (await last_screen(api, BEA)).params["text"] == "Ich verstehe nur die Knöpfe."
    finally:
        await desk.bot.stop()
    store = await SQLiteStore.open(desk.bot.database)
    await store.purge(clock.now())
    await store.close()
    assert return_codes(desk.bot.database) == 0


async def test_exit_after_a_conversation_makes_the_return_code_stop_working(
    desk: Handover, api: FakeBotAPI
) -> None:
    """cases.py person_erased: whoever finds the phone later must not get into the case."""
    await desk.ask()
    thread, _ = desk.topic()
    api.topic_message(STAFF, DORA, thread, "/close code")
    told = await api.wait_for(
        "sendMessage", lambda c: c.params["chat_id"] == ANA.user_id and "🔑" in c.params["text"]
    )
    return_code = told.params["text"].rsplit("\n🔑 ", 1)[-1]
    await settled(api)
    assert return_codes(desk.bot.database) == 1

    api.send_text(ANA, "/exit")
    await settled(api)

    api.send_text(NEW_PHONE, "/start")
    await press(api, NEW_PHONE, "Română")
    sent = len(api.calls)
    api.send_text(NEW_PHONE, return_code)
    assert (await last_screen(api, NEW_PHONE)).params["text"] == "Ich verstehe nur die Knöpfe."
    assert desk.topic()[1]["closed"]
    assert not sent_to(api, STAFF["id"], sent)
    assert return_codes(desk.bot.database) == 0


async def test_a_session_in_a_counsellor_conversation_is_kept_for_the_case_idle_days(
    desk: Handover, api: FakeBotAPI, deployment: Deployment
) -> None:
    """The retention the privacy screen promises: sessions.idle_hours in the tree,
    handover.idle_days while a case runs (and again in the tree once it ended)."""
    in_tree = datetime.timedelta(hours=deployment.sessions.idle_hours)
    in_case = datetime.timedelta(days=deployment.handover.idle_days)
    assert in_tree != in_case
    api.send_text(ANA, "/start")
    await press(api, ANA, "Română")
    stored = await desk.session()
    assert stored.dialogue.case is None
    assert stored.expires - stored.last_active == in_tree

    await press(api, ANA, "Zum Menü")
    await press(api, ANA, "Beraterin")
    await press(api, ANA, "Ja, bitte")
    api.send_text(ANA, "Eine Nachricht")
    await settled(api)
    stored = await desk.session()
    assert stored.dialogue.case is not None
    assert stored.expires - stored.last_active == in_case

    await press(api, ANA, "Gespräch beenden")
    stored = await desk.session()
    assert stored.dialogue.case is None
    assert stored.expires - stored.last_active == in_tree


async def test_exit_during_a_conversation_erases_the_chat_and_tells_the_topic_neutrally(
    desk: Handover, api: FakeBotAPI
) -> None:
    await desk.ask()
    thread, _ = desk.topic()
    api.send_text(ANA, "Eine Nachricht")
    await settled(api)

    api.send_text(ANA, "/exit")
    await settled(api)

    assert api.chat_messages(ANA.user_id) == {}
    notes = [m.get("text", "") for m in desk.in_topic(thread)]
    assert "ℹ️ The person has left the chat." in notes
    sent = len(api.calls)
    api.topic_message(STAFF, DORA, thread, "Bist du noch da?")
    await settled(api)
    assert not [c for c in api.calls[sent:] if c.method == "copyMessage"]
    assert any("Not delivered" in c.params.get("text", "") for c in sent_to(api, STAFF["id"], sent))


# -- availability ---------------------------------------------------------------------------------


def not_today() -> str:
    tomorrow = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)
    return ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[tomorrow.weekday()]


async def test_outside_office_hours_the_person_is_told_when_counsellors_are_back(
    api: FakeBotAPI, setup: BotSetup, handover_engine: Engine, deployment: Deployment
) -> None:
    day = not_today()
    team = TeamSetting(name="Beratung", hours=[{"days": day, "open": "10:00", "close": "12:00"}])  # type: ignore[list-item]
    desk = await started(api, setup, handover_engine, deployment_with(deployment, teams=[team]))
    try:
        told = await desk.ask()
        assert told.params["text"].startswith(
            "Gerade ist niemand da. Notruf 116 016. Wieder da:\n🕘 "
        )
        assert told.params["text"].endswith(", 10:00 (Ora Europei Centrale)")
        # the message waits in the topic
        thread, _ = desk.topic()
        sent = len(api.calls)
        api.send_text(ANA, "Ich schreibe trotzdem.")
        relayed = await api.wait_for(
            "copyMessage", lambda c: c.params["chat_id"] == STAFF["id"], after=sent
        )
        assert relayed.params["message_thread_id"] == thread
    finally:
        await desk.bot.stop()


async def test_nobody_claims_in_time_and_the_person_is_told_and_can_cancel(
    api: FakeBotAPI, setup: BotSetup, handover_engine: Engine, deployment: Deployment
) -> None:
    desk = await started(
        api, setup, handover_engine, deployment_with(deployment, claim_minutes=0.02)
    )
    try:
        await desk.ask()
        told = await api.wait_for(
            "sendMessage",
            lambda c: (
                c.params["chat_id"] == ANA.user_id
                and c.params["text"].startswith("Es dauert länger")
            ),
            timeout=10,
        )
        assert told.params["text"] == "Es dauert länger. Notruf 116 016."
        cancelled = await press(api, ANA, "Gespräch beenden")
        assert cancelled.params["text"] == "Worum geht es?"
    finally:
        await desk.bot.stop()


# -- failures -------------------------------------------------------------------------------------


async def test_a_blocked_bot_closes_the_case_with_a_note(desk: Handover, api: FakeBotAPI) -> None:
    await desk.ask()
    thread, topic = desk.topic()
    api.block(ANA.user_id)

    api.topic_message(STAFF, DORA, thread, "Hallo?")
    await settled(api)

    assert any("blocked the bot" in m.get("text", "") for m in desk.in_topic(thread))
    assert (await desk.case(topic["name"].split(" · ")[0])).state is CaseState.CLOSED


async def test_a_deleted_topic_is_made_again_and_the_message_delivered(
    desk: Handover, api: FakeBotAPI
) -> None:
    await desk.ask()
    thread, _ = desk.topic()
    await desk.bot.application.bot.delete_forum_topic(STAFF["id"], thread)

    sent = len(api.calls)
    api.send_text(ANA, "Ist da jemand?")
    relayed = await api.wait_for(
        "copyMessage",
        lambda c: c.params["chat_id"] == STAFF["id"] and c.error is None and c.result,
        after=sent,
    )

    new_thread, topic = desk.topic()
    assert new_thread != thread and not topic["deleted"]
    assert relayed.params["message_thread_id"] == new_thread


async def test_staff_commands_from_elsewhere_and_forged_buttons_do_nothing(
    desk: Handover, api: FakeBotAPI
) -> None:
    await desk.ask()
    _, topic = desk.topic()
    code = topic["name"].split(" · ")[0]

    api.group_message(OTHER_GROUP, DORA, "/close")
    screen = await last_screen(api, ANA)
    api.press(
        ANA,
        int(screen.result["message_id"])
        if screen.method == "sendMessage"
        else int(screen.params["message_id"]),
        f"case|close|{code}",
    )
    await settled(api)

    assert (await desk.case(code)).state is CaseState.WAITING
    assert not desk.topic()[1]["closed"]
    assert [c.method for c in sent_to(api, OTHER_GROUP["id"])] == ["leaveChat"]


async def test_no_relayed_message_is_lost_silently_or_doubled_while_a_fifth_of_calls_fail(
    api: FakeBotAPI, setup: BotSetup, handover_engine: Engine, deployment: Deployment
) -> None:
    """Faults of every kind, among them calls carried out whose answer never came back: a relay
    arrives once, or its sender is told that it did not or may not have."""
    desk = await started(api, setup, handover_engine, deployment)
    try:
        await desk.ask()
        thread, _ = desk.topic()
        kinds = ("retry_after", "server_error", "bad_gateway", "timeout", "answer_lost")
        api.fail_randomly(None, 0.2, kinds, seed=7, delay=1.5)
        for number in range(8):
            api.send_text(ANA, f"Nachricht {number}")
            await settled(api)
            api.topic_message(STAFF, DORA, thread, f"Antwort {number}")
            await settled(api)
        api.fail_randomly(None, 0, kinds)
        await settled(api)
    finally:
        await desk.bot.stop()
    in_topic = list(api.topic_messages(STAFF["id"], thread).values())
    texts = [m.get("text") for m in in_topic]
    to_ana = [m.get("text") for m in api.chat_messages(ANA.user_id).values()]
    # the counsellor is told in reply to each of theirs that did not or may not have arrived
    told = {
        m["reply_to_message"].get("text")
        for m in in_topic
        if m.get("text", "").startswith(("⚠️ Not delivered", "⚠️ Not confirmed"))
        and "reply_to_message" in m
    }
    answers = [f"Antwort {number}" for number in range(8)]
    assert all(to_ana.count(answer) == 1 or answer in told for answer in answers), (told, to_ana)
    assert all(to_ana.count(answer) <= 1 for answer in answers), to_ana
    # ... and the person of each of theirs, as many times as that happened
    missing = [n for n in range(8) if f"Nachricht {n}" not in texts]
    lost = to_ana.count("Deine Nachricht ist nicht angekommen.")
    in_doubt = to_ana.count("Deine Nachricht ist vielleicht nicht angekommen.")
    assert lost <= len(missing) <= lost + in_doubt, (missing, to_ana)
    assert all(texts.count(f"Nachricht {number}") <= 1 for number in range(8)), texts
    # the faults did not stop most of it
    assert len(missing) + len(told) < 6, (missing, told)


@pytest.mark.parametrize("side", ["counsellor", "person"])
async def test_a_relay_whose_answer_was_lost_is_not_sent_again_and_its_sender_is_told(
    desk: Handover, api: FakeBotAPI, side: str
) -> None:
    """Telegram carried the copy out, but its answer never came: a repeat would arrive twice."""
    await desk.ask()
    thread, _ = desk.topic()
    await settled(api)
    api.fail("copyMessage", "answer_lost", delay=0.2)
    if side == "counsellor":
        api.topic_message(STAFF, DORA, thread, "Antwort")
    else:
        api.send_text(ANA, "Nachricht")
    await settled(api)

    to_ana = [m.get("text") for m in api.chat_messages(ANA.user_id).values()]
    in_topic = [m.get("text", "") for m in desk.in_topic(thread)]
    if side == "counsellor":
        assert to_ana.count("Antwort") == 1, to_ana
        told = [m for m in desk.in_topic(thread) if m.get("text", "").startswith("⚠️ Not conf")]
        assert [m["reply_to_message"]["text"] for m in told] == ["Antwort"]
    else:
        assert in_topic.count("Nachricht") == 1, in_topic
        assert to_ana.count("Deine Nachricht ist vielleicht nicht angekommen.") == 1, to_ana
    assert len(api.calls_to("copyMessage")) == 1


async def test_a_relay_that_met_a_server_error_is_sent_again(
    desk: Handover, api: FakeBotAPI
) -> None:
    """An error answer means Telegram did nothing: the relay is repeated, and arrives once."""
    await desk.ask()
    thread, _ = desk.topic()
    await settled(api)
    api.fail("copyMessage", "bad_gateway")
    api.topic_message(STAFF, DORA, thread, "Antwort")
    await settled(api)

    to_ana = [m.get("text") for m in api.chat_messages(ANA.user_id).values()]
    assert to_ana.count("Antwort") == 1, to_ana
    assert not [m for m in desk.in_topic(thread) if m.get("text", "").startswith("⚠️")]


async def test_asking_again_within_the_retention_time_reopens_the_same_topic(
    desk: Handover, api: FakeBotAPI
) -> None:
    await desk.ask()
    thread, _ = desk.topic()
    await press(api, ANA, "Gespräch beenden")
    await settled(api)
    assert desk.topic()[1]["closed"]

    await press(api, ANA, "Beraterin")
    again = await press(api, ANA, "Ja, bitte")

    assert again.params["text"].startswith("Eine Beraterin antwortet bald.")
    reopened, topic = desk.topic()
    assert reopened == thread and not topic["closed"]
    assert len(api.topics(STAFF["id"])) == 1
    assert any("asked for a counsellor again" in m.get("text", "") for m in desk.in_topic(thread))


async def test_after_a_counsellor_conversation_the_file_and_logs_hold_no_identity_or_text(
    api: FakeBotAPI,
    setup: BotSetup,
    handover_engine: Engine,
    deployment: Deployment,
    logs: io.StringIO,
) -> None:
    desk = await started(api, setup, handover_engine, deployment)
    secret_text = "Mein Zuhälter heißt Marius und wohnt in der Hafenstraße 9"
    try:
        await desk.ask()
        thread, _ = desk.topic()
        api.send_text(ANA, secret_text)
        await settled(api)
        api.topic_message(STAFF, DORA, thread, "Danke, das bleibt unter uns.")
        await settled(api)
    finally:
        await desk.bot.stop()
    stored = b"".join(
        path.read_bytes()
        for path in (desk.bot.database, Path(f"{desk.bot.database}-wal"))
        if path.exists()
    )
    logged = logs.getvalue()
    for value in [*identity_strings(ANA), secret_text, "Marius", "Danke, das bleibt"]:
        assert value.encode() not in stored, value
        assert value not in logged, value
    assert ANA.user_id.to_bytes(8, "big", signed=True) not in stored
