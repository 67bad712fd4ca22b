"""What a turn of the dialogue counts: events by day, language and topic area, nothing else."""

from __future__ import annotations

import pytest

from bot.config import Deployment
from bot.dialogue import ButtonPressed, Command, Engine, Session, Start
from bot.stats import Counted, Event, reply_bucket, turn_events
from bot.stats.events import home_areas
from tests.conftest import MINIMAL_FLOW, SHIPPED_FLOWS, engine_for


@pytest.fixture
def engine(minimal_deployment: Deployment) -> Engine:
    return engine_for(MINIMAL_FLOW, minimal_deployment)


@pytest.fixture
def shipped_engine(example_deployment: Deployment) -> Engine:
    return engine_for(SHIPPED_FLOWS, example_deployment)


def counted(
    engine: Engine, before: Session, event: object, *, fresh: bool = False
) -> list[Counted]:
    after, actions = engine.step(before, event)  # type: ignore[arg-type]
    return list(
        turn_events(
            before,
            after,
            actions,
            fresh=fresh,
            home_areas=home_areas(engine.flow),
            default_language=engine.default_language,
        )
    )


def test_a_first_message_starts_a_conversation_in_the_preselected_language(engine: Engine) -> None:
    assert counted(engine, Session(), Start("ro"), fresh=True) == [
        Counted(Event.CONVERSATION_STARTED, "ro")
    ]


def test_choosing_a_language_is_counted_with_it(engine: Engine) -> None:
    assert counted(engine, Session(language="de"), ButtonPressed("!lang:ro")) == [
        Counted(Event.LANGUAGE_CHOSEN, "ro")
    ]


def test_entering_a_topic_area_counts_once_not_every_screen_in_it(engine: Engine) -> None:
    menu = Session(node="main.menu", language="ro")
    assert counted(engine, menu, ButtonPressed("main.menu|0")) == [
        Counted(Event.AREA_OPENED, "ro", "topic")
    ]
    inside = Session(node="topic.start", history=("main.menu",), language="ro")
    assert counted(engine, inside, ButtonPressed("topic.start|0")) == []  # topic.test: same area


@pytest.mark.parametrize(
    ("node", "event", "entered"),
    [
        ("health.sti_test", Command("menu"), "main.menu"),
        ("health.sti_test", ButtonPressed("!menu"), "main.menu"),
        ("health.sti_test", Command("counsellor"), "counsellor.start"),
        ("main.welcome", Command("counsellor"), "counsellor.start"),
    ],
)
def test_the_main_menu_and_the_counsellor_request_are_no_topic_areas(
    shipped_engine: Engine, node: str, event: Command | ButtonPressed, entered: str
) -> None:
    """In the shipped flows the step enters another namespace (main, counsellor), so only the
    exclusion of the home areas keeps it from counting as a topic area. (Without a staff group
    the counsellor screen counts as a counsellor request.)"""
    before = Session(node=node, history=("main.menu",), language="de")
    assert shipped_engine.step(before, event)[0].node == entered
    events = [item.event for item in counted(shipped_engine, before, event)]
    assert events == ([Event.HANDOVER_REQUESTED] if entered == "counsellor.start" else [])


def test_a_counsellor_request_counts_with_its_topic(engine: Engine) -> None:
    asking = Session(node="main.counsellor", history=("main.menu",), language="ro")
    assert counted(engine, asking, ButtonPressed("main.counsellor|confirm")) == [
        Counted(Event.HANDOVER_REQUESTED, "ro", "general")
    ]


def test_exit_counts_in_the_language_the_person_used(engine: Engine) -> None:
    assert counted(engine, Session(node="topic.test", language="ro"), Command("exit")) == [
        Counted(Event.EXIT_USED, "ro")
    ]


def test_waiting_times_are_counted_in_buckets_only() -> None:
    assert [reply_bucket(m) for m in (0.5, 5, 59, 61, 300, 2000)] == [
        "<5 min",
        "5-15 min",
        "15-60 min",
        "1-4 h",
        "4-24 h",
        ">24 h",
    ]


def test_a_request_without_a_topic_counts_in_the_area_the_person_came_from(
    shipped_engine: Engine,
) -> None:
    """The same area the case desk routes by: the file of the screen before the request."""
    at_sti_test = Session(node="health.sti_test", history=("main.menu",), language="de")
    asking, _ = shipped_engine.step(at_sti_test, ButtonPressed("!counsellor"))
    counted_events = counted(shipped_engine, asking, ButtonPressed("counsellor.start|confirm"))
    assert counted_events == [Counted(Event.HANDOVER_REQUESTED, "de", "health")]
