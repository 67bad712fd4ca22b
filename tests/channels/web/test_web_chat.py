"""The web chat over real HTTP, as a browser without JavaScript uses it: plain form posts."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import replace

import httpx

from bot.channels.telegram import BotSetup
from bot.channels.web.app import BODY_LIMIT, WebSetup
from bot.config import Deployment
from bot.dialogue import Engine
from tests.channels.web.conftest import RunningWeb, WebPerson, start_web
from tests.clock import SettableClock
from tests.conftest import SHIPPED_FLOWS, engine_for


def rows(web: RunningWeb, table: str) -> int:
    with sqlite3.connect(web.database) as connection:
        return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


async def test_the_first_page_shows_the_language_choice_and_stores_nothing(
    web: RunningWeb, person: WebPerson
) -> None:
    page = await person.open()

    assert page.status == 200
    assert page.screen.buttons.keys() >= {"Română"}
    assert rows(web, "sessions") == rows(web, "transcripts") == 0


async def test_every_answer_is_kept_out_of_caches_referrers_and_frames(person: WebPerson) -> None:
    page = await person.open()
    missing = await person.client.get("/no-such-page")

    for headers in (page.headers, missing.headers):
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer"
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "http" not in policy.replace("https://example.org", "")  # no other host
    assert missing.status_code == 404 and missing.text == ""


async def test_the_session_cookie_is_http_only_strict_and_ends_with_the_browser(
    person: WebPerson,
) -> None:
    page = await person.open()

    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "expires" not in cookie and "max-age" not in cookie
    assert page.token not in cookie  # the form token is derived, not the cookie itself


async def test_a_walk_through_the_topics_and_back_in_the_chosen_language(
    person: WebPerson,
) -> None:
    await person.open()
    page = await person.press("Română")
    assert page.lang == "ro"
    welcome = page.screen

    page = await person.press(next(iter(page.screen.buttons)))  # to the menu
    assert page.screen.ref == welcome.ref  # the pressed screen is replaced in place
    assert page.screen.text != welcome.text

    back = next(label for label in page.screen.buttons if "napoi" in label)  # "Înapoi"
    page = await person.press(back)
    assert page.screen.text == welcome.text


async def test_typed_text_shows_in_the_log_and_a_keyword_leads_to_its_screen(
    person: WebPerson,
) -> None:
    await person.open()
    await person.press("Deutsch")
    page = await person.say("notfall")

    typed = [entry for entry in page.log if entry.kind == "person"]
    assert [entry.text for entry in typed] == ["notfall"]
    assert page.log[-1].kind == "screen" and page.log[-1].ref > typed[0].ref
    assert "Notfall" in page.screen.text or "110" in page.screen.text


async def test_a_forged_button_value_gets_the_current_screen_again_not_an_error(
    person: WebPerson,
) -> None:
    await person.open()
    before = await person.press("Deutsch")

    reply = await person.post("/p", choice="topic.start|99<script>", screen=str(before.screen.ref))
    page = await person.open()

    assert reply.status_code == 303
    assert "<script>" not in page.body.split("</head>", 1)[1].replace("<script", "")
    assert page.screen.buttons == before.screen.buttons


async def test_a_form_without_the_token_or_over_the_size_limit_does_nothing(
    web: RunningWeb, person: WebPerson
) -> None:
    await person.open()
    await person.press("Deutsch")
    entries = rows(web, "transcript_entries")

    forged = await person.client.post(
        "/s", data={"text": "hallo"}, headers={"X-Requested-With": "fetch"}
    )
    huge = await person.post("/s", text="x" * BODY_LIMIT)

    assert forged.status_code == 403
    assert huge.status_code == 303
    assert rows(web, "transcript_entries") == entries


async def test_the_quick_exit_erases_the_session_and_tells_the_browser_to_forget(
    web: RunningWeb, person: WebPerson
) -> None:
    await person.open()
    await person.press("Deutsch")
    await person.say("eine Frage zu meiner Krankenversicherung")
    assert rows(web, "sessions") == 1 and rows(web, "transcript_entries") > 0

    reply = await person.post("/x")

    assert reply.status_code == 303
    assert reply.headers["location"] == "https://example.org/weather"
    assert reply.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    assert "max-age=0" in reply.headers["set-cookie"].lower()
    assert rows(web, "sessions") == rows(web, "transcripts") == 0
    assert rows(web, "transcript_entries") == 0


async def test_exit_typed_in_the_text_box_is_the_quick_exit_too(
    web: RunningWeb, person: WebPerson
) -> None:
    await person.open()
    await person.press("Deutsch")

    reply = await person.post("/s", text="/exit")

    assert reply.headers["location"] == "https://example.org/weather"
    assert reply.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    assert rows(web, "sessions") == rows(web, "transcript_entries") == 0


async def test_the_transcript_is_sealed_another_cookie_sees_nothing_of_it(
    web: RunningWeb, person: WebPerson
) -> None:
    await person.open()
    await person.press("Deutsch")
    await person.say("Mein Freier heißt Zoltán")
    other = web.person()
    try:
        stranger = await other.open()
    finally:
        await other.close()

    assert "Zoltán" in (await person.open()).body
    assert "Zoltán" not in stranger.body
    assert "Zoltán".encode() not in web.database.read_bytes()


async def test_the_conversation_so_far_survives_a_restart_of_the_process(
    web: RunningWeb, person: WebPerson
) -> None:
    await person.open()
    await person.press("Deutsch")
    before = await person.say("notfall")
    await web.runtime.stop()

    again = await start_web(web.runtime.engines.engine, web.setup, web.runtime.web.setup)
    try:
        person.client.base_url = httpx.URL(again.url)
        after = await person.open()
    finally:
        await again.runtime.stop()
        await web.runtime.start()  # for the fixture's own stop

    assert [(e.kind, e.text) for e in after.log] == [(e.kind, e.text) for e in before.log]


async def test_an_open_page_receives_what_another_tab_of_the_same_person_caused(
    person: WebPerson,
) -> None:
    await person.open()
    await person.press("Deutsch")
    received: list[dict[str, object]] = []

    async def listen() -> None:
        async with person.client.stream("GET", "/e") as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    received.append(json.loads(line[6:]))
                    if any("put" in op for op in received):
                        return

    listening = asyncio.create_task(listen())
    while not received:  # the first event is the whole log
        await asyncio.sleep(0.02)
    await person.say("notfall")
    await asyncio.wait_for(listening, 10)

    assert "sync" in received[0]
    assert any("notfall" in str(op.get("html", "")) for op in received[1:])


async def test_the_shipped_flows_show_web_wording_on_the_web_not_telegrams(
    setup: BotSetup, web_setup: WebSetup, example_deployment: Deployment
) -> None:
    engine = engine_for(SHIPPED_FLOWS, example_deployment)
    running = await start_web(engine, setup, replace(web_setup, media_root=SHIPPED_FLOWS))
    person = running.person(**{"Accept-Language": "de-DE,de;q=0.9"})
    try:
        await person.open()
        page = await person.press("Deutsch")
    finally:
        await person.close()
        await running.runtime.stop()

    assert "Schnell weg" in page.screen.text
    assert "/exit" not in page.screen.text and "Telegram" not in page.screen.text


async def test_a_ref_in_another_script_is_no_ref_to_delete_not_an_error(
    web: RunningWeb, person: WebPerson
) -> None:
    await person.open()
    await person.press("Deutsch")
    await person.say("notfall")
    entries = rows(web, "transcript_entries")
    assert web.runtime.web is not None and web.runtime.web.channel is not None

    await web.runtime.web.channel.delete("no-such-person", ["²", "1"])  # "²".isdigit() is True

    assert rows(web, "transcript_entries") == entries


async def test_one_client_address_is_held_to_the_deployments_client_limit(
    engine: Engine, setup: BotSetup, web_setup: WebSetup
) -> None:
    limits = setup.deployment.limits.model_copy(update={"client_burst": 3, "client_per_minute": 1})
    setup = replace(setup, deployment=setup.deployment.model_copy(update={"limits": limits}))
    web = await start_web(engine, setup, web_setup)
    # four people behind one address (a proxy on this machine passes it on)
    one_address = {"X-Requested-With": "fetch", "X-Forwarded-For": "203.0.113.7"}
    people = [web.person(**one_address) for _ in range(4)]
    try:
        for person in people:
            await person.open()
        statuses = []
        for person in people:  # one press each
            page = person.last
            assert page is not None
            reply = await person.post("/p", choice="!lang:de", screen=str(page.screen.ref))
            statuses.append(reply.status_code)
    finally:
        for person in people:
            await person.close()
        await web.runtime.stop()

    assert statuses == [200, 200, 200, 429]


async def test_after_the_session_was_purged_the_next_post_starts_afresh_not_an_error(
    engine: Engine, setup: BotSetup, web_setup: WebSetup
) -> None:
    clock = SettableClock()
    web = await start_web(engine, replace(setup, clock=clock), web_setup)
    person = web.person()
    try:
        await person.open()
        await person.press("Deutsch")
        await person.say("notfall")
        clock.advance(setup.deployment.sessions.idle_hours * 3600 + 60)
        assert web.runtime.services is not None
        assert await web.runtime.services.conversations.purge() == 1
        assert rows(web, "transcripts") == 0

        reply = await person.post("/s", text="notfall")
        page = await person.open()
    finally:
        await person.close()
        await web.runtime.stop()

    assert reply.status_code == 303
    assert [entry.text for entry in page.log if entry.kind == "person"] == ["notfall"]


async def test_a_text_refused_as_too_fast_is_said_to_be_unsent_so_the_page_keeps_it(
    web: RunningWeb, setup: BotSetup
) -> None:
    person = web.person(**{"X-Requested-With": "fetch"})
    try:
        await person.open()
        await person.press("Deutsch")
        answers = []
        for number in range(setup.deployment.limits.burst + 2):
            reply = await person.post("/s", text=f"Frage {number}")
            answers.append((number, reply.json()))
        page = await person.open()
    finally:
        await person.close()

    unsent = [number for number, answer in answers if answer.get("unsent")]
    assert unsent, answers
    typed = [entry.text for entry in page.log if entry.kind == "person"]
    assert f"Frage {unsent[0]}" not in typed and "Frage 0" in typed
