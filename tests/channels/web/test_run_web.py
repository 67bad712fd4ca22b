"""`wegweiser run` as a newcomer starts it: nothing set, a fresh folder; and a taken port."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import httpx


async def start(folder: Path, **env: str) -> asyncio.subprocess.Process:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WEGWEISER_")}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=folder,
        env=environment | env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def logged_url(process: asyncio.subprocess.Process) -> tuple[str, list[str]]:
    lines: list[str] = []
    assert process.stderr is not None
    while line := await asyncio.wait_for(process.stderr.readline(), 30):
        lines.append(line.decode())
        if '"web chat listening"' in lines[-1]:
            return json.loads(lines[-1])["url"], lines
    raise AssertionError("".join(lines))


async def test_with_nothing_set_it_serves_the_web_chat_and_makes_a_private_key(
    tmp_path: Path,
) -> None:
    process = await start(tmp_path, WEGWEISER_WEB_PORT="0")  # the default 8080, but free
    try:
        url, lines = await logged_url(process)
        async with httpx.AsyncClient() as client:
            page = await client.get(url)
    finally:
        process.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(process.communicate(), 20)
    said = "".join(lines) + rest[1].decode()

    assert url.startswith("http://127.0.0.1:")
    assert page.status_code == 200 and "Schnell weg" in page.text
    assert process.returncode == 0, said
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    assert (tmp_path / "wegweiser.sqlite3").exists()
    assert "Telegram off (WEGWEISER_TELEGRAM_TOKEN not set)" in said
    assert "in production set WEGWEISER_SECRET_KEY" in said
    assert "Traceback" not in said


async def test_a_taken_port_stops_the_start_with_one_line_naming_the_settings(
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = await start(tmp_path, WEGWEISER_WEB_PORT=str(taken.getsockname()[1]))
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    said = stderr.decode()

    assert process.returncode == 2, said
    assert "WEGWEISER_WEB_LISTEN, WEGWEISER_WEB_PORT: the web chat cannot listen" in said
    assert "Traceback" not in said


def test_a_run_without_a_token_loads_no_telegram_library() -> None:
    """python-telegram-bot is a third of the process's memory: a web-only run does without."""
    probe = (
        "import sys, bot.cli, bot.run, bot.runtime; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'telegram', 'tornado'}))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )

    assert shown.stdout.strip() == "[]"
