"""The live stream's first event: the log as the page shows it, so that a page which connects
does not lose what it was just shown."""

from __future__ import annotations

import json

from tests.channels.web.conftest import WebPerson


async def first_event(person: WebPerson) -> dict:
    async with person.client.stream("GET", "/e") as stream:
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                return dict(json.loads(line[6:]))
    raise AssertionError("no event")


async def test_a_newcomers_page_keeps_its_first_screen_when_its_stream_connects(
    person: WebPerson,
) -> None:
    page = await person.open()  # the first screen; the cookie is set, nothing is stored

    synced = await first_event(person)

    assert "Română" in page.screen.buttons
    assert 'id="m0"' in synced["sync"] and "Română" in synced["sync"]


async def test_a_page_after_the_first_press_syncs_the_conversation(person: WebPerson) -> None:
    await person.open()
    page = await person.press("Deutsch")

    synced = await first_event(person)

    assert page.screen.text.split()[0] in synced["sync"]
    assert 'id="m0"' not in synced["sync"]
