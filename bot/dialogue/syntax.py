"""YAML mistakes explained in the words of the person who made them.

The people who edit flows/ and the deployment file are social workers, not programmers. The YAML
parser's own messages ("mapping values are not allowed in this context") name its internals and
often point at the line after the mistake. This module looks at the lines themselves and says
which line to change and how: spaces instead of a tab, quotes around a label, the closing quote,
the indentation, or saving the file as UTF-8.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import yaml

# A line with a setting: indentation, an optional list dash, the key, a colon, the value.
_SETTING = re.compile(r"^(?P<indent>\s*)(?P<dash>-\s+)?(?P<key>[^\s:#\"'][^:#]*?):(?:\s+|$)")
# Characters YAML gives a meaning at the start of a value without quotes.
_SPECIAL_START = {
    "*": "a *",
    "&": "an &",
    "!": "a !",
    "@": "an @",
    "`": "a `",
    "%": "a %",
    "|": "a |",
    ">": "a >",
    "[": "a [",
    "{": "a {",
}
_INDENTATION_PROBLEMS = (
    "did not find expected key",
    "did not find expected '-' indicator",
    "expected <block end>",
    "mapping values are not allowed",
)
_SPACES_ONLY = "indent with spaces only (an editor setting such as 'insert spaces for tabs' helps)"


def explain_syntax_error(error: yaml.MarkedYAMLError, text: str) -> tuple[int, str]:
    """The line (counted from 1) a maintainer has to change, and what to do there."""
    lines = text.splitlines()
    mark = error.problem_mark or error.context_mark
    at = min(mark.line, len(lines) - 1) if mark and lines else 0
    since = error.context_mark.line if error.context_mark else max(at - 5, 0)
    since = min(since, at)
    problem = error.problem or ""

    tab = _first(lines, since, at, lambda line: "\t" in _indentation(line))
    if tab is not None and ("tab" in problem or "cannot start any token" in problem):
        return tab + 1, f"a tab at the start of the line: {_SPACES_ONLY}"
    unclosed = _first(lines, since, at, _opens_unclosed_quote)
    if unclosed is not None:
        quote = _value(lines[unclosed])[0]
        return unclosed + 1, (
            f"the quote {quote} that starts the text here is not closed: end the text with "
            f"{quote} on the same line"
        )
    line = lines[at] if lines else ""
    value = _value(line)
    setting = _SETTING.match(line)
    if setting and _text_after_closing_quote(value):
        return at + 1, (
            f"text goes on after the closing quote {value[0]}: put the whole {setting['key']} "
            f"inside the quotes, as in  {line[: setting.end()].strip()} {_requoted(value)}"
        )
    if value[:1] in _SPECIAL_START and setting:
        return at + 1, (
            f"a text that starts with {_SPECIAL_START[value[0]]} needs quotes: put the "
            f"{setting['key']} in quotes, as in  {_quoted(line)}"
        )
    after_key = setting is not None and mark is not None and mark.column > setting.end()
    if "mapping values are not allowed" in problem and setting and after_key:
        return at + 1, (
            f"a colon followed by a space inside a text needs quotes: put the {setting['key']} "
            f"in quotes, as in  {_quoted(line)}"
        )
    if any(known in problem for known in _INDENTATION_PROBLEMS):
        return at + 1, _indentation_advice(lines, at)
    return at + 1, (
        "this line cannot be read: check its indentation (spaces only, lined up with the lines "
        "it belongs to), its quotes and its colons"
    )


def explain_encoding_error(error: UnicodeDecodeError, raw: bytes) -> tuple[int, str]:
    """The line of the first byte that is not UTF-8, and how to save the file correctly."""
    line = raw.count(b"\n", 0, error.start) + 1
    character = raw[error.start : error.start + 1].decode("cp1252", errors="replace")
    return line, (
        f"the file is not saved as UTF-8 (this line has '{character}' in another encoding, "
        "such as Windows-1252 or Latin-1): save it again as UTF-8 (in the editor: Save as, "
        "Encoding: UTF-8)"
    )


def _indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _first(lines: list[str], since: int, until: int, test: Callable[[str], bool]) -> int | None:
    for index in range(since, min(until, len(lines) - 1) + 1):
        if test(lines[index]):
            return index
    return None


def _value(line: str) -> str:
    """What follows `key:` (or `- `) on a line, without surrounding spaces."""
    setting = _SETTING.match(line)
    if setting:
        return line[setting.end() :].strip()
    return line.strip().removeprefix("-").strip()


def _opens_unclosed_quote(line: str) -> bool:
    value = _value(line)
    return value[:1] in ("'", '"') and _closing_quote(value) is None


def _closing_quote(value: str) -> int | None:
    """Where the quote that opens `value` is closed, or None."""
    if value[:1] == '"':
        found = re.search(r'(?<!\\)"', value[1:])
    elif value[:1] == "'":
        found = re.search("'", value[1:].replace("''", "\0\0"))
    else:
        return None
    return found.start() + 1 if found else None


def _text_after_closing_quote(value: str) -> bool:
    end = _closing_quote(value)
    rest = value[end + 1 :].strip() if end is not None else ""
    return bool(rest) and not rest.startswith("#")


def _requoted(value: str) -> str:
    quote = value[0]
    inner = value.replace(quote, "")
    return f"{quote}{inner}{quote}"


def _quoted(line: str) -> str:
    setting = _SETTING.match(line)
    assert setting is not None
    value = line[setting.end() :].strip()
    quote = "'" if '"' in value else '"'
    return f"{line[: setting.end()].strip()} {quote}{value}{quote}"


def _indentation_advice(lines: list[str], at: int) -> str:
    line = lines[at]
    setting = _SETTING.match(line)
    above = next((lines[i] for i in range(at - 1, -1, -1) if lines[i].strip()), "")
    above_setting = _SETTING.match(above)
    if setting and above_setting and not setting["dash"]:
        own = len(setting["indent"])
        column = len(above_setting["indent"]) + len(above_setting["dash"] or "")
        if own != column:
            return (
                f"the indentation does not fit: start '{setting['key']}:' exactly below "
                f"'{above_setting['key']}:' of the line above ({column} spaces from the left; "
                f"this line has {own}), with spaces only"
            )
    return (
        "the indentation does not fit: line this up with the lines it belongs to (for example "
        "'goto:' exactly below 'label:'), with spaces only"
    )
