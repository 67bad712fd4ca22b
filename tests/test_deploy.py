"""deploy/: the compose file's commented lines become valid YAML when uncommented the way
deploy/README.md says (delete "# ", hash and space)."""

from __future__ import annotations

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

    compose = yaml.safe_load(
        uncommented(text, "- ./config.yaml:", "ports:", '- "127.0.0.1:8080:8080"')
    )

    service = compose["services"]["wegweiser"]
    assert service["volumes"] == ["data:/data", "./config.yaml:/etc/wegweiser/config.yaml:ro"]
    assert service["ports"] == ["127.0.0.1:8080:8080"]
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
