"""The layering rule, checked on the source: the core (dialogue, case lifecycle, statistics) and
the service import no channel library, database driver or web framework, not even through a
package they import, never read the clock themselves, and are given their settings rather than
reading the deployment file; the dialogue does not import i18n."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

BOT = Path(__file__).parent.parent / "bot"
CORE = ("bot.dialogue", "bot.handover", "bot.stats")
SERVICE = ("bot.service",)
FORBIDDEN = (
    "telegram",
    "aiosqlite",
    "sqlite3",
    "aiohttp",
    "tornado",
    "starlette",
    "uvicorn",
    "httpx",
    "jinja2",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in BOT.rglob("*.py")}


def imported(name: str) -> Iterator[str]:
    """Every module `name` imports, at module level or inside a function."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1]])
                base = f"{base}.{node.module}" if node.module else base
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def loaded_with(name: str) -> set[str]:
    """What importing `name` loads: its imports, their packages' __init__, and so on."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        parts = current.split(".")
        todo.extend(p for p in (".".join(parts[:i]) for i in range(1, len(parts))) if p in MODULES)
        if current in MODULES:
            todo.extend(imported(current))
    return seen


def layer(prefixes: tuple[str, ...]) -> list[str]:
    return sorted(name for name in MODULES if name.startswith(prefixes))


@pytest.mark.parametrize("name", layer(CORE + SERVICE))
def test_core_and_service_load_no_channel_library_driver_or_web_framework(name: str) -> None:
    loaded = loaded_with(name)
    found = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN)
    assert not found, f"{name} loads {found}"
    adapters = sorted(m for m in loaded if m.startswith(("bot.channels", "bot.store.sqlite")))
    assert not adapters, f"{name} loads adapters {adapters}"


@pytest.mark.parametrize("name", layer(CORE + SERVICE))
def test_core_and_service_do_not_read_the_clock(name: str) -> None:
    source = MODULES[name].read_text(encoding="utf-8")
    tree = ast.parse(source)
    calls = [
        ast.unparse(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("now", "utcnow", "today", "time", "monotonic")
        and ast.unparse(node.func.value).split(".")[-1] in ("datetime", "date", "time")
    ]
    clock = MODULES["bot.service.ports"]
    allowed = MODULES[name] == clock  # the system clock is the port's one implementation
    assert allowed or not calls, f"{name} reads the clock: {calls}"


@pytest.mark.parametrize("name", layer(CORE + SERVICE))
def test_core_and_service_are_given_their_settings_not_the_deployment_file(name: str) -> None:
    """The composition root turns the deployment file into plain policies (SessionPolicy,
    CasePolicy); the layers below never read bot.config."""
    assert "bot.config" not in loaded_with(name), name


def test_the_dialogue_does_not_import_i18n() -> None:
    for name in layer(("bot.dialogue",)):
        loaded = loaded_with(name)
        assert not any(m.startswith("bot.i18n") for m in loaded), name


def test_the_rule_sees_an_import_through_a_package() -> None:
    """The check itself: a channel module loads telegram, the store package does not load its
    SQLite implementation."""
    assert any(m.startswith("telegram") for m in loaded_with("bot.channels.telegram.person"))
    assert "bot.store.sqlite" not in loaded_with("bot.store")
