"""Benchmark of the dialogue core: flow loading, the linter, the engine and memory.

Measures
  1. load_flow and check_flows (load + lint) of the shipped flows with the example deployment:
     the first (cold) run, then median and min of N further runs;
  2. the same for a generated flow of 2,000 nodes in 20 topic files (written to a temporary
     folder, modelled on tests/fixtures/minimal, checked once to be free of errors before timing);
  3. Engine.step calls per second in a deterministic random walk (buttons, now and then a typed
     keyword or text, /menu or /back) on both flows. steps/s and µs/step include the walk's own
     work (choosing the next event); "engine µs/step" replays the recorded steps without it (the
     fastest of REPLAY_RUNS replays, as the machine may be shared), also by kind of event (a
     button press, typed text, a command, a start) and, with the translations, in each language
     (the same steps with the session in that language, after one replay that builds what the
     engine builds on first use, such as the search index of a language);
  4. peak memory (tracemalloc) while loading and checking the 2,000-node flow and building its
     engine, and what stays allocated afterwards (measured after warm-up, so one-time caches of
     the interpreter and libraries are not counted).

It prints figures and asserts nothing about timing; it is not a test. Run from the project root:

    .venv/bin/python tests/bench/bench_dialogue.py            # full, about a minute
    .venv/bin/python tests/bench/bench_dialogue.py --quick    # CI smoke, a few seconds
    .venv/bin/python tests/bench/bench_dialogue.py --json bench.json
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.config import (
    EXAMPLE_DEPLOYMENT,
    PROJECT_ROOT,
    Deployment,
    build_engine,
    load_deployment,
    translation_report,
)
from bot.dialogue import (
    ButtonPressed,
    Command,
    Engine,
    Erase,
    Event,
    Session,
    Show,
    Start,
    TextTyped,
    load_flow,
)
from bot.i18n.catalogs import Catalogs, catalog_languages
from bot.i18n.pipeline import compile_catalogs
from tests.bench.report import table
from tests.conftest import MINIMAL_DEPLOYMENT, MINIMAL_FLOW, SHIPPED_FLOWS, check, engine_for

FIXTURE_MEDIA = MINIMAL_FLOW / "media"
# The minimal flow's system.yaml fits a generated flow: the same start, menu and counsellor ids.
MINIMAL_SYSTEM = MINIMAL_FLOW / "system.yaml"

T = TypeVar("T")

GENERATED_NODES = 2000
GENERATED_TOPICS = 20
BRANCHING = 5  # children per menu in a generated topic
SEED = 20261125
REPLAY_STEPS = 20_000  # walk steps recorded and replayed for the engine-only figure
REPLAY_RUNS = 3  # replays of them; the fastest counts


@dataclass(frozen=True)
class Mode:
    runs: int  # timed runs per load/check figure, after the cold one
    walk_steps: int  # at most this many steps per walk ...
    walk_seconds: float  # ... or this long, whichever comes first


FULL = Mode(runs=20, walk_steps=200_000, walk_seconds=3.0)
QUICK = Mode(runs=1, walk_steps=20_000, walk_seconds=0.2)


# ------------------------------------------------------------------------------ generated flow

SENTENCES = (
    "Hier findest du Infos, die dir weiterhelfen.",
    "Die Beratung ist kostenlos und anonym.",
    "Du musst deinen Namen nicht sagen.",
    "Ruf uns an: {service.phone}.",
    "Bei {service.name} hilft dir eine Beraterin weiter.",
    "Du kannst auch eine Freundin mitbringen.",
    "Eine Beratungsstelle kann das mit dir zusammen prüfen.",
    "Es gibt Dolmetscherinnen für viele Sprachen.",
    "Frag ruhig nach, wenn etwas unklar ist.",
    "Deine Rechte gelten auch ohne Papiere.",
)
FACTS = ("hotline", "police", "ambulance", "deadline", "fee")


def _topic_sizes(total: int, topics: int) -> list[int]:
    base, extra = divmod(total, topics)
    return [base + (1 if index < extra else 0) for index in range(topics)]


def _text(rng: random.Random, fact: str | None) -> str:
    sentences = rng.sample(SENTENCES, rng.randint(2, 5))
    if fact is not None:
        sentences.append(f"Wichtige Nummer: {{fact.{fact}}}.")
    return " ".join(sentences)


def _topic_nodes(
    rng: random.Random, topic: int, namespaces: list[str], sizes: list[int]
) -> dict[str, dict[str, Any]]:
    """One topic file: a tree of menus (node k's parent is (k-1)//BRANCHING), info, contacts and
    handover leaves, links into other files, keywords, media and a few nodes without
    navigation."""
    size = sizes[topic]
    smallest = min(sizes)
    nodes: dict[str, dict[str, Any]] = {}
    for k in range(size):
        children = [c for c in range(BRANCHING * k + 1, BRANCHING * k + BRANCHING + 1) if c < size]
        other = namespaces[(topic + 1 + k) % len(namespaces)]
        elsewhere = f"{other}.n{(k * 7) % smallest:03d}"
        fact = FACTS[k % len(FACTS)] if k % 3 == 0 else None
        node: dict[str, Any]
        if children:
            options: list[dict[str, str]] = [
                {"label": f"Punkt {topic}.{child}", "goto": f"n{child:03d}"} for child in children
            ]
            options.append({"label": "Verwandtes Thema", "goto": elsewhere})
            if k % 4 == 0:
                options.append({"label": "Beraterin", "action": "counsellor"})
            node = {"kind": "menu", "text": _text(rng, fact), "options": options}
        elif k % 25 == 0:
            node = {"kind": "contacts", "text": _text(rng, None), "contacts": ["centre"]}
        elif k % 33 == 0:
            node = {
                "kind": "handover",
                "text": "Möchtest du mit einer Beraterin sprechen?",
                "confirm": "Ja, bitte",
                "topic": f"topic{topic}",
            }
        else:
            node = {"kind": "info", "text": _text(rng, fact)}
            if k % 7 == 0:
                node["options"] = [{"label": "Mehr dazu", "goto": elsewhere}]
            if k % 49 == 0:
                node["navigation"] = "false"
                node["options"] = [{"label": "Zum Hauptmenü", "action": "menu"}]
        if k % 10 == 5:
            node["keywords"] = [f"stichwort{topic:02d}x{k:03d}", f"wort{topic}x{k}"]
        if k % 40 == 10:
            node["media"] = "test.png"
        nodes[f"n{k:03d}"] = node
    return nodes


def _main_nodes(namespaces: list[str]) -> dict[str, dict[str, Any]]:
    half = len(namespaces) // 2
    return {
        "welcome": {
            "kind": "menu",
            "text": "Willkommen bei {service.name}.",
            "options": [
                {"label": "Zum Menü", "goto": "menu"},
                {"label": "Sprache", "action": "language"},
            ],
        },
        "menu": {
            "kind": "menu",
            "navigation": "false",
            "text": "Worum geht es?",
            "options": [
                *({"label": f"Thema {ns}", "goto": f"{ns}.n000"} for ns in namespaces[:half]),
                {"label": "Weitere Themen", "goto": "more"},
                {"label": "Beraterin", "action": "counsellor"},
            ],
        },
        "more": {
            "kind": "menu",
            "text": "Weitere Themen.",
            "options": [
                *({"label": f"Thema {ns}", "goto": f"{ns}.n000"} for ns in namespaces[half:]),
                {"label": "Datenschutz", "action": "privacy"},
            ],
        },
        "privacy": {"kind": "info", "text": "Wir speichern nichts über dich."},
        "counsellor": {
            "kind": "handover",
            "text": "Möchtest du mit einer Beraterin sprechen?",
            "confirm": "Ja, bitte",
            "topic": "general",
            "options": [{"label": "Lieber anrufen", "goto": "phone"}],
        },
        "phone": {"kind": "contacts", "text": "So erreichst du uns.", "contacts": ["centre"]},
    }


def _dump(path: Path, data: object) -> None:
    path.write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8"
    )


def generate_flow(directory: Path, nodes: int, topics: int, seed: int) -> None:
    """Writes a valid flow of exactly `nodes` nodes: main.yaml plus `topics` topic files."""
    rng = random.Random(seed)
    namespaces = [f"topic_{index:02d}" for index in range(topics)]
    main = _main_nodes(namespaces)
    sizes = _topic_sizes(nodes - len(main), topics)
    today = datetime.date.today().isoformat()
    shutil.copy(MINIMAL_SYSTEM, directory / "system.yaml")
    _dump(
        directory / "facts.yaml",
        {
            "facts": {
                name: {
                    "text": f"0800 {index:03d} {index:03d}",
                    "source": f"https://example.org/facts/{name}",
                    "checked": today,
                    "time_sensitive": "true" if index % 2 else "false",
                }
                for index, name in enumerate(FACTS)
            }
        },
    )
    _dump(directory / "main.yaml", {"nodes": main})
    for topic, namespace in enumerate(namespaces):
        _dump(
            directory / f"{namespace}.yaml",
            {"nodes": _topic_nodes(rng, topic, namespaces, sizes)},
        )
    shutil.copytree(FIXTURE_MEDIA, directory / "media")


# ------------------------------------------------------------------------------------ measuring


@dataclass(frozen=True)
class Timing:
    name: str
    nodes: int
    runs: int
    cold_ms: float
    median_ms: float
    min_ms: float


def timed(function: Callable[[], T]) -> tuple[float, T]:
    """One call: its duration in seconds and its result."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def series(name: str, nodes: int, runs: int, cold: float, function: Callable[[], object]) -> Timing:
    """`runs` calls after the first (`cold`, timed by the caller)."""
    gc.collect()
    times = [timed(function)[0] for _ in range(runs)]
    return Timing(name, nodes, runs, cold * 1e3, statistics.median(times) * 1e3, min(times) * 1e3)


Recorded = list[tuple[Session, Event]]


@dataclass(frozen=True)
class Walk:
    name: str
    nodes: int
    steps: int
    seconds: float
    steps_per_second: float
    us_per_step: float
    engine_us_per_step: float
    nodes_visited: int
    # engine µs/step of the recorded steps of one kind of event, and how many there were, by the
    # event's class name
    engine_us_by_event: dict[str, float]
    events: dict[str, int]


EVENT_KINDS = (ButtonPressed, TextTyped, Command, Start)


def replay(engine: Engine, recorded: Sequence[tuple[Session, Event]]) -> float:
    """Engine.step on recorded steps again, without choosing events: µs per step, the fastest
    of REPLAY_RUNS runs."""
    step = engine.step
    fastest = float("inf")
    for _ in range(REPLAY_RUNS):
        gc.collect()
        start = time.perf_counter()
        for session, event in recorded:
            step(session, event)
        fastest = min(fastest, time.perf_counter() - start)
    return fastest / len(recorded) * 1e6


def in_language(recorded: Recorded, language: str) -> Recorded:
    """The same steps with the session in `language` (a session without one, a first start,
    stays without)."""
    return [
        (session if session.language is None else replace(session, language=language), event)
        for session, event in recorded
    ]


RANDOM_TEXTS = ("hallo", "ich brauche hilfe", "was kostet das?", "wo bist du", "🙂", "ok danke")


def walk(
    name: str, engine: Engine, max_steps: int, max_seconds: float, seed: int
) -> tuple[Walk, Recorded]:
    """Presses a random button of the last screen; about every 10th step types a keyword or some
    text, or sends /menu or /back. Starts again (Start) after /exit or a handover. Returns the
    first REPLAY_STEPS steps too."""
    rng = random.Random(seed)
    keywords = sorted(engine.keywords)
    session = Session()
    event: Event = Start()
    visited: set[str] = set()
    recorded: Recorded = []
    record = recorded.append
    steps = 0
    step = engine.step
    gc.collect()
    start = time.perf_counter()
    deadline = start + max_seconds
    while steps < max_steps:
        if steps < REPLAY_STEPS:
            record((session, event))
        session, actions = step(session, event)
        steps += 1
        if steps % 512 == 0 and time.perf_counter() >= deadline:
            break
        show = next((a for a in reversed(actions) if isinstance(a, Show)), None)
        if show is None or any(isinstance(a, Erase) for a in actions):
            event = Start()
            continue
        if show.node_id is not None:
            visited.add(show.node_id)
        buttons = [button for row in show.buttons for button in row]
        if not buttons or rng.random() < 0.1:
            roll = rng.random()
            if roll < 0.4 and keywords:
                event = TextTyped(f"ich suche {rng.choice(keywords)}")
            elif roll < 0.6:
                event = TextTyped(rng.choice(RANDOM_TEXTS))
            elif roll < 0.8:
                event = Command("menu")
            else:
                event = Command("back")
        else:
            event = ButtonPressed(rng.choice(buttons).data)
    seconds = time.perf_counter() - start
    # The first steps again without the walk's own work (choosing the next event): the engine
    # alone. Only some are kept, so that holding them does not slow the garbage collector down.
    engine_us = replay(engine, recorded)
    by_event = {}
    events = {}
    for kind in EVENT_KINDS:
        of_kind = [(session, event) for session, event in recorded if isinstance(event, kind)]
        if of_kind:
            by_event[kind.__name__] = replay(engine, of_kind)
            events[kind.__name__] = len(of_kind)
    figures = Walk(
        name,
        len(engine.flow.nodes),
        steps,
        seconds,
        steps / seconds,
        seconds / steps * 1e6,
        engine_us,
        len(visited),
        by_event,
        events,
    )
    return figures, recorded


@dataclass(frozen=True)
class Memory:
    name: str
    nodes: int
    peak_mib: float
    retained_mib: float


def memory(name: str, directory: Path, deployment: Deployment) -> Memory:
    """Peak traced memory while checking the flow and building the engine, and what the engine
    (with its flow) keeps afterwards."""
    gc.collect()
    tracemalloc.start()
    try:
        engine = engine_for(directory, deployment)
        gc.collect()
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Memory(name, len(engine.flow.nodes), peak / 2**20, retained / 2**20)


# -------------------------------------------------------------------------------------- output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer runs and steps (CI smoke)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    began = time.perf_counter()

    print(f"Python {platform.python_version()} ({platform.python_implementation()})")
    print(f"{platform.platform()}, {platform.machine()}")
    print(f"mode: {'quick' if args.quick else 'full'} ({mode.runs} runs after the cold one)")
    print()

    example = load_deployment(EXAMPLE_DEPLOYMENT)
    fixture = load_deployment(MINIMAL_DEPLOYMENT)
    timings: list[Timing] = []
    walks: list[Walk] = []
    by_language: dict[str, float] = {}

    # 1. the shipped flows. The first check_flows is the process's first flow load (cold);
    # later "cold" figures are the first call of their series.
    cold, shipped = timed(lambda: check(SHIPPED_FLOWS, example))
    assert shipped.ok and shipped.flow is not None, [str(p) for p in shipped.errors]
    shipped_nodes = len(shipped.flow.nodes)
    timings.append(
        series(
            "shipped check_flows",
            shipped_nodes,
            mode.runs,
            cold,
            lambda: check(SHIPPED_FLOWS, example),
        )
    )
    cold, _ = timed(lambda: load_flow(SHIPPED_FLOWS))
    timings.append(
        series(
            "shipped load_flow", shipped_nodes, mode.runs, cold, lambda: load_flow(SHIPPED_FLOWS)
        )
    )

    with (
        tempfile.TemporaryDirectory(prefix="wegweiser-bench-") as temporary,
        tempfile.TemporaryDirectory(prefix="wegweiser-bench-locales-") as catalog_copy,
    ):
        generated = Path(temporary)
        generate_seconds, _ = timed(
            lambda: generate_flow(generated, GENERATED_NODES, GENERATED_TOPICS, SEED)
        )

        # 2. the generated flow; the cold run is also the check that it has no errors
        cold, result = timed(lambda: check(generated, fixture))
        assert result.ok and result.flow is not None, [str(p) for p in result.errors[:10]]
        generated_flow = result.flow
        generated_nodes = len(generated_flow.nodes)
        generated_warnings = len(result.warnings)
        timings.append(
            series(
                "generated check_flows",
                generated_nodes,
                mode.runs,
                cold,
                lambda: check(generated, fixture),
            )
        )
        cold, _ = timed(lambda: load_flow(generated))
        timings.append(
            series(
                "generated load_flow",
                generated_nodes,
                mode.runs,
                cold,
                lambda: load_flow(generated),
            )
        )

        def build() -> Engine:
            return build_engine(generated_flow, fixture)

        cold, generated_engine = timed(build)
        timings.append(series("generated Engine()", generated_nodes, mode.runs, cold, build))

        # 3. the translations: catalogs compiled at start from .po files (a fresh clone), read
        # from .mo files (after `wegweiser i18n compile`), and the translation check
        locales = Path(shutil.copytree(PROJECT_ROOT / "locales", Path(catalog_copy) / "locales"))
        languages = example.languages
        catalog_count = len(catalog_languages(locales))

        def load_catalogs() -> Catalogs:
            return Catalogs.load(locales, languages)

        cold, _ = timed(load_catalogs)
        timings.append(
            series(
                f"catalogs from .po ({catalog_count})",
                shipped_nodes,
                mode.runs,
                cold,
                load_catalogs,
            )
        )
        compile_catalogs(locales)
        cold, _ = timed(load_catalogs)
        timings.append(
            series(
                f"catalogs from .mo ({catalog_count})",
                shipped_nodes,
                mode.runs,
                cold,
                load_catalogs,
            )
        )

        def translations() -> object:
            return translation_report(shipped.flow, example, locales)  # type: ignore[arg-type]

        cold, _ = timed(translations)
        timings.append(series("translation check", shipped_nodes, mode.runs, cold, translations))

        def translated_engine() -> Engine:
            return build_engine(shipped.flow, example, locales=locales)  # type: ignore[arg-type]

        cold, translated = timed(translated_engine)
        timings.append(
            series("shipped Engine() + catalogs", shipped_nodes, mode.runs, cold, translated_engine)
        )

        # 4. engine steps: German only, the generated flow, and all languages from the catalogs
        shipped_engine = engine_for(SHIPPED_FLOWS, example)
        for name, engine in (
            ("shipped, source texts", shipped_engine),
            ("generated", generated_engine),
            (f"shipped, {len(languages)} languages", translated),
        ):
            done, recorded = walk(name, engine, mode.walk_steps, mode.walk_seconds, SEED)
            walks.append(done)
        # the last walk's steps (the translated engine) in each language
        for language in languages:
            steps = in_language(recorded, language)
            for session, event in steps:  # the first search in a language builds its index
                translated.step(session, event)
            by_language[language] = replay(translated, steps)

        # 5. memory
        used = memory("generated flow + engine", generated, fixture)

    print(
        f"generated flow: {generated_nodes} nodes in {GENERATED_TOPICS} topic files + main.yaml,"
        f" written in {generate_seconds * 1e3:.0f} ms, {generated_warnings} warnings, no errors"
    )
    print()
    print(
        table(
            ["load / check", "nodes", "runs", "cold ms", "median ms", "min ms"],
            [
                [
                    t.name,
                    str(t.nodes),
                    str(t.runs),
                    f"{t.cold_ms:.2f}",
                    f"{t.median_ms:.2f}",
                    f"{t.min_ms:.2f}",
                ]
                for t in timings
            ],
        )
    )
    print()
    print(
        table(
            [
                "engine walk",
                "nodes",
                "steps",
                "seconds",
                "steps/s",
                "µs/step",
                "engine µs/step",
                "nodes visited",
            ],
            [
                [
                    w.name,
                    str(w.nodes),
                    str(w.steps),
                    f"{w.seconds:.2f}",
                    f"{w.steps_per_second:,.0f}",
                    f"{w.us_per_step:.1f}",
                    f"{w.engine_us_per_step:.1f}",
                    str(w.nodes_visited),
                ]
                for w in walks
            ],
        )
    )
    print()
    kinds = [kind.__name__ for kind in EVENT_KINDS]
    print(
        table(
            ["engine µs/step by event (steps)", *kinds],
            [
                [
                    w.name,
                    *(
                        f"{w.engine_us_by_event.get(kind, 0):.1f} ({w.events.get(kind, 0)})"
                        for kind in kinds
                    ),
                ]
                for w in walks
            ],
        )
    )
    print()
    print(
        table(
            [f"{walks[-1].name}, by language", "engine µs/step"],
            [[language, f"{us:.1f}"] for language, us in by_language.items()],
        )
    )
    print()
    print(
        table(
            ["memory (tracemalloc)", "nodes", "peak MiB", "retained MiB"],
            [[used.name, str(used.nodes), f"{used.peak_mib:.1f}", f"{used.retained_mib:.1f}"]],
        )
    )
    total = time.perf_counter() - began
    print()
    print(f"total {total:.1f} s")

    if args.json is not None:
        figures = {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "machine": platform.machine(),
            "mode": "quick" if args.quick else "full",
            "generated": {
                "nodes": generated_nodes,
                "topics": GENERATED_TOPICS,
                "warnings": generated_warnings,
                "seed": SEED,
            },
            "load": [asdict(t) for t in timings],
            "walk": [asdict(w) for w in walks],
            "engine_us_per_step_by_language": by_language,
            "memory": asdict(used),
            "total_seconds": total,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
