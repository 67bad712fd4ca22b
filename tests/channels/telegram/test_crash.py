"""Sends cut off by SIGKILL of the real `wegweiser run` process: Telegram carried the call out,
but the process died before the answer came back, and after the restart Telegram delivers the
update again (it was never confirmed). A relay must not arrive twice, and its sender is told
that it may not have arrived (the bot cannot know); a screen is shown again, and /exit deletes
both copies."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.bench_crash import STAFF, BotProcess, begin, open_case
from tests.fake_bot_api import FakeBotAPI, Person

PERSON = Person(400_000_001, language_code="de")
COUNSELLOR = Person(5_550_001, first_name="Dora", language_code="de")
IN_DOUBT = "⚠️ Deine letzte Nachricht ist vielleicht nicht angekommen."


@pytest.mark.parametrize("side", ["counsellor", "person"])
async def test_a_relay_cut_off_by_a_crash_arrives_once_and_its_sender_is_told(
    tmp_path: Path, side: str
) -> None:
    async with FakeBotAPI() as api:
        api.make_admin(STAFF)
        bot = BotProcess(api, tmp_path)
        await bot.start()
        try:
            case = await open_case(api, PERSON, COUNSELLOR, await begin(api, PERSON, 10), 10)
            await api.wait_idle(quiet=0.5, timeout=30)
            # the copy is made, then its answer hangs until the process is gone
            api.fail("copyMessage", "answer_lost", delay=60)
            if side == "counsellor":
                api.topic_message(STAFF, COUNSELLOR, case.thread, "Antwort")
                target = PERSON.user_id
            else:
                api.send_text(PERSON, "Nachricht")
                target = STAFF["id"]
            await api.wait_for(
                "copyMessage", lambda c: c.fault == "answer_lost" and c.result, timeout=10
            )
            await bot.kill()
            await bot.start()
            if side == "counsellor":
                await api.wait_for(
                    "sendMessage",
                    lambda c: c.params["text"].startswith("⚠️ Not confirmed"),
                    timeout=20,
                )
            else:
                await api.wait_for(
                    "sendMessage",
                    lambda c: c.params["text"].startswith(IN_DOUBT),
                    timeout=20,
                )
            await api.wait_idle(quiet=0.5, timeout=30)
        finally:
            await bot.stop()

        copies = [c for c in api.calls_to("copyMessage") if c.params["chat_id"] == target]
        assert len(copies) == 1, [c.fault for c in copies]
        assert bot.tracebacks() == 0


async def test_a_screen_sent_just_before_a_crash_is_deleted_by_exit_after_the_restart(
    tmp_path: Path,
) -> None:
    """The screen reached the phone, the process died before it recorded its id: /exit after the
    restart deletes it with the rest."""
    async with FakeBotAPI() as api:
        bot = BotProcess(api, tmp_path)
        await bot.start()
        try:
            await begin(api, PERSON, 10)
            await api.wait_idle(quiet=0.5, timeout=30)
            api.fail("sendMessage", "answer_lost", delay=60)
            api.send_text(PERSON, "/menu")
            await api.wait_for(
                "sendMessage", lambda c: c.fault == "answer_lost" and c.result, timeout=10
            )
            await bot.kill()
            await bot.start()
            await api.wait_idle(quiet=0.5, timeout=30)
            assert len(api.chat_messages(PERSON.user_id)) > 4  # both screens are on the phone
            api.send_text(PERSON, "/exit")
            await api.wait_for("deleteMessages", timeout=10)
            await api.wait_idle(quiet=0.5, timeout=30)
        finally:
            await bot.stop()

        assert api.chat_messages(PERSON.user_id) == {}
