"""After /exit the log holds no trail of the person: each session has a tag of its own (a digest
of its sealed address, gone with the row), no line names the screens a person visited, and no
line names a case together with a person's tag."""

from __future__ import annotations

import io

from bot.channels.telegram import BotSetup
from bot.config import Deployment
from bot.dialogue import Engine
from bot.store import SecretKeys
from tests.channels.telegram.conftest import ANA, TEST_SECRET, log_events, settled
from tests.channels.telegram.test_handover import handover_engine, started  # noqa: F401
from tests.fake_bot_api import FakeBotAPI


async def test_after_exit_nothing_in_the_log_links_the_next_session_or_the_case_to_the_person(
    api: FakeBotAPI,
    setup: BotSetup,
    handover_engine: Engine,  # noqa: F811
    deployment: Deployment,
    logs: io.StringIO,
) -> None:
    desk = await started(api, setup, handover_engine, deployment)
    try:
        await desk.ask()  # a conversation through the tree into a case
        api.send_text(ANA, "/exit")
        await settled(api)
        api.send_text(ANA, "/start")
        await settled(api)
    finally:
        await desk.bot.stop()

    events = log_events(logs)
    assert any(event["event"] == "case opened" for event in events)
    erased = next(i for i, event in enumerate(events) if event["event"] == "conversation erased")
    before = {event["person"] for event in events[: erased + 1] if "person" in event}
    after = {event["person"] for event in events[erased + 1 :] if "person" in event}
    assert len(before) == 1 and len(after) == 1, (before, after)
    assert before != after, "the person's next session has the tag of the erased one"
    assert not [event for event in events if "node" in event], "the log names screens visited"
    assert not [event for event in events if "case" in event and "person" in event]
    pseudonym = SecretKeys(TEST_SECRET).pseudonym("telegram", str(ANA.user_id))
    assert pseudonym.hex()[:8] not in logs.getvalue()
