"""The typed-question set (typed_questions.yaml) and how the engine answers it: shared by the
tests and tests/bench/bench_search.py, so that both measure the same thing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.dialogue import Engine, Session, Show, TextTyped
from bot.dialogue.engine import SUGGESTION_PREFIX

QUESTIONS = Path(__file__).parent / "typed_questions.yaml"


@dataclass(frozen=True)
class Question:
    language: str
    text: str
    right: frozenset[str]


def ordinary_questions() -> list[Question]:
    data = yaml.safe_load(QUESTIONS.read_text("utf-8"))
    return [
        Question(language, text, frozenset(right))
        for language, questions in data["ordinary"].items()
        for text, right in questions.items()
    ]


def crisis_texts() -> list[tuple[str, str]]:
    data = yaml.safe_load(QUESTIONS.read_text("utf-8"))
    return [(language, text) for language, texts in data["crisis"].items() for text in texts]


def answered(engine: Engine, language: str, text: str, session: Session | None = None) -> list[str]:
    """The screens a typed text leads to, best first: the screen it jumped to, or the
    suggestions of "Meintest du …?"; empty when nothing was found."""
    session = session or Session(node=engine.flow.system.menu, language=language)
    _, actions = engine.step(session, TextTyped(text))
    screens = [action for action in actions if isinstance(action, Show)]
    if not screens:
        return []
    screen = screens[-1]
    if screen.node_id is not None:
        return [screen.node_id]
    return [
        button.data.removeprefix(SUGGESTION_PREFIX)
        for row in screen.buttons
        for button in row
        if button.data.startswith(SUGGESTION_PREFIX)
    ]


@dataclass(frozen=True)
class Rates:
    questions: int
    top1: float
    top3: float


def rates(engine: Engine, questions: list[Question]) -> dict[str, Rates]:
    """Per language: how often the first answer is right, and how often one of the first three."""
    by_language: dict[str, list[Question]] = {}
    for question in questions:
        by_language.setdefault(question.language, []).append(question)
    result = {}
    for language, asked in by_language.items():
        answers = [answered(engine, language, question.text) for question in asked]
        top1 = sum(bool(a) and a[0] in q.right for q, a in zip(asked, answers, strict=True))
        top3 = sum(bool(q.right & set(a[:3])) for q, a in zip(asked, answers, strict=True))
        result[language] = Rates(len(asked), top1 / len(asked), top3 / len(asked))
    return result
