"""The engine's contract: step(session, event) -> (session, actions), for any session and event."""

from __future__ import annotations

import random
from dataclasses import fields, replace
from pathlib import Path

import pytest

from bot.config import Deployment
from bot.dialogue import (
    Button,
    ButtonPressed,
    CaseNews,
    Command,
    EndCase,
    Engine,
    Erase,
    News,
    Notice,
    Relay,
    RequestHandover,
    SendMedia,
    Session,
    SetLanguage,
    Show,
    Start,
    TextTyped,
    TooFast,
    Unreadable,
)
from bot.dialogue.engine import END_CASE, normalise
from tests.conftest import MINIMAL_FLOW, SHIPPED_FLOWS, add_audio, engine_for, walk


@pytest.fixture(scope="module")
def engine(minimal_deployment: Deployment) -> Engine:
    return engine_for(MINIMAL_FLOW, minimal_deployment)


@pytest.fixture(scope="module")
def shipped(example_deployment: Deployment) -> Engine:
    return engine_for(SHIPPED_FLOWS, example_deployment)


def shown(actions: tuple[object, ...]) -> Show:
    screens = [action for action in actions if isinstance(action, Show)]
    assert len(screens) == 1, actions
    return screens[0]


def buttons(show: Show) -> list[Button]:
    return [button for row in show.buttons for button in row]


def at(node: str, history: tuple[str, ...] = ()) -> Session:
    return Session(node=node, history=history, language="de")


def data_for(show: Show, label: str) -> str:
    matches = [button.data for button in buttons(show) if button.label == label]
    assert matches, f"no button {label!r} in {[b.label for b in buttons(show)]}"
    return matches[0]


# -------------------------------------------------------------------------- start and language


def test_start_with_several_languages_asks_for_the_language_first(engine: Engine) -> None:
    session, actions = engine.step(Session(), Start())
    screen = shown(actions)
    assert screen.node_id is None
    assert screen.text == "Bitte wähl deine Sprache."
    # the language in use (here the default) is ticked
    assert [b.label for b in buttons(screen)] == ["✓ Deutsch", "Română"]
    assert session.node is None


def test_client_language_preselects_but_the_person_still_chooses(engine: Engine) -> None:
    session, actions = engine.step(Session(), Start(language_hint="ro-RO"))
    assert session.language == "ro"
    assert shown(actions).node_id is None  # the language list is still shown
    assert [b.label for b in buttons(shown(actions))] == ["Deutsch", "✓ Română"]


def test_unsupported_client_language_preselects_the_default(engine: Engine) -> None:
    session, _ = engine.step(Session(), Start(language_hint="th"))
    assert session.language == "de"


def test_choosing_a_language_sets_it_and_shows_the_start_node(engine: Engine) -> None:
    session, _ = engine.step(Session(), Start())
    session, actions = engine.step(session, ButtonPressed("!lang:ro"))
    assert session.language == "ro"
    assert actions[0] == SetLanguage("ro")
    assert shown(actions).node_id == "main.welcome"
    assert session.node == "main.welcome"
    # the buttons of the shown node work straight away
    menu = data_for(shown(actions), "Zum Menü")
    session, actions = engine.step(session, ButtonPressed(menu))
    assert shown(actions).node_id == "main.menu"


def test_a_single_language_skips_the_question(example_deployment: Deployment) -> None:
    german_only = example_deployment.model_copy(update={"languages": ["de"]})
    engine = engine_for(SHIPPED_FLOWS, german_only)
    session, actions = engine.step(Session(), Start())
    assert shown(actions).node_id == engine.flow.system.start
    assert session.language == "de"


def test_language_command_shows_the_list_and_keeps_the_place(engine: Engine) -> None:
    session = at("topic.test", ("main.menu", "topic.start"))
    after, actions = engine.step(session, Command("language"))
    assert after == session
    assert [b.data for b in buttons(shown(actions))] == ["!lang:de", "!lang:ro"]
    after, actions = engine.step(after, ButtonPressed("!lang:ro"))
    assert after.node == "topic.test" and after.history == session.history
    assert after.language == "ro"


def test_restart_goes_to_the_start_node_and_forgets_the_way_back(engine: Engine) -> None:
    session = at("topic.test", ("main.menu", "topic.start"))
    after, _actions = engine.step(session, Start())
    assert after.node == "main.welcome" and after.history == ()
    assert after.language == "de"


# ------------------------------------------------------------------------------------- buttons


