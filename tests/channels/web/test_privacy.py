"""Privacy of the web chat is tested, not promised: after real conversations over HTTP (behind
what looks like a reverse proxy), the database file with its -wal and the logs at DEBUG level
(uvicorn's and Starlette's own loggers included, also when a request fails) hold no client
address, User-Agent, Accept-Language, cookie or message text; the transcript opens only with its
own cookie, and goes when the session expires."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from bot.channels.telegram import BotSetup
from bot.channels.web.app import WebSetup
from bot.channels.web.sealing import Unsealable, Visitor
from bot.config import Deployment
from bot.dialogue import Engine
from tests.channels.telegram.conftest import log_events, logs  # noqa: F401  (a fixture)
from tests.channels.telegram.test_handover import DORA
from tests.channels.telegram.test_privacy import database_bytes
from tests.channels.web.conftest import RunningWeb, WebPerson, start_web
from tests.channels.web.staffed import STAFF, start_staffed, telegram_setup
from tests.clock import SettableClock
from tests.conftest import MINIMAL_FLOW, MINIMAL_LOCALES, engine_for
from tests.fake_bot_api import FakeBotAPI

TYPED = "Ich heiße Ilona Varga und wohne in der Kastanienallee 4, bitte hilf mir"
TO_COUNSELLOR = "Mein Chef heißt Gábor Szűcs, er hat meinen Pass"
FROM_COUNSELLOR = "Danke Ilona, das bleibt unter uns. Wir finden einen Weg."
FORWARDED_FOR = "203.0.113.77"
FORWARDED = "for=198.51.100.23;proto=https"
USER_AGENT = "Mozilla/5.0 (Linux; Android 13; SM-A515F) AppleWebKit/537.36 Zwiebelkuchen/7.3"
ACCEPT_LANGUAGE = "ro-MD,ro;q=0.9,hu-HU;q=0.7,tr;q=0.3"
BROWSER = {
    "X-Forwarded-For": FORWARDED_FOR,
    "Forwarded": FORWARDED,
    "X-Real-IP": FORWARDED_FOR,
    "User-Agent": USER_AGENT,
    "Accept-Language": ACCEPT_LANGUAGE,
}


def needles(person: WebPerson, *texts: str) -> dict[str, bytes]:
    """Every form in which the person could leak: what they and their counsellor wrote (whole and
    in parts), what their browser and the proxy said, their cookie and what it stands for."""
    cookie = person.client.cookies["s"]
    visitor = Visitor.from_cookie(cookie)
    assert visitor is not None
    found = {
        "X-Forwarded-For": FORWARDED_FOR.encode(),
        "Forwarded": b"198.51.100.23",
        "User-Agent": USER_AGENT.encode(),
        "User-Agent's rare part": b"Zwiebelkuchen",
        "Accept-Language": ACCEPT_LANGUAGE.encode(),
        "Accept-Language's region": b"ro-MD",
        "Accept-Language's second language": b"hu-HU",
        "cookie": cookie.encode(),
        "cookie's secret": visitor.secret,
        "form token": visitor.form_token.encode(),
        "address": visitor.address.encode(),
    }
    for number, text in enumerate(texts):
        found[f"text {number}"] = text.encode()
        found[f"text {number}, a word"] = max(text.split(), key=len).encode()
    return found


def without_listening(buffer: io.StringIO) -> str:
    """The logs but the line saying where the server listens (127.0.0.1, its own address)."""
    return "\n".join(
        line
        for line in buffer.getvalue().splitlines()
        if "web chat listening" not in line and "Uvicorn running on" not in line
    )


async def conversation(person: WebPerson) -> None:
    await person.open()
    await person.press("Deutsch")
    await person.press("Zum Menü")
    await person.say(TYPED)
    await person.press("Hauptmenü")
    await person.press("Gesundheit")
    await person.press("Test")


async def failing_requests(url: str, person: WebPerson) -> list[int]:
    """Requests that fail or are refused, each in its own way; their statuses."""
    statuses = []
    client = person.client
    page = person.last or await person.open()
    # a form with more fields than any of ours, a malformed body, no token, a wrong method
    many = "&".join(f"f{n}={TYPED}" for n in range(40))
    for reply in (
        await client.post(
            "/s", content=many, headers={"Content-Type": "application/x-www-form-urlencoded"}
        ),
        await client.post("/s", content=b"t=" + page.token.encode() + b"&text=%ff%fe" + b"\xff"),
        await client.post("/s", data={"text": TYPED}),
        await client.get("/s", params={"text": TYPED}),
        await client.get(f"/{TYPED}"),
        await client.post("/p", data={"t": page.token, "choice": TYPED, "screen": "²"}),
    ):
        statuses.append(reply.status_code)
    # HTTP that is not HTTP, and a body cut short by a client that goes away
    host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    for raw in (
        f"GARBAGE {TYPED}\r\nUser-Agent: {USER_AGENT}\r\n\r\n".encode(),
        (
            f"POST /s HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-For: {FORWARDED_FOR}\r\n"
            f"Cookie: s={client.cookies['s']}\r\nContent-Length: 5000\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
            f"t={page.token}&text={TYPED}"
        ).encode(),
    ):
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(raw)
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.close()
        await writer.wait_closed()
        del reader
    await asyncio.sleep(0.2)  # what the server logs about them is logged
    return statuses


# -- a conversation in the tree -------------------------------------------------------------------


async def test_database_and_logs_hold_no_address_browser_cookie_or_text(
    web: RunningWeb,
    logs: io.StringIO,  # noqa: F811
) -> None:
    person = web.person(**BROWSER)
    try:
        await conversation(person)
        statuses = await failing_requests(web.url, person)
        found = needles(person, TYPED)
    finally:
        await person.close()
    await web.runtime.stop()  # every write reached the file; what stopping logs is logged
    await web.runtime.start()  # for the fixture's own stop

    assert {405, 404} <= set(statuses)  # some really were refused
    events = log_events(logs)
    assert events, "nothing was logged: the log check would prove nothing"
    assert any(e["logger"].startswith("uvicorn") for e in events), "uvicorn logged nothing"
    stored = database_bytes(web.database)
    logged = without_listening(logs).encode()
    for name, needle in found.items():
        assert needle not in stored, f"the database holds the {name}"
        assert needle not in logged, f"the logs hold the {name}"
    assert b"127.0.0.1" not in stored
    assert b"127.0.0.1" not in logged, "the logs hold the client's (the proxy's) address"


async def test_a_failing_request_answers_with_its_status_and_logs_no_traceback_of_it(
    web: RunningWeb,
    logs: io.StringIO,  # noqa: F811
) -> None:
    """A malformed form is the client's mistake: refused, not a server error with a traceback
    in the log (which an attacker could fill)."""
    person = web.person(**BROWSER)
    try:
        await person.open()
        await person.press("Deutsch")
        statuses = await failing_requests(web.url, person)
        page = await person.open()
    finally:
        await person.close()

    assert 500 not in statuses, statuses
    assert page.status == 200  # the server is fine
    for event in log_events(logs):
        assert "Traceback" not in str(event.get("error", "")), event


# -- a counsellor conversation --------------------------------------------------------------------


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


async def test_a_counsellor_conversation_leaves_no_text_or_address_in_the_file_or_logs(
    deployment: Deployment,
    setup: BotSetup,
    web_setup: WebSetup,
    api: FakeBotAPI,
    logs: io.StringIO,  # noqa: F811
) -> None:
    engine = engine_for(MINIMAL_FLOW, deployment, locales=MINIMAL_LOCALES, handover_available=True)
    both = await start_staffed(engine, telegram_setup(setup, api), api, web_setup)
    person = both.person(**BROWSER)
    try:
        await both.ask(person)
        thread, _ = both.topic()
        await person.say(TO_COUNSELLOR)
        api.topic_message(STAFF, DORA, thread, FROM_COUNSELLOR)
        await api.wait_handled()
        page = await person.open()
        assert FROM_COUNSELLOR in [e.text for e in page.log]  # it really went both ways
        assert TO_COUNSELLOR in [m.get("text") for m in both.in_topic(thread)]
        found = needles(person, TO_COUNSELLOR, FROM_COUNSELLOR)
    finally:
        await person.close()
        await both.stop()

    stored = database_bytes(both.database)
    logged = without_listening(logs).encode()
    assert log_events(logs), "nothing was logged: the log check would prove nothing"
    for name, needle in found.items():
        assert needle not in stored, f"the database holds the {name}"
        assert needle not in logged, f"the logs hold the {name}"
    assert DORA.first_name.encode() not in stored
    assert str(DORA.user_id).encode() not in stored


# -- the sealed transcript ------------------------------------------------------------------------


def sealed_entries(database: Path) -> list[bytes]:
    with closing(sqlite3.connect(database)) as connection:
        return [
            bytes(row[0]) for row in connection.execute("SELECT sealed FROM transcript_entries")
        ]


async def test_the_transcript_opens_with_its_own_cookie_only(
    web: RunningWeb, person: WebPerson
) -> None:
    await conversation(person)
    other = web.person()
    try:
        await other.open()
        await other.press("Deutsch")
        theirs = Visitor.from_cookie(other.client.cookies["s"])
    finally:
        await other.close()
    mine = Visitor.from_cookie(person.client.cookies["s"])
    assert mine is not None and theirs is not None

    entries = sealed_entries(web.database)
    opened = 0
    for sealed in entries:
        try:
            mine.open(sealed)
            opened += 1
        except Unsealable:
            theirs.open(sealed)  # then it is the other person's
    assert opened >= 4  # the person's own entries open with their cookie ...
    for sealed in entries:  # ... and none with a cookie never seen
        with pytest.raises(Unsealable):
            Visitor.new().open(sealed)
    assert not any(TYPED.encode() in sealed for sealed in entries)


async def test_an_expired_session_takes_its_transcript_with_it(
    engine: Engine, setup: BotSetup, web_setup: WebSetup
) -> None:
    clock = SettableClock()
    running = await start_web(engine, replace(setup, clock=clock), web_setup)
    person = running.person()
    try:
        await conversation(person)
        entries = sealed_entries(running.database)
        assert entries
        idle = running.setup.deployment.sessions.idle_hours * 3600

        clock.advance(idle - 60)  # not yet
        assert await running.runtime.services.conversations.purge() == 0
        shown = [e.text for e in (await person.open()).log]
        assert "Beim Gesundheitsamt kannst du dich testen lassen." in shown

        clock.advance(120)  # now past the idle time
        assert await running.runtime.services.conversations.purge() == 1
        page = await person.open()
    finally:
        await person.close()
        await running.runtime.stop()

    with closing(sqlite3.connect(running.database)) as connection:
        for table in ("sessions", "transcripts", "transcript_entries"):
            (count,) = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
            assert count == 0, table
    stored = database_bytes(running.database)
    for sealed in entries:
        assert sealed[:48] not in stored  # not even the bytes are left in the file
    # the same cookie finds the first screen again, nothing of before
    assert [e.kind for e in page.log] == ["screen"]
    assert "Bitte wähl deine Sprache." in page.screen.text or "Română" in page.screen.buttons
