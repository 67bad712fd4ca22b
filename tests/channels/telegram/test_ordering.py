"""The flood gate on its own (a token bucket per person), and update order end to end."""

from __future__ import annotations

from dataclasses import replace

from bot.channels.telegram import BotSetup
from bot.dialogue import Engine
from bot.service.flood import FloodGate
from tests.channels.telegram.conftest import RunningBot, settled, start_bot, to
from tests.fake_bot_api import CONTENT_EXAMPLES, FakeBotAPI, Person


def test_a_burst_is_admitted_then_refused_once_with_a_warning_then_silently() -> None:
    gate = FloodGate(burst=3, per_minute=60)
    answers = [gate.admit(1, now=0.0) for _ in range(6)]
    assert answers == [True, True, True, False, None, None]


def test_tokens_come_back_at_the_configured_rate() -> None:
    gate = FloodGate(burst=2, per_minute=60)  # one per second
    assert [gate.admit(1, now=0.0) for _ in range(3)] == [True, True, False]
    assert gate.admit(1, now=0.5) is None
    assert gate.admit(1, now=1.1) is True
    assert gate.admit(1, now=1.2) is False  # a new flood is announced again


def test_people_have_their_own_buckets() -> None:
    gate = FloodGate(burst=1, per_minute=1)
    assert gate.admit(1, now=0.0) is True
    assert gate.admit(1, now=0.0) is False
    assert gate.admit(2, now=0.0) is True


def test_full_buckets_are_forgotten() -> None:
    gate = FloodGate(burst=2, per_minute=60)
    gate.admit(1, now=0.0)
    gate.admit(2, now=5.0)
    gate.forget_idle(now=2.5)
    assert len(gate) == 1


async def test_one_persons_messages_are_answered_in_the_order_sent(
    engine: Engine, setup: BotSetup, api: FakeBotAPI
) -> None:
    # Who draws which random fault depends on how the two people's turns interleave; with eight
    # retries no send fails for good (0.3 ** 9 per message), so every answer arrives.
    running = await start_bot(engine, replace(setup, retry_delays=(0.02,) * 8), api)
    try:
        fay = Person(user_id=5550201, first_name="Fay", language_code="de")
        gil = Person(user_id=5550202, first_name="Gil", language_code="de")
        api.send_text(fay, "/start")
        api.send_text(gil, "/start")
        await settled(api)
        # Some sends fail once and are retried after a pause: without a per-person lock, a later
        # message of the same person would overtake the one waiting for its retry.
        api.fail_randomly({"sendMessage"}, 0.3, ("server_error",), seed=3)
        sequence = ["notfall", "/privacy", "/menu"] * 3
        for typed in sequence:
            api.send_text(fay, typed)
            api.send_text(gil, typed)
        await settled(api)  # retries included

        for person in (fay, gil):
            sent = [c for c in to(person, api.calls_to("sendMessage")) if c.fault is None]
            texts = [str(call.params["text"]) for call in sent][1:]
            expected = [
                "Notruf 110. Hilfetelefon 116 016.",
                "Wir speichern nichts über dich.",
                "Worum geht es?",
            ] * 3
            assert texts == expected
    finally:
        await running.stop()


async def test_a_shared_location_is_deleted_only_after_the_answer_to_what_came_before(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    """The handler deletes a location before its turn takes the person's session lock; only the
    per-chat lock of the update processor keeps that work behind the turn before it (here one
    whose answer waits for a retry)."""
    hal = Person(user_id=5550203, first_name="Hal", language_code="de")
    api.fail("sendMessage", "server_error")
    api.send_text(hal, "/start")
    shared = api.send_message(hal, **CONTENT_EXAMPLES["location"])["message"]["message_id"]
    await settled(api)

    done = [(c.method, c.params.get("message_id")) for c in to(hal, api.calls) if c.fault is None]
    assert done[:2] == [("sendMessage", None), ("deleteMessage", shared)]