def test_option_button_goes_to_its_target_and_remembers_the_way_back(engine: Engine) -> None:
    session, actions = engine.step(at("main.menu"), ButtonPressed("main.menu|0"))
    assert session.node == "topic.start"
    assert session.history == ("main.menu",)
    assert shown(actions).text == "Gesundheit."


def test_back_returns_to_the_previous_node(engine: Engine) -> None:
    session = at("topic.test", ("main.menu", "topic.start"))
    session, _actions = engine.step(session, ButtonPressed("!back"))
    assert session.node == "topic.start"
    assert session.history == ("main.menu",)


def test_back_with_nothing_to_go_back_to_is_the_main_menu(engine: Engine) -> None:
    session, _actions = engine.step(at("topic.test"), Command("back"))
    assert session.node == "main.menu"


def test_navigation_row_has_back_and_menu_but_not_pointless_ones(engine: Engine) -> None:
    _, actions = engine.step(at("main.menu"), Command("menu"))
    labels = [b.label for b in buttons(shown(actions))]
    assert "Hauptmenü" not in labels  # no "main menu" on the main menu
    assert "Zurück" not in labels  # nothing to go back to
    session = at("main.menu", ())
    _, actions = engine.step(session, ButtonPressed("main.menu|0"))
    assert [b.data for b in shown(actions).buttons[-1]] == ["!back", "!menu"]


def test_option_with_a_global_action_runs_the_action(engine: Engine) -> None:
    session, _actions = engine.step(at("main.menu"), ButtonPressed("!counsellor"))
    assert session.node == "main.counsellor"
    assert session.history == ("main.menu",)


@pytest.mark.parametrize(
    "forged",
    [
        "main.menu|0",  # a real button, but of another node
        "main.welcome|99",  # index out of range
        "main.welcome|-1",
        "main.welcome|0x1",
        "main.welcome|²",  # str.isdigit() is true for it, int() fails
        "main.welcome|٣",  # Arabic-Indic three
        "main.welcome|007",
        "main.welcome|" + "9" * 5000,
        "main.welcome|",
        "main.welcome|confirm",  # confirm on a node that is not a handover
        "nonsense",
        "",
        "!nonsense",
        "!lang:xx",
        "!lang:",
        "|||",
        "\x00\ufeff🙂" * 20,
        "x" * 10_000,
    ],
)
def test_forged_or_stale_button_is_refused_and_node_shown_again(
    engine: Engine, forged: str
) -> None:
    session = at("main.welcome", ("main.menu",))
    after, actions = engine.step(session, ButtonPressed(forged))
    assert after == session
    assert isinstance(actions[0], Notice)
    assert actions[0].text == "Dieser Knopf ist nicht mehr aktuell."
    assert shown(actions).node_id == "main.welcome"


def test_button_pressed_without_a_session_shows_the_start_node(engine: Engine) -> None:
    session, actions = engine.step(Session(language="de"), ButtonPressed("topic.start|0"))
    assert isinstance(actions[0], Notice)
    assert session.node == "main.welcome"
    assert shown(actions).node_id == "main.welcome"


# ------------------------------------------------------------------- text, keywords, commands


@pytest.mark.parametrize("typed", ["Notfall", "NOTFALL!", "help", "Ajutor", "bitte help me"])
def test_typed_keyword_in_any_language_jumps_to_its_node(engine: Engine, typed: str) -> None:
    session, actions = engine.step(at("main.menu"), TextTyped(typed))
    assert session.node == "topic.emergency"
    assert session.history == ("main.menu",)
    assert shown(actions).text == "Notruf 110. Hilfetelefon 116 016."


@pytest.mark.parametrize("typed", ["hallo", "Notfallplan", "🙂", " ", "x" * 5000, "\u202e\u0000"])
def test_text_that_matches_no_keyword_gets_the_friendly_hint(engine: Engine, typed: str) -> None:
    session = at("topic.test", ("main.menu",))
    after, actions = engine.step(session, TextTyped(typed))
    assert after == session
    screen = shown(actions)
    assert screen.text == "Ich verstehe nur die Knöpfe."
    assert [b.data for b in buttons(screen)] == ["!menu", "!counsellor"]


