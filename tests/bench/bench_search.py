"""Benchmark of typed questions: the crisis net and the search, on the shipped flows and catalogs.

Measures
  1. how the engine answers the typed-question set (tests/search/typed_questions.yaml): top-1
     and top-3 per language (the screen it jumped to, or the "Meintest du …?" suggestions),
     beside what the exact keywords alone found, and the crisis set's recall (the crisis
     screen, every time);
  2. the index build for all offered languages: the first engine of the process (its crisis
     net and the screens' titles; each language's index is built on first use), then the first
     build of every language's index (cold: the stemmers, the Bulgarian lemma dictionary and
     the stop words load; the catalogs are loaded before and not counted), as the running bot
     does it in a thread at start; then median and max of N rebuilds of all of them, as a live
     reload does them (the stems are cached per process);
  3. search latency per typed question, p50 and p99: the search alone, and a whole engine step
     with the crisis net and keywords.

It prints figures and asserts nothing about timing; it is not a test. Run from the project root:

    .venv/bin/python tests/bench/bench_search.py            # full, about 10 seconds
    .venv/bin/python tests/bench/bench_search.py --quick    # CI smoke, a few seconds
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.config import EXAMPLE_DEPLOYMENT, PROJECT_ROOT, build_engine, load_deployment
from bot.dialogue import Session, TextTyped, load_flow
from bot.dialogue.search import build_search
from bot.i18n.catalogs import Catalogs
from tests.bench.report import table
from tests.search.questions import answered, crisis_texts, ordinary_questions, rates

CRISIS_SCREEN = "crisis.start"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer runs (CI smoke)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    args = parser.parse_args(argv)
    runs, rounds = (3, 3) if args.quick else (20, 30)

    print(f"Python {platform.python_version()} ({platform.python_implementation()})")
    print(f"{platform.platform()}, {platform.machine()}")
    print(f"mode: {'quick' if args.quick else 'full'} ({runs} rebuilds, {rounds} search rounds)")
    print()

    deployment = load_deployment(EXAMPLE_DEPLOYMENT)
    flow = load_flow(PROJECT_ROOT / "flows")
    catalogs = Catalogs.load(PROJECT_ROOT / "locales", deployment.languages)
    started = time.perf_counter()
    engine = build_engine(flow, deployment, translator=catalogs)
    engine_cold = time.perf_counter() - started
    started = time.perf_counter()
    engine.search.warm()
    indexes_cold = time.perf_counter() - started
    languages = list(engine.languages)

    # 1. the question sets
    questions = ordinary_questions()
    found = rates(engine, questions)
    rows = [
        [language, str(rate.questions), f"{rate.top1:.2f}", f"{rate.top3:.2f}"]
        for language, rate in found.items()
    ]
    top1 = sum(rate.top1 * rate.questions for rate in found.values()) / len(questions)
    top3 = sum(rate.top3 * rate.questions for rate in found.values()) / len(questions)
    rows.append(["all", str(len(questions)), f"{top1:.2f}", f"{top3:.2f}"])
    # what the keywords alone found, before the search (the exact match of earlier versions)
    by_keyword = {
        language: sum(
            engine.keyword_target(q.text) in q.right for q in questions if q.language == language
        )
        for language in found
    }
    for row in rows:
        language = row[0]
        hits = sum(by_keyword.values()) if language == "all" else by_keyword[language]
        row.append(f"{hits / int(row[1]):.2f}")
    print("typed questions (the engine's answer: a keyword's screen or the suggestions)")
    print(table(["language", "questions", "top-1", "top-3", "keywords alone"], rows))
    for question in questions:
        shown = answered(engine, question.language, question.text)
        if not question.right & set(shown[:3]):
            print(f"  not in the first three ({question.language}): {question.text!r} -> {shown}")
    print()

    crisis = crisis_texts()
    missed = [
        (lang, text) for lang, text in crisis if answered(engine, lang, text) != [CRISIS_SCREEN]
    ]
    recall = 1 - len(missed) / len(crisis)
    print(
        f"crisis set: {len(crisis) - len(missed)}/{len(crisis)} reach the crisis screen "
        f"(recall {recall:.2f})"
    )
    for language, text in missed:
        print(f"  missed ({language}): {text}")
    print()

    # 2. index build, all offered languages
    builds = []
    for _ in range(runs):
        began = time.perf_counter()
        build_search(flow, engine.renderer, languages).warm()
        builds.append(time.perf_counter() - began)
    print(f"index build, {len(languages)} languages, {len(flow.nodes)} screens each")
    print(
        table(
            ["", "seconds"],
            [
                ["engine (crisis net, titles), first in the process", f"{engine_cold:.3f}"],
                ["every language's index, first build in the process", f"{indexes_cold:.3f}"],
                ["both: the first engine, ready to search", f"{engine_cold + indexes_cold:.3f}"],
                ["index rebuild, median", f"{statistics.median(builds):.3f}"],
                ["index rebuild, max", f"{max(builds):.3f}"],
            ],
        )
    )
    print()

    # 3. latency per typed question
    search_ms: list[float] = []
    step_ms: list[float] = []
    texts = [(q.language, q.text) for q in questions] + crisis
    for _ in range(rounds):
        for language, text in texts:
            began = time.perf_counter()
            engine.search.search(text, language)
            search_ms.append((time.perf_counter() - began) * 1000)
            session = Session(node=flow.system.menu, language=language)
            began = time.perf_counter()
            engine.step(session, TextTyped(text))
            step_ms.append((time.perf_counter() - began) * 1000)
    print(f"latency per typed question ({len(search_ms)} each)")
    print(
        table(
            ["", "p50 ms", "p99 ms"],
            [
                [
                    "search",
                    f"{percentile(search_ms, 0.5):.3f}",
                    f"{percentile(search_ms, 0.99):.3f}",
                ],
                [
                    "engine step",
                    f"{percentile(step_ms, 0.5):.3f}",
                    f"{percentile(step_ms, 0.99):.3f}",
                ],
            ],
        )
    )
    if args.json:
        figures = {
            "top1": {language: rate.top1 for language, rate in found.items()},
            "top3": {language: rate.top3 for language, rate in found.items()},
            "crisis_recall": recall,
            "engine_cold_s": engine_cold,
            "indexes_cold_s": indexes_cold,
            "index_build_median_s": statistics.median(builds),
            "search_p50_ms": percentile(search_ms, 0.5),
            "search_p99_ms": percentile(search_ms, 0.99),
            "step_p99_ms": percentile(step_ms, 0.99),
        }
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
