"""The secret key as an operator sets it (bot/config.py `secret_key`): a placeholder left in from
example.env and a key that is too short are refused with a line that says how to make one (with
`python3`, which stock Debian and Ubuntu have), and with both settings set the winner is named."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, ConfigurationError, Settings, secret_key

GOOD_KEY = "Xq3v9Lr2Tz8Wm1Pk7Hc4Ns6Bd0Fg5Jy2Ue8Ra1Ol3Vi"


def refusal(settings: Settings) -> str:
    with pytest.raises(ConfigurationError) as raised:
        secret_key(settings)
    message = str(raised.value)
    assert "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'" in message
    assert "python -c" not in message
    return message


@pytest.mark.parametrize("key", ["change-me", "CHANGE_ME-" * 4, "replace me with a long secret!"])
def test_an_unchanged_placeholder_key_is_refused_as_a_placeholder(key: str) -> None:
    message = refusal(Settings(secret_key=key))

    assert message.startswith("WEGWEISER_SECRET_KEY is still a placeholder")


def test_a_short_key_is_refused_with_its_length() -> None:
    message = refusal(Settings(secret_key="abcde"))

    assert message.startswith("WEGWEISER_SECRET_KEY must be at least 32 characters long (it has 5)")


def test_a_placeholder_in_the_key_file_names_the_file(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text("change-me\n")

    message = refusal(Settings(secret_key_file=key_file))

    assert message.startswith(f"WEGWEISER_SECRET_KEY_FILE ({key_file}) is still a placeholder")


def test_with_both_set_a_refused_key_says_the_file_is_not_read(tmp_path: Path) -> None:
    """The systemd pitfall: `WEGWEISER_SECRET_KEY=change-me` left in the environment file while
    the unit points WEGWEISER_SECRET_KEY_FILE at a good key."""
    key_file = tmp_path / "secret_key"
    key_file.write_text(GOOD_KEY)

    message = refusal(Settings(secret_key="change-me", secret_key_file=key_file))

    assert (
        f"WEGWEISER_SECRET_KEY_FILE ({key_file}) is set too, but WEGWEISER_SECRET_KEY wins and "
        "the file is not read" in message
    )
    assert "delete the line WEGWEISER_SECRET_KEY=..." in message


def test_with_both_set_the_key_wins_and_the_log_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text("another-key-" + GOOD_KEY)

    with caplog.at_level(logging.WARNING):
        key, source = secret_key(Settings(secret_key=GOOD_KEY, secret_key_file=key_file))

    assert (key, source) == (GOOD_KEY, "WEGWEISER_SECRET_KEY")
    [record] = caplog.records
    assert record.getMessage() == (
        "WEGWEISER_SECRET_KEY and WEGWEISER_SECRET_KEY_FILE are both set: "
        "WEGWEISER_SECRET_KEY is used, the file is not read"
    )


def test_a_good_key_file_is_read(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text(GOOD_KEY + "\n")

    assert secret_key(Settings(secret_key_file=key_file)) == (
        GOOD_KEY,
        "WEGWEISER_SECRET_KEY_FILE",
    )


def test_run_with_the_example_placeholder_stops_at_once_with_one_line(tmp_path: Path) -> None:
    """`wegweiser run` with example.env's key: exit 2 (which the systemd unit does not restart),
    before anything connects to Telegram."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WEGWEISER_")}
    environment |= {
        "WEGWEISER_TELEGRAM_TOKEN": "123456:TEST-TOKEN",
        "WEGWEISER_TELEGRAM_API_URL": "http://127.0.0.1:9/bot",
        "WEGWEISER_SECRET_KEY": "change-me",
    }
    run = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 2
    assert run.stderr.startswith("WEGWEISER_SECRET_KEY is still a placeholder")
    assert "Traceback" not in run.stderr
    unit = (PROJECT_ROOT / "deploy" / "wegweiser.service").read_text()
    assert "\nRestartPreventExitStatus=2\n" in unit


@pytest.mark.parametrize(
    "pasted", ["123456:ABC-def_ghi ", " 123456:ABC-def_ghi\n", "\t123456:ABC-def_ghi"]
)
def test_a_token_pasted_with_spaces_around_it_is_used_trimmed(
    pasted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEGWEISER_TELEGRAM_TOKEN", pasted)
    token = Settings().telegram_token
    assert token is not None and token.get_secret_value() == "123456:ABC-def_ghi"


def test_a_token_of_spaces_only_is_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEGWEISER_TELEGRAM_TOKEN", "  ")
    assert Settings().telegram_token is None