@pytest.mark.parametrize(
    ("typed", "target"),
    [
        ("Ich bin unter 18 und brauche die Pille danach", "law.under_18"),
        ("Pille danach, ich bin unter 18", "health.after_risk"),
        ("PILLE-DANACH?", "health.after_risk"),
        ("die Pille nehme ich danach", None),  # a keyword of several words counts only whole
        ("unter 180 Euro", None),
    ],
)
def test_the_first_keyword_typed_decides_and_only_whole_words_count(
    shipped: Engine, typed: str, target: str | None
) -> None:
    assert shipped.keyword_target(typed) == target


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Yardım", "yardim"),
        ("POMÓC", "pomoc"),
        ("Pomoc", "pomoc"),
        ("Помощ!", "помощ"),
        ("  urgență\t now ", "urgenta now"),
        ("Straße", "strasse"),
        ("ﬁle", "file"),
    ],
)
def test_keywords_match_without_case_accents_or_punctuation(typed: str, expected: str) -> None:
    assert normalise(typed) == expected


def test_commands_work_with_slash_and_bot_name(engine: Engine) -> None:
    session, _ = engine.step(at("topic.test"), Command("/menu@WegweiserBot"))
    assert session.node == "main.menu"
    session, _ = engine.step(session, Command("privacy"))
    assert session.node == "main.privacy"


def test_unknown_command_gets_the_friendly_hint(engine: Engine) -> None:
    session = at("topic.test")
    after, actions = engine.step(session, Command("rm -rf"))
    assert after == session
    assert shown(actions).text == "Ich verstehe nur die Knöpfe."


def test_exit_erases_and_forgets_everything(engine: Engine) -> None:
    session = at("topic.test", ("main.menu",))
    after, actions = engine.step(session, Command("exit"))
    assert actions == (Erase(),)
    assert after == Session()


@pytest.mark.parametrize(
    ("personal", "notice"),
    [(False, "Ich lese nur Text."), (True, "Bitte keine Kontakte oder Standorte schicken.")],
)
def test_unreadable_message_gets_a_notice_and_the_current_node_again(
    engine: Engine, personal: bool, notice: str
) -> None:
    session = at("topic.test", ("main.menu",))
    after, actions = engine.step(session, Unreadable(personal=personal))
    assert after == session
    assert actions[0] == Notice(notice)
    assert shown(actions).node_id == "topic.test"


def test_too_fast_gets_only_the_slow_down_notice(engine: Engine) -> None:
    session = at("topic.test")
    after, actions = engine.step(session, TooFast())
    assert (after, actions) == (session, (Notice("Bitte langsamer."),))


def test_profile_holds_description_and_every_command_of_the_menu(engine: Engine) -> None:
    profile = engine.profile("de")
    assert profile.short_description == "Anonyme Beratung."
    assert set(profile.commands) == {
        "start",
        "menu",
        "language",
        "counsellor",
        "privacy",
        "exit",
        "help",
    }
    assert profile.commands["exit"] == "Chat löschen"


# ------------------------------------------------------------------------ kinds of node, output


def test_placeholders_are_filled_from_configuration_and_facts(engine: Engine) -> None:
    _, actions = engine.step(Session(language="de"), Start())
    assert shown(actions).text == "Willkommen bei Beratungsstelle Teststadt."


def test_contacts_node_lists_the_configured_entries(engine: Engine) -> None:
    _, actions = engine.step(at("main.counsellor"), ButtonPressed("main.counsellor|0"))
    text = shown(actions).text
    assert text.startswith("So erreichst du uns.\n\nBeratungsstelle Teststadt\n")
    assert "0123 111" in text and "Mo 10\N{EN DASH}12 Uhr" in text


def test_media_is_sent_before_the_text(engine: Engine) -> None:
    _, actions = engine.step(at("topic.start"), ButtonPressed("topic.start|0"))
    assert isinstance(actions[0], SendMedia)
    assert actions[0].path == MINIMAL_FLOW / "media" / "test.png"
    assert actions[0].kind == "image"
    assert isinstance(actions[1], Show)


