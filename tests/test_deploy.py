"""deploy/: the compose file's commented lines become valid YAML when uncommented the way
deploy/README.md says (delete "# ", hash and space); the ports of the web chat and the
webhook."""

from __future__ import annotations

import re

import yaml

from bot.channels.telegram.app import SHUTDOWN_AT_LEAST, STOP_WITHIN
from bot.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
UNCOMMENT = "delete `# ` (the hash and the space after it)"


def uncommented(text: str, *starts: str) -> str:
    """`text` with "# " deleted in front of each line that then starts with one of `starts`."""
    lines = []
    for line in text.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        rest = line.lstrip()
        if rest.startswith("# ") and rest[2:].lstrip().startswith(starts):
            line = indent + rest[2:]
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_the_guide_says_to_delete_the_hash_and_the_space() -> None:
    guide = " ".join((DEPLOY / "README.md").read_text(encoding="utf-8").split())

    assert guide.count(UNCOMMENT) == 2  # the config mount (section 3) and the port (section 5)
    assert "remove the `#`" not in guide


def test_the_config_mount_and_the_port_uncommented_are_valid_compose() -> None:
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")

    compose = yaml.safe_load(uncommented(text, "- ./config.yaml:", '- "127.0.0.1:8081:8081"'))

    service = compose["services"]["wegweiser"]
    assert service["volumes"] == ["data:/data", "./config.yaml:/etc/wegweiser/config.yaml:ro"]
    assert service["ports"] == ["127.0.0.1:8080:8080", "127.0.0.1:8081:8081"]
    assert service["logging"]["driver"] == "json-file"


def test_every_way_to_run_it_gives_the_bot_more_time_to_stop_than_it_takes() -> None:
    """The bot stops within 8 s of SIGTERM (tests/channels/telegram/test_run.py measures it);
    compose, systemd and docker wait 10 s before they kill it."""
    assert STOP_WITHIN + SHUTDOWN_AT_LEAST <= 8 - 1  # a second for the process to end
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["wegweiser"]
    assert service["stop_signal"] == "SIGTERM"
    assert service["stop_grace_period"] == "10s"
    unit = (DEPLOY / "wegweiser.service").read_text(encoding="utf-8").splitlines()
    assert "TimeoutStopSec=10s" in unit
    assert "KillSignal=SIGTERM" in unit
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines()
    assert "STOPSIGNAL SIGTERM" in dockerfile


# ---- the web chat's ports ------------------------------------------------------------------


def test_compose_publishes_the_web_chat_and_the_webhook_on_this_machine_only() -> None:
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")

    assert yaml.safe_load(text)["services"]["wegweiser"]["ports"] == ["127.0.0.1:8080:8080"]
    webhook = yaml.safe_load(uncommented(text, '- "127.0.0.1:8081:8081"'))
    assert webhook["services"]["wegweiser"]["ports"] == [
        "127.0.0.1:8080:8080",
        "127.0.0.1:8081:8081",
    ]


def test_the_image_listens_on_every_address_and_the_unit_on_this_machine_only() -> None:
    """Inside a container 127.0.0.1 cannot be reached through a published port; outside one
    the web chat and the webhook stay on 127.0.0.1, behind the reverse proxy. The webhook's
    default port is the web chat's, so both files move it."""
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    image = dict(re.findall(r"(WEGWEISER_\w+)=(\S+)", dockerfile))
    assert image["WEGWEISER_WEB_LISTEN"] == image["WEGWEISER_WEBHOOK_LISTEN"] == "0.0.0.0"
    assert (image["WEGWEISER_WEB_PORT"], image["WEGWEISER_WEBHOOK_PORT"]) == ("8080", "8081")
    assert "EXPOSE 8080 8081" in dockerfile.splitlines()

    unit_lines = (DEPLOY / "wegweiser.service").read_text(encoding="utf-8").splitlines()
    environment = " ".join(line for line in unit_lines if line.startswith("Environment="))
    unit = dict(re.findall(r"(WEGWEISER_\w+)=(\S+)", environment))
    assert unit["WEGWEISER_WEB_LISTEN"] == unit["WEGWEISER_WEBHOOK_LISTEN"] == "127.0.0.1"
    assert (unit["WEGWEISER_WEB_PORT"], unit["WEGWEISER_WEBHOOK_PORT"]) == ("8080", "8081")


def test_example_env_lists_the_web_chat_settings() -> None:
    text = (DEPLOY / "example.env").read_text(encoding="utf-8")

    for line in (
        "# WEGWEISER_WEB_LISTEN=127.0.0.1",
        "# WEGWEISER_WEB_PORT=8080",
        "# WEGWEISER_WEB_EXIT_URL=",
    ):
        assert line in text
