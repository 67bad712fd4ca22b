"""`wegweiser flows search`: what a typed question reaches, for a maintainer."""

from __future__ import annotations

from tests.conftest import wegweiser


def test_flows_search_prints_ranked_screens_with_titles_in_the_language_and_scores() -> None:
    result = wegweiser("flows", "search", "--lang", "ro", "bani pentru copii")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0].split()
    assert first[:2] == ["1.", "money.child_benefit"]
    assert "alocația pentru copii" in result.stdout  # the Romanian title
    assert float(first[-1]) > 0


def test_flows_search_says_when_a_crisis_word_comes_first() -> None:
    result = wegweiser("flows", "search", "--lang", "de", "Er schlägt mich")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("crisis word 'schlägt mich' (violence, source)")


def test_flows_search_refuses_a_language_that_is_not_offered() -> None:
    result = wegweiser("flows", "search", "--lang", "xx", "hallo")
    assert result.returncode == 2
    assert "not offered" in result.stderr


def test_flows_search_says_when_a_keyword_comes_first() -> None:
    result = wegweiser("flows", "search", "--lang", "ro", "sunt însărcinată")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("a keyword: ")
    assert "health.pregnancy" in result.stdout.splitlines()[0]