def test_a_screens_audio_is_sent_in_the_persons_language_and_never_in_another(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    add_audio(flow_dir, ro="ro/test.mp3")
    engine = engine_for(flow_dir, minimal_deployment)
    press = ButtonPressed("topic.start|0")

    _, actions = engine.step(replace(at("topic.start"), language="ro"), press)
    assert [type(action) for action in actions] == [SendMedia, SendMedia, Show]
    picture, audio = actions[0], actions[1]
    assert isinstance(picture, SendMedia) and picture.kind == "image"  # the picture stays
    assert isinstance(audio, SendMedia)
    assert (audio.path, audio.kind) == (flow_dir / "media" / "ro" / "test.mp3", "audio")
    # German has no recording of this screen: no audio, not the Romanian one
    _, actions = engine.step(at("topic.start"), press)
    assert [type(action) for action in actions] == [SendMedia, Show]
    assert isinstance(actions[0], SendMedia) and actions[0].kind == "image"


def test_handover_confirm_requests_a_counsellor_with_topic_language_and_path(
    minimal_deployment: Deployment,
) -> None:
    engine = engine_for(MINIMAL_FLOW, minimal_deployment, handover_available=True)
    session = Session(node="main.counsellor", history=("main.menu",), language="ro")
    after, actions = engine.step(session, ButtonPressed("main.counsellor|confirm"))
    assert actions == (RequestHandover("general", "ro", ("main.menu", "main.counsellor")),)
    assert after == session


def test_handover_without_a_counsellor_channel_shows_how_to_reach_the_centre(
    engine: Engine,
) -> None:
    session = at("main.counsellor", ("main.menu",))
    _after, actions = engine.step(session, ButtonPressed("main.counsellor|confirm"))
    screen = shown(actions)
    assert screen.text == "Ruf uns an: 0123 111"
    assert [b.data for b in buttons(screen)] == ["!back", "!menu"]
    # the request is still told to the channel (it counts it), marked as not available
    request = RequestHandover("general", "de", ("main.menu", "main.counsellor"), available=False)
    assert actions[0] == request


def test_history_is_bounded(minimal_deployment: Deployment) -> None:
    engine = engine_for(MINIMAL_FLOW, minimal_deployment, history_limit=3)
    session = at("main.menu")
    for _ in range(10):
        session, _ = engine.step(session, Command("privacy"))
        session, _ = engine.step(session, TextTyped("Notfall"))
    assert session.history == ("main.privacy", "topic.emergency", "main.privacy")


# ------------------------------------------------------------------------------ changed flows


def test_session_at_a_removed_node_falls_back_to_the_start_node(engine: Engine) -> None:
    session = Session(node="gone.node", history=("main.menu", "gone.other"), language="de")
    after, actions = engine.step(session, ButtonPressed("gone.node|0"))
    assert after.node == "main.welcome"
    assert after.history == ("main.menu",)
    assert shown(actions).node_id == "main.welcome"


def test_session_with_a_language_no_longer_offered_gets_the_default(engine: Engine) -> None:
    after, actions = engine.step(Session(node="main.menu", language="xx"), Command("menu"))
    assert after.language == "de"
    assert shown(actions).node_id == "main.menu"


def test_moving_a_session_keeps_all_but_its_place_and_way_back() -> None:
    session = Session("main.menu", ("main.welcome",), "ro", "K7Q2", 300, "web")
    # every field set: a new field of Session must be set here too, so moving it is checked
    assert all(getattr(session, field.name) != field.default for field in fields(Session))
    moved = session.moved_to("topic.test", ("main.welcome", "main.menu"))
    assert moved == replace(session, node="topic.test", history=("main.welcome", "main.menu"))


# ------------------------------------------------------------------------------ shipped flows


def test_every_shipped_node_is_reachable_from_start_by_buttons(shipped: Engine) -> None:
    reached = walk(shipped)
    assert set(reached) == set(shipped.flow.nodes)


def test_every_shipped_node_offers_back_and_main_menu(shipped: Engine) -> None:
    menu = shipped.flow.system.menu
    for node_id, session in walk(shipped).items():
        # how the person got there: the walk pressed buttons, so the history is real
        after_menu, _actions = shipped.step(session, ButtonPressed("!menu"))
        assert after_menu.node == menu, node_id
        after_back, _ = shipped.step(session, ButtonPressed("!back"))
        expected = session.history[-1] if session.history else menu
        assert after_back.node == expected, node_id


def test_every_shipped_screen_fits_telegram(shipped: Engine) -> None:
    for node_id, session in walk(shipped).items():
        # choosing the same language again shows the current node as it is
        _, screen = shipped.step(session, ButtonPressed("!lang:de"))
        show = shown(screen)
        assert show.node_id == node_id
        assert len(show.text) <= 4096, node_id
        assert "{" not in show.text, (node_id, show.text)  # every placeholder filled
        for button in buttons(show):
            assert len(button.data.encode()) <= 64, (node_id, button.data)
        for action in screen:
            if isinstance(action, SendMedia):
                assert Path(action.path).is_file()


def test_random_walk_never_raises_and_only_shows_valid_screens(shipped: Engine) -> None:
    rng = random.Random(20261125)
    session, actions = shipped.step(Session(), Start())
    junk = ["", "hallo", "Notfall", "/menu", "🙂" * 100, "main.menu|999", "!lang:de"]
    for _ in range(3000):
        screen = [a for a in actions if isinstance(a, Show)]
        choice = rng.random()
        if screen and choice < 0.8:
            event = ButtonPressed(rng.choice(buttons(screen[0])).data)
        elif choice < 0.9:
            event = TextTyped(rng.choice(junk))
        else:
            event = Command(rng.choice(["menu", "back", "language", "privacy", "exit", "x"]))
        session, actions = shipped.step(session, event)
        assert actions
        assert session.node is None or session.node in shipped.flow.nodes


# ------------------------------------------------------------ a conversation with a counsellor


def in_case(node: str = "main.menu") -> Session:
    return Session(node=node, language="ro", case="K7Q2")


def test_case_news_opens_the_case_and_shows_the_end_button(engine: Engine) -> None:
    session, actions = engine.step(
        Session(node="main.counsellor", language="ro"), CaseNews(News.OPENED, case="K7Q2")
    )
    assert session.case == "K7Q2"
    screen = shown(actions)
    assert screen.text == "Eine Beraterin antwortet bald."
    assert buttons(screen)[0] == Button("Gespräch beenden", END_CASE)


def test_outside_hours_the_time_counsellors_are_back_follows_on_its_own_line(
    engine: Engine,
) -> None:
    news = CaseNews(News.OPENED_OUTSIDE_HOURS, case="K7Q2", detail="Montag, 10:00")
    _, actions = engine.step(Session(language="de"), news)
    assert (
        shown(actions).text == "Gerade ist niemand da. Notruf 116 016. Wieder da:\n🕘 Montag, 10:00"
    )


def test_in_a_case_typed_text_and_media_go_to_the_counsellor_and_the_tree_is_silent(
    engine: Engine,
) -> None:
    for event in (TextTyped("Notfall"), TextTyped("hallo"), Unreadable()):
        after, actions = engine.step(in_case(), event)
        assert actions == (Relay("K7Q2"),)
        assert after == in_case()


def test_in_a_case_menu_exit_and_buttons_still_work(engine: Engine) -> None:
    after, actions = engine.step(in_case("main.welcome"), ButtonPressed("main.welcome|0"))
    assert after.node == "main.menu" and after.case == "K7Q2"
    assert engine.step(in_case(), Command("exit"))[1] == (Erase(),)
    after, actions = engine.step(in_case("topic.test"), Command("menu"))
    assert shown(actions).node_id == "main.menu" and after.case == "K7Q2"
    _, actions = engine.step(in_case(), Command("counsellor"))
    assert shown(actions).text == "Du schreibst mit einer Beraterin."


def test_the_end_button_ends_the_case(engine: Engine) -> None:
    after, actions = engine.step(in_case("topic.test"), ButtonPressed(END_CASE))
    assert after.case is None and after.node == "main.menu"
    assert actions[:2] == (EndCase("K7Q2"), Notice("Das Gespräch ist beendet."))
    assert shown(actions).node_id == "main.menu"


def test_a_closed_case_ends_with_the_return_code_on_its_own_line(engine: Engine) -> None:
    after, actions = engine.step(in_case(), CaseNews(News.CLOSED, detail="amber-otter-lemon-42"))
    assert after.case is None and after.node == "main.menu"
    assert actions[0] == Notice(
        "Die Beraterin hat das Gespräch beendet.\n\n"
        "Mit diesem Code kommst du wieder:\n🔑 amber-otter-lemon-42"
    )
    assert shown(actions).node_id == "main.menu"


def test_news_of_a_case_the_person_left_shows_where_they_are(engine: Engine) -> None:
    _, actions = engine.step(Session(node="topic.test", language="de"), CaseNews(News.CLAIMED))
    assert shown(actions).node_id == "topic.test"


def test_an_undelivered_message_is_a_notice(engine: Engine) -> None:
    assert engine.step(in_case(), CaseNews(News.NOT_DELIVERED))[1] == (
        Notice("Deine Nachricht ist nicht angekommen."),
    )


def test_an_old_confirm_button_does_not_open_a_second_case(minimal_deployment: Deployment) -> None:
    engine = engine_for(MINIMAL_FLOW, minimal_deployment, handover_available=True)
    session = Session(node="main.counsellor", language="ro", case="K7Q2")
    after, actions = engine.step(session, ButtonPressed("main.counsellor|confirm"))
    assert after == session
    assert not any(isinstance(action, RequestHandover) for action in actions)
    assert shown(actions).text == "Du schreibst mit einer Beraterin."
