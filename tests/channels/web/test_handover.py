"""A counsellor conversation from the web: the same case desk and the same Telegram staff group
as for Telegram (the fake Bot API), the web chat over real HTTP."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing

import pytest

from bot.channels.telegram import BotSetup
from bot.channels.web.app import WebSetup
from bot.config import Deployment
from bot.dialogue import Engine
from tests.channels.telegram.conftest import ANA, last_screen, press
from tests.channels.telegram.test_handover import DORA, NEW_PHONE
from tests.channels.telegram.test_privacy import database_bytes
from tests.channels.web.conftest import WebPerson
from tests.channels.web.staffed import (
    STAFF,
    LivePage,
    Staffed,
    rows,
    start_staffed,
    telegram_setup,
)
from tests.conftest import MINIMAL_FLOW, MINIMAL_LOCALES, engine_for
from tests.fake_bot_api import CONTENT_EXAMPLES, FakeBotAPI, Person


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
def handover_engine(deployment: Deployment) -> Engine:
    return engine_for(MINIMAL_FLOW, deployment, locales=MINIMAL_LOCALES, handover_available=True)


@pytest.fixture
async def both(
    handover_engine: Engine, setup: BotSetup, api: FakeBotAPI, web_setup: WebSetup
) -> AsyncIterator[Staffed]:
    running = await start_staffed(handover_engine, telegram_setup(setup, api), api, web_setup)
    yield running
    await running.stop()


@pytest.fixture
async def web_person(both: Staffed) -> AsyncIterator[WebPerson]:
    browser = both.person()
    yield browser
    await browser.close()


async def test_a_web_request_opens_a_topic_in_the_staff_group_with_its_card(
    both: Staffed, web_person: WebPerson
) -> None:
    await both.ask(web_person)

    page = await web_person.open()
    assert page.screen.text.startswith("Eine Beraterin antwortet bald.")
    assert "Gespräch beenden" in page.screen.buttons
    thread, topic = both.topic()
    code = topic["name"].split(" · ")[0]
    assert topic["name"] == f"{code} · de · general"
    card = both.in_topic(thread)[1]
    assert card["text"].startswith(f"Case {code}\nLanguage: de\n")


async def test_typed_web_messages_reach_the_topic_as_the_bots_own_text(
    both: Staffed, api: FakeBotAPI, web_person: WebPerson
) -> None:
    await both.ask(web_person)
    thread, _ = both.topic()
    sent = len(api.calls)

    await web_person.say("Ich brauche einen Termin zum Testen.")

    relayed = await api.wait_for(
        "sendMessage",
        lambda c: c.params["chat_id"] == STAFF["id"] and "Termin" in c.params["text"],
        after=sent,
    )
    assert relayed.params["message_thread_id"] == thread
    assert not [c for c in api.calls[sent:] if c.method in ("copyMessage", "forwardMessage")]
    in_staff = api.chat_messages(STAFF["id"])[relayed.result["message_id"]]
    assert in_staff["text"] == "Ich brauche einen Termin zum Testen."
    assert in_staff["from"]["is_bot"]
    # nothing of the browser in the copy: no cookie, token, address or session key
    cookie = web_person.client.cookies["s"]
    everything = json.dumps(both.in_topic(thread), ensure_ascii=False)
    for value in (cookie, web_person.last.token, "127.0.0.1", "web"):
        assert value not in everything
    # and the person's own message shows in their chat log, the case's answer below it
    page = await web_person.open()
    assert [e.text for e in page.log if e.kind == "person"] == [
        "Ich brauche einen Termin zum Testen."
    ]


async def test_a_counsellors_reply_and_edit_reach_the_open_page_live(
    both: Staffed, api: FakeBotAPI, web_person: WebPerson
) -> None:
    await both.ask(web_person)
    thread, _ = both.topic()

    async with LivePage.of(web_person) as live:
        reply = api.topic_message(STAFF, DORA, thread, "Hallo, ich bin Dora. Wie geht es dir?")
        shown = await live.wait(lambda op: "ich bin Dora" in op.get("html", ""), timeout=5)
        api.edit_text(
            DORA,
            reply["message"]["message_id"],
            "Hallo, ich bin Dora. Was brauchst du?",
            chat=STAFF,
        )
        edited = await live.wait(lambda op: "Was brauchst du" in op.get("html", ""), timeout=5)

    assert edited["put"] == shown["put"]  # the same entry, replaced in place
    page = await web_person.open()
    said = [e.text for e in page.log if e.kind == "counsellor"]
    assert said == ["Hallo, ich bin Dora. Was brauchst du?"]
    # the first reply claims the case; the person was told
    assert "Eine Beraterin schreibt jetzt mit dir." in [e.text for e in page.log]


async def test_a_reply_while_the_page_is_closed_waits_in_the_transcript(
    both: Staffed, api: FakeBotAPI, web_person: WebPerson
) -> None:
    await both.ask(web_person)
    thread, _ = both.topic()

    api.topic_message(STAFF, DORA, thread, "Ich melde mich morgen wieder.")
    await api.wait_handled()

    page = await web_person.open()
    assert "Ich melde mich morgen wieder." in [e.text for e in page.log if e.kind == "counsellor"]
    assert b"Ich melde mich morgen wieder." not in database_bytes(both.database)


async def test_a_photo_for_a_web_person_does_not_arrive_and_the_counsellor_is_told(
    both: Staffed, api: FakeBotAPI, web_person: WebPerson
) -> None:
    await both.ask(web_person)
    thread, _ = both.topic()
    before = await web_person.open()
    sent = len(api.calls)

    photo = api.topic_message(STAFF, DORA, thread, **CONTENT_EXAMPLES["photo"])

    told = await api.wait_for(
        "sendMessage",
        lambda c: c.params["chat_id"] == STAFF["id"] and "Not delivered" in c.params["text"],
        after=sent,
    )
    assert told.params["message_thread_id"] == thread
    assert told.params["reply_parameters"]["message_id"] == photo["message"]["message_id"]
    assert "text only" in told.params["text"]
    assert "send it again" not in told.params["text"]  # the same photo would fail again
    after = await web_person.open()
    assert [(e.kind, e.text) for e in after.log] == [(e.kind, e.text) for e in before.log]


async def test_quick_exit_closes_the_case_with_the_usual_note_and_leaves_nothing(
    both: Staffed, api: FakeBotAPI, web_person: WebPerson
) -> None:
    await both.ask(web_person)
    thread, _ = both.topic()
    await web_person.say("Eine Nachricht, die niemand finden soll.")
    api.topic_message(STAFF, DORA, thread, "Ich bin da.")
    await api.wait_handled()
    assert rows(both.database, "transcript_entries") > 0

    reply = await web_person.post("/x")
    await api.wait_handled()

    assert reply.status_code == 303
    assert "ℹ️ The person has left the chat." in [m.get("text") for m in both.in_topic(thread)]
    assert both.topic()[1]["closed"]
    for table in ("sessions", "transcripts", "transcript_entries", "return_codes"):
        assert rows(both.database, table) == 0, table
    # the case stays for the counsellors (until handover.case_days), no longer linked to anyone;
    # as on Telegram it keeps which staff copy answers which message number, nothing more
    with closing(sqlite3.connect(both.database)) as connection:
        assert connection.execute("SELECT person FROM cases").fetchall() == [(None,)]
    # the counsellor learns that nothing reaches the person any more
    sent = len(api.calls)
    api.topic_message(STAFF, DORA, thread, "Bist du noch da?")
    told = await api.wait_for(
        "sendMessage",
        lambda c: c.params["chat_id"] == STAFF["id"] and "Not delivered" in c.params["text"],
        after=sent,
    )
    assert told.params["message_thread_id"] == thread


async def test_exit_typed_in_a_counsellor_conversation_is_the_quick_exit(
    both: Staffed, api: FakeBotAPI, web_person: WebPerson
) -> None:
    await both.ask(web_person)
    thread, _ = both.topic()
    sent = len(api.calls)

    reply = await web_person.post("/s", text="/exit")
    await api.wait_handled()

    assert reply.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    assert rows(both.database, "sessions") == rows(both.database, "transcript_entries") == 0
    # the command is not passed on to the counsellors as a message of the person's
    assert not [c for c in api.calls[sent:] if "/exit" in str(c.params.get("text", ""))]
    assert "ℹ️ The person has left the chat." in [m.get("text") for m in both.in_topic(thread)]


# -- return codes across channels -----------------------------------------------------------------


async def telegram_asks(api: FakeBotAPI, person: Person) -> None:
    api.send_text(person, "/start")
    await press(api, person, "Deutsch")
    await press(api, person, "Zum Menü")
    await press(api, person, "Beraterin")
    await press(api, person, "Ja, bitte")


def code_in(text: str) -> str:
    return text.rsplit("\n🔑 ", 1)[-1]


@pytest.mark.parametrize("first_screen", [False, True], ids=["after-language", "first-screen"])
async def test_a_case_begun_on_telegram_is_resumed_on_the_web_with_its_return_code(
    both: Staffed, api: FakeBotAPI, web_person: WebPerson, first_screen: bool
) -> None:
    await telegram_asks(api, ANA)
    thread, _ = both.topic()
    api.topic_message(STAFF, DORA, thread, "/close code")
    told = await api.wait_for(
        "sendMessage", lambda c: c.params["chat_id"] == ANA.user_id and "🔑" in c.params["text"]
    )
    return_code = code_in(told.params["text"])
    await api.wait_handled()
    assert both.topic()[1]["closed"]

    await web_person.open()
    if not first_screen:  # typed on the very first screen, before any language was chosen
        await web_person.press("Deutsch")
    page = await web_person.say(return_code.upper().replace("-", " "))

    assert page.screen.text == "Du bist wieder verbunden."
    assert not both.topic()[1]["closed"]
    assert both.topic()[0] == thread
    sent = len(api.calls)
    await web_person.say("Ich bin es, jetzt im Browser.")
    relayed = await api.wait_for(
        "sendMessage",
        lambda c: c.params["chat_id"] == STAFF["id"] and "im Browser" in c.params["text"],
        after=sent,
    )
    assert relayed.params["message_thread_id"] == thread
    async with LivePage.of(web_person) as live:
        api.topic_message(STAFF, DORA, thread, "Schön, dass du wieder da bist.")
        await live.wait(lambda op: "wieder da bist" in op.get("html", ""))
    # and the old Telegram chat is no longer in the case
    sent = len(api.calls)
    api.send_text(ANA, "Und noch etwas aus Telegram.")
    await api.wait_handled()
    # (a card edited late for the return may still reach the group: only Ana's message counts)
    assert not [
        c
        for c in api.calls[sent:]
        if c.params.get("chat_id") == STAFF["id"]
        and (
            c.params.get("from_chat_id") == ANA.user_id or "noch etwas" in c.params.get("text", "")
        )
    ]


async def test_a_case_begun_on_the_web_is_resumed_on_telegram_with_its_return_code(
    both: Staffed, api: FakeBotAPI, web_person: WebPerson
) -> None:
    await both.ask(web_person)
    thread, _ = both.topic()
    api.topic_message(STAFF, DORA, thread, "/close code")
    await api.wait_handled()
    page = await web_person.open()
    (told,) = [e.text for e in page.log if "🔑" in e.text]
    assert told.startswith("Die Beraterin hat das Gespräch beendet.")
    return_code = code_in(told)

    api.send_text(NEW_PHONE, "/start")
    await press(api, NEW_PHONE, "Deutsch")
    api.send_text(NEW_PHONE, return_code)
    resumed = await last_screen(api, NEW_PHONE)

    assert resumed.params["text"] == "Du bist wieder verbunden."
    sent = len(api.calls)
    api.send_text(NEW_PHONE, "Jetzt schreibe ich aus Telegram.")
    relayed = await api.wait_for(
        "copyMessage", lambda c: c.params["chat_id"] == STAFF["id"], after=sent
    )
    assert relayed.params["message_thread_id"] == thread
    sent = len(api.calls)
    api.topic_message(STAFF, DORA, thread, "Angekommen.")
    await api.wait_for(
        "copyMessage", lambda c: c.params["chat_id"] == NEW_PHONE.user_id, after=sent
    )
    # the web page is no longer in the case: a counsellor's reply does not show there
    page = await web_person.open()
    assert "Angekommen." not in [e.text for e in page.log]
