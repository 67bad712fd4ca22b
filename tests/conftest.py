"""Shared fixtures: a small valid flow (tests/fixtures/minimal) to copy and break, the shipped
flows, and the deployments that go with them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest

from bot.config import (
    EXAMPLE_DEPLOYMENT,
    PROJECT_ROOT,
    Deployment,
    build_engine,
    check_flows_for,
    load_deployment,
)
from bot.dialogue import ButtonPressed, CheckResult, Engine, Session, Show, Start, TextTyped

FIXTURES = Path(__file__).parent / "fixtures"
MINIMAL_FLOW = FIXTURES / "minimal"
MINIMAL_DEPLOYMENT = FIXTURES / "deployment.yaml"
# A reviewed Romanian catalog of the minimal flow (the minimal deployment offers de and ro).
MINIMAL_LOCALES = FIXTURES / "locales"
SHIPPED_FLOWS = PROJECT_ROOT / "flows"


@pytest.fixture
def flow_dir(tmp_path: Path) -> Path:
    """A private copy of the minimal flow, for a test to edit."""
    return Path(shutil.copytree(MINIMAL_FLOW, tmp_path / "flows"))


def edit_flow(directory: Path, name: str, old: str, new: str) -> None:
    """Change one place of a flow file (a test's copy); `old` must occur exactly once."""
    path = directory / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not unique in {name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="session")
def minimal_deployment() -> Deployment:
    return load_deployment(MINIMAL_DEPLOYMENT)


@pytest.fixture(scope="session")
def example_deployment() -> Deployment:
    return load_deployment(EXAMPLE_DEPLOYMENT)


def check(directory: Path, deployment: Deployment) -> CheckResult:
    return check_flows_for(directory, deployment)


def engine_for(directory: Path, deployment: Deployment, **options: object) -> Engine:
    result = check(directory, deployment)
    assert result.ok, [str(problem) for problem in result.errors]
    assert result.flow is not None
    return build_engine(result.flow, deployment, **options)


def wegweiser(*args: str | Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the real command line (`python -m bot ...`) in a fresh process, from the project
    folder and without the caller's WEGWEISER_* settings."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WEGWEISER_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *map(str, args)],
        cwd=PROJECT_ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def walk(engine: Engine, language: str | None = None) -> dict[str, Session]:
    """Every node reachable by pressing buttons from /start, with one session that got there,
    for a person who chose `language` (default: the engine's default language). The crisis
    screens, which typed words open, are walked from too: a person types one of their words."""
    chosen = Session(language=language or engine.default_language)
    start, actions = engine.step(chosen, Start())
    reached: dict[str, Session] = {}
    queue = deque([(start, actions)])
    for node in engine.flow.nodes.values():
        for words in node.crisis_words.values():
            queue.append(engine.step(start, TextTyped(words[0])))
    while queue:
        session, actions = queue.popleft()
        if session.node is None or session.node in reached:
            continue
        reached[session.node] = session
        for screen in (action for action in actions if isinstance(action, Show)):
            for button in (button for row in screen.buttons for button in row):
                queue.append(engine.step(session, ButtonPressed(button.data)))
    return reached


def add_audio(directory: Path, **files: str) -> None:
    """The screen topic.test of a flow copy read aloud: language -> a file under media/ (a tiny
    stand-in for an MP3), e.g. `add_audio(flows, de="de/test.mp3")`."""
    lines = "".join(f"      {language}: {name}\n" for language, name in files.items())
    edit_flow(
        directory,
        "topic.yaml",
        "    media: test.png\n",
        f"    media: test.png\n    audio:\n{lines}",
    )
    for name in files.values():
        path = directory / "media" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(64))


_exit_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))


def pytest_unconfigure(config: pytest.Config) -> None:
    """A failing test can leave a thread behind that is not a daemon (a store's or a bot's); it
    would keep the process alive after the report (seen once here, after a failed run), and CI
    would wait for it. Once everything is reported, such a process exits with pytest's status."""
    import threading

    lingering = [
        t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon
    ]
    if lingering and _exit_status:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])
