"""A counsellor is shown on the case card and topic, and stored, only by an alias they chose with
/alias: without one, "a counsellor"; never their Telegram user id or first name."""

from __future__ import annotations

import io

from bot.channels.telegram import BotSetup
from bot.config import Deployment
from bot.dialogue import Engine
from tests.channels.telegram.conftest import ANA, settled
from tests.channels.telegram.test_handover import STAFF, handover_engine, started  # noqa: F401
from tests.fake_bot_api import FakeBotAPI
from tests.store.test_counsellor_aliases import DOROTHEA, ID_BYTES
from tests.store.test_sqlite import file_bytes


async def test_a_counsellor_is_shown_and_stored_only_by_the_alias_they_chose(
    api: FakeBotAPI,
    setup: BotSetup,
    handover_engine: Engine,  # noqa: F811
    deployment: Deployment,
    logs: io.StringIO,
) -> None:
    desk = await started(api, setup, handover_engine, deployment)
    try:
        await desk.ask()
        thread, _ = desk.topic()
        api.topic_message(STAFF, DOROTHEA, thread, "Hallo, ich bin da.")  # answering claims
        await settled(api)
        _, topic = desk.topic()
        card = desk.in_topic(thread)[1]
        assert DOROTHEA.first_name not in topic["name"]
        assert (
            "claimed by a counsellor" in api.chat_messages(STAFF["id"])[card["message_id"]]["text"]
        )

        api.topic_message(STAFF, DOROTHEA, thread, "/alias Dori")
        await settled(api)
        api.send_text(ANA, "/exit")
        await settled(api)
        await desk.ask()
        thread, _ = desk.topic()
        api.topic_message(STAFF, DOROTHEA, thread, "Hallo, hier ist Dori.")
        await settled(api)
        _, topic = desk.topic()
        assert topic["name"].endswith(" · Dori")
    finally:
        await desk.bot.stop()
    stored = file_bytes(desk.bot.database)
    assert b"Dori" in stored  # the alias is kept ...
    for needle in (DOROTHEA.first_name.encode(), *ID_BYTES):
        assert needle not in stored, f"the database holds {needle!r}"  # ... nothing else
        assert needle.decode(errors="ignore") not in logs.getvalue()
