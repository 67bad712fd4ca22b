"""What /exit leaves, and what the counters see, with a staff group: the real runtime against the
fake Bot API, a real SQLite file. "On the phone" is what the fake API still holds in the person's
chat after /exit: it knows every message that exists there."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.channels.telegram import BotSetup
from bot.config import Deployment
from bot.dialogue import Engine
from bot.stats import CountRow
from tests.channels.telegram.conftest import ANA, settled
from tests.channels.telegram.test_handover import Handover, started
from tests.channels.telegram.test_operations import counters, get
from tests.conftest import MINIMAL_FLOW, engine_for
from tests.fake_bot_api import FakeBotAPI


@pytest.fixture
def handover_engine(deployment: Deployment) -> Engine:
    return engine_for(MINIMAL_FLOW, deployment, handover_available=True)


@pytest.fixture
async def desk(
    api: FakeBotAPI, setup: BotSetup, handover_engine: Engine, deployment: Deployment
) -> AsyncIterator[Handover]:
    running = await started(
        api, replace(setup, operations=("127.0.0.1", 0)), handover_engine, deployment
    )
    yield running
    await running.bot.stop()


# -- the counters ----------------------------------------------------------------------------------


async def test_a_request_for_a_counsellor_is_counted_when_a_case_opens(
    desk: Handover, api: FakeBotAPI
) -> None:
    await desk.ask()
    await settled(api)

    today = datetime.datetime.now(datetime.UTC).date()
    assert CountRow(today, "handover_requested", "ro", "general", 1) in await counters(desk.bot)
    _, metrics = await get(desk.bot, "/metrics")
    requested = 'wegweiser_events_total{area="general",event="handover_requested",language="ro"}'
    assert f"{requested} 1.0" in metrics
