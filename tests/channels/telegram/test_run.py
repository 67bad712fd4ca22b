"""`wegweiser run` as an operator starts it: a separate process with only a token and a secret key
set, the shipped flows and example configuration, a SQLite file in the working directory."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import stat
import sys
from pathlib import Path

from bot.config import (
    EXAMPLE_DEPLOYMENT,
    PROJECT_ROOT,
    Translations,
    build_engine,
    load_deployment,
)
from bot.dialogue import Session, Show, Start, load_flow
from tests.channels.telegram.conftest import ANA, TEST_SECRET
from tests.channels.telegram.test_privacy import identity_of_ana
from tests.conftest import SHIPPED_FLOWS
from tests.fake_bot_api import FakeBotAPI, Person


def shipped_first_screen(language_hint: str | None, config: Path = EXAMPLE_DEPLOYMENT) -> str:
    """What the shipped bot first says to a person whose phone is set to `language_hint`."""
    engine = build_engine(
        load_flow(SHIPPED_FLOWS),
        load_deployment(config),
        locales=PROJECT_ROOT / "locales",
    )
    _, actions = engine.step(Session(), Start(language_hint))
    return next(action.text for action in actions if isinstance(action, Show))


async def run_bot(
    api: FakeBotAPI, directory: Path, *args: str, **env: str
) -> asyncio.subprocess.Process:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("WEGWEISER_")
    }
    environment |= {
        "WEGWEISER_TELEGRAM_TOKEN": api.token,
        "WEGWEISER_TELEGRAM_API_URL": api.base_url,
        "WEGWEISER_WEB_PORT": "0",  # the web chat runs too, on any free port
        **env,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        *args,
        cwd=directory,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def logged(log: str) -> tuple[list[dict[str, object]], list[str]]:
    """The JSON log lines of a run, and what each of them said."""
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return events, [str(event["event"]) for event in events]


async def stopped(process: asyncio.subprocess.Process) -> tuple[int, str]:
    """Stop the bot as systemd or docker would (SIGTERM); its exit code and its log."""
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def test_run_with_token_and_secret_answers_and_says_what_is_switched_off(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    process = await run_bot(api, tmp_path, WEGWEISER_SECRET_KEY=TEST_SECRET)
    try:
        await api.wait_for("getUpdates", timeout=20)
        api.send_text(ANA, "/start")
        answer = await api.wait_for("sendMessage", timeout=10)
        # the language question, asked in Romanian since Ana's phone is set to Romanian
        assert answer.params["text"] == shipped_first_screen("ro")
        assert answer.params["text"] != shipped_first_screen("de")
    finally:
        code, log = await stopped(process)

    assert code == 0, log
    events, said = logged(log)
    assert "starting" in said
    assert any(text.startswith("staff group off") for text in said)
    assert any(text.startswith("webhook off") for text in said)
    connected = next(e for e in events if e["event"] == "connected to the Bot API")
    assert connected["bot"] == "@wegweiser_test_bot"
    drafts = next(e for e in events if str(e["event"]).startswith("some translations are drafts"))
    assert drafts["languages"] == "de@easy,ro,bg,en,es,hu,tr"
    assert (tmp_path / "wegweiser.sqlite3").exists()
    for name, needle in identity_of_ana().items():
        assert needle.decode(errors="ignore") not in log, f"the log holds Ana's {name}"
    assert api.token not in log


async def test_a_deployment_that_does_not_serve_drafts_offers_only_reviewed_languages(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    example = EXAMPLE_DEPLOYMENT.read_text("utf-8")
    assert "  serve_drafts: true\n" in example  # the example serves its drafts on purpose
    config.write_text(example.replace("  serve_drafts: true\n", "  serve_drafts: false\n"))
    process = await run_bot(
        api, tmp_path, WEGWEISER_SECRET_KEY=TEST_SECRET, WEGWEISER_CONFIG=str(config)
    )
    try:
        await api.wait_for("getUpdates", timeout=20)
        api.send_text(ANA, "/start")
        answer = await api.wait_for("sendMessage", timeout=10)
        # every shipped catalog is a draft: only German, the source, is left, and no language
        # question is asked
        assert answer.params["text"] == shipped_first_screen("ro", config)
        assert answer.params["text"] != shipped_first_screen("ro")
        buttons = json.dumps(answer.params.get("reply_markup"), ensure_ascii=False)
        assert "Română" not in buttons
    finally:
        code, log = await stopped(process)

    assert code == 0, log
    events, said = logged(log)
    held = [e for e in events if str(e["event"]).startswith("draft translations not offered")]
    assert len(held) == 1 and held[0]["languages"] == "de@easy,ro,bg,en,es,hu,tr"
    assert not any(text.startswith("some translations are drafts") for text in said)


def test_a_reviewed_catalog_is_offered_when_drafts_are_not_served(tmp_path: Path) -> None:
    locales = Path(shutil.copytree(PROJECT_ROOT / "locales", tmp_path / "locales"))
    romanian = locales / "ro" / "LC_MESSAGES" / "wegweiser.po"
    text = romanian.read_text("utf-8").replace(
        "# Review: draft, awaiting review by a native speaker", "# Review: reviewed 2027-01-15"
    )
    romanian.write_text(text, "utf-8")
    example = load_deployment(EXAMPLE_DEPLOYMENT)
    strict = example.model_copy(update={"translations": Translations(serve_drafts=False)})
    flow = load_flow(SHIPPED_FLOWS)

    assert list(build_engine(flow, strict, locales=locales).languages) == ["de", "ro"]
    assert len(build_engine(flow, example, locales=locales).languages) == 8
    # a translator tries out their draft in `wegweiser chat` all the same
    assert len(build_engine(flow, strict, locales=locales, drafts=True).languages) == 8


async def test_run_without_a_key_makes_a_private_key_file_says_so_and_reuses_it(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    keys = []
    for _ in range(2):
        process = await run_bot(api, tmp_path)
        await api.wait_for("getUpdates", timeout=20, after=len(api.calls))
        code, log = await stopped(process)
        assert code == 0, log
        keys.append((tmp_path / "secret.key").read_text())

    key_file = tmp_path / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) >= 32
    assert keys[0] == keys[1]
    assert "in production set WEGWEISER_SECRET_KEY or WEGWEISER_SECRET_KEY_FILE" in log


async def test_run_with_a_database_in_a_missing_folder_names_the_setting(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    process = await run_bot(
        api,
        tmp_path,
        WEGWEISER_SECRET_KEY=TEST_SECRET,
        WEGWEISER_DATABASE=str(tmp_path / "missing" / "db.sqlite3"),
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 2
    assert "WEGWEISER_DATABASE" in stderr.decode()
    assert "Traceback" not in stderr.decode()


async def test_sighup_reloads_a_changed_flow_in_the_running_process(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    flows = Path(shutil.copytree(SHIPPED_FLOWS, tmp_path / "flows"))
    locales = Path(shutil.copytree(PROJECT_ROOT / "locales", tmp_path / "locales"))
    german = Person(user_id=5550003, first_name="Gerda", language_code="de")
    process = await run_bot(
        api,
        tmp_path,
        WEGWEISER_SECRET_KEY=TEST_SECRET,
        WEGWEISER_FLOWS=str(flows),
        WEGWEISER_LOCALES=str(locales),
        WEGWEISER_METRICS_PORT="0",
    )
    try:
        await api.wait_for("getUpdates", timeout=20)
        api.send_text(german, "/start")
        before = await api.wait_for("sendMessage", timeout=10)
        assert before.params["text"] == "Bitte wähl deine Sprache."
        system = flows / "system.yaml"
        system.write_text(
            system.read_text("utf-8").replace(
                "Bitte wähl deine Sprache.", "Welche Sprache möchtest du?"
            ),
            "utf-8",
        )
        process.send_signal(signal.SIGHUP)
        # The reload takes a moment (longer on a busy machine); ask again until it is served, no
        # faster than the flood gate refills (30 a minute), or Gerda is asked to slow down.
        for _ in range(30):
            sent = len(api.calls)
            api.send_text(german, "/language")
            answer = await api.wait_for("sendMessage", timeout=10, after=sent)
            if answer.params["text"] != before.params["text"]:
                break
            await asyncio.sleep(2.1)
        assert answer.params["text"] == "Welche Sprache möchtest du?"
    finally:
        code, log = await stopped(process)
    assert code == 0, log
    _, said = logged(log)
    assert "flows reloaded" in said
    assert any(text.startswith("operations endpoints listening") for text in said)


async def test_sigterm_with_turns_held_up_by_a_slow_bot_api_stops_within_8_seconds(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    """Issue 13: with relays in flight SIGTERM took 55 s (each turn waits out its retries); a
    container runtime kills after 10 s, deploy/ gives 10 s, the bot must be gone after 8."""
    process = await run_bot(api, tmp_path, WEGWEISER_SECRET_KEY=TEST_SECRET)
    try:
        await api.wait_for("getUpdates", timeout=20)
        api.send_text(ANA, "/start")
        await api.wait_for("sendMessage", timeout=10)
        # from now on every answer hangs: each turn waits for its read timeout, then retries
        api.fail("sendMessage", "timeout", times=1000, delay=60)
        people = [Person(user_id=5570000 + n, first_name=f"Quirin{n}") for n in range(5)]
        for person in people:
            api.send_text(person, "/start")
        await api.wait_for("sendMessage", lambda call: call.fault == "timeout", timeout=10)
        await asyncio.sleep(0.5)  # the others' turns are under way too
    finally:
        started = asyncio.get_running_loop().time()
        code, log = await stopped(process)
        took = asyncio.get_running_loop().time() - started
    assert code == 0, log
    assert took < 8, f"stopping took {took:.1f} s"
    _, said = logged(log)
    assert "stopped" in said
    assert "stopping: turns cut off unfinished" in said
    for name, needle in identity_of_ana().items():
        assert needle.decode(errors="ignore") not in log, f"the log holds Ana's {name}"
    assert not [p for p in people if str(p.user_id) in log or p.first_name in log]

    # what was cut off was not confirmed: Telegram hands it out again, the restart answers it
    api._faults.clear()  # the Bot API is well again
    process = await run_bot(api, tmp_path, WEGWEISER_SECRET_KEY=TEST_SECRET)
    try:
        for person in people:
            await api.wait_for(
                "sendMessage",
                lambda call, chat=str(person.user_id): (
                    str(call.params["chat_id"]) == chat and call.result is not None
                ),
                timeout=20,
            )
    finally:
        code, log = await stopped(process)
    assert code == 0, log


async def test_sigterm_while_the_bot_api_fails_every_poll_stops_within_8_seconds(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    process = await run_bot(api, tmp_path, WEGWEISER_SECRET_KEY=TEST_SECRET)
    try:
        await api.wait_for("getUpdates", timeout=20)
        api.send_text(ANA, "/start")
        await api.wait_for("sendMessage", timeout=10)
        api.fail("getUpdates", "server_error", times=1000)
        await api.wait_for("getUpdates", lambda call: call.fault == "server_error", timeout=10)
    finally:
        started = asyncio.get_running_loop().time()
        code, log = await stopped(process)
        took = asyncio.get_running_loop().time() - started
    assert code == 0, log
    assert took < 8, f"stopping took {took:.1f} s"
