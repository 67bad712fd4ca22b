"""Reads flows/*.yaml into a Flow, reporting every error with file:line and the node id.

YAML is composed (not constructed) so that each value keeps its line, and every scalar is read as
a string: `Nein`, `no` or `on` stay words instead of turning into booleans; pydantic converts the
few fields that are not text. Duplicate keys, which plain YAML loading drops silently, are errors.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.dialogue.flow import FACTS_LINES, SYSTEM_LINES, FieldPath, Flow, Location, Problem
from bot.dialogue.schema import (
    LOCAL_ID_PATTERN,
    FactsFile,
    Node,
    SystemFile,
    TopicFile,
)
from bot.dialogue.syntax import explain_encoding_error, explain_syntax_error

SYSTEM_FILE = "system.yaml"
FACTS_FILE = "facts.yaml"
NODE_KINDS = ("menu", "info", "contacts", "handover")

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NULL_TAG = "tag:yaml.org,2002:null"

M = TypeVar("M", bound=BaseModel)

# pydantic's words for what a value should be, as a maintainer would say it.
_PLAIN_WORDS = (
    ("Input should be", "should be"),
    ("a valid string", "a text"),
    ("a valid list", "a list"),
    ("a valid dictionary", "a group of settings (key: value lines below it)"),
)


class LoadError(Exception):
    """Files could not be read into their models; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


def load_model(model: type[M], path: Path) -> M:
    """One YAML file as a pydantic model, or LoadError naming file:line and the setting."""
    problems: list[Problem] = []
    name = shown_path(path)
    if not path.is_file():
        raise LoadError([Problem(Location(name, 0), "file not found")])
    data, file_lines = _read_yaml(path, name, problems)
    result = None if data is None else _validate(model, data, file_lines, name, None, problems)
    if result is None:
        raise LoadError(problems)
    return result


def load_flow(directory: Path) -> Flow:
    """Every flow file in `directory` as one Flow, or LoadError with all problems found."""
    problems: list[Problem] = []
    nodes: dict[str, Node] = {}
    lines: dict[FieldPath, Location] = {}
    system: SystemFile | None = None
    facts = FactsFile()

    if not directory.is_dir():
        raise LoadError([Problem(Location(str(directory), 0), "flow folder not found")])
    for path in sorted(directory.glob("*.yaml")):
        name = shown_path(path)
        is_topic = path.name not in (SYSTEM_FILE, FACTS_FILE)
        data, file_lines = _read_yaml(path, name, problems, path.stem if is_topic else None)
        if data is None:
            continue
        if path.name == SYSTEM_FILE:
            system = _validate(SystemFile, data, file_lines, name, None, problems)
            lines.update(_located(SYSTEM_LINES, file_lines, name))
        elif path.name == FACTS_FILE:
            facts = _validate(FactsFile, data, file_lines, name, None, problems) or facts
            lines.update(_located(FACTS_LINES, file_lines, name))
        else:
            _add_topic(path.stem, data, file_lines, name, nodes, lines, problems)

    for stray in sorted(directory.glob("*.yml")):
        problems.append(
            Problem(Location(shown_path(stray), 0), "flow files must end in .yaml, not .yml")
        )
    if system is None and not any(Path(p.location.file).name == SYSTEM_FILE for p in problems):
        problems.append(Problem(Location(str(directory / SYSTEM_FILE), 0), "file is missing"))
    if problems or system is None:
        raise LoadError(problems)
    return Flow(directory=directory, system=system, nodes=nodes, facts=facts.facts, lines=lines)


def _add_topic(
    namespace: str,
    data: object,
    file_lines: dict[FieldPath, int],
    name: str,
    nodes: dict[str, Node],
    lines: dict[FieldPath, Location],
    problems: list[Problem],
) -> None:
    if not re.match(LOCAL_ID_PATTERN, namespace):
        problems.append(
            Problem(
                Location(name, 1),
                "file name must be lower case letters, digits and _ (it is the namespace of "
                "its node ids)",
            )
        )
        return
    topic = _validate(TopicFile, data, file_lines, name, namespace, problems)
    if topic is None:
        return
    lines_by_node: dict[str, dict[FieldPath, int]] = defaultdict(dict)
    for path, line in file_lines.items():
        if len(path) > 1 and path[0] == "nodes":
            lines_by_node[str(path[1])][path[2:]] = line
    for local_id, node in topic.nodes.items():
        node_id = f"{namespace}.{local_id}"
        nodes[node_id] = _with_full_targets(node, namespace)
        lines.update(_located(node_id, lines_by_node[local_id], name))


def _located(prefix: str, file_lines: dict[FieldPath, int], name: str) -> dict[FieldPath, Location]:
    return {(prefix, *path): Location(name, line) for path, line in file_lines.items()}


def _with_full_targets(node: Node, namespace: str) -> Node:
    """Targets written without a namespace (`goto: sti_test`) point into the same file."""
    options = tuple(
        option.model_copy(update={"goto": f"{namespace}.{option.goto}"})
        if option.goto is not None and "." not in option.goto
        else option
        for option in node.options
    )
    return node.model_copy(update={"options": options})


def shown_path(path: Path) -> str:
    """Paths in messages as a maintainer would type them: relative to the working directory."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _read_yaml(
    path: Path, name: str, problems: list[Problem], namespace: str | None = None
) -> tuple[object, dict[FieldPath, int]]:
    file_lines: dict[FieldPath, int] = {}
    duplicates: list[tuple[FieldPath, int, str]] = []
    try:
        raw = path.read_bytes()
    except OSError as error:
        problems.append(Problem(Location(name, 0), f"cannot read the file: {error.strerror}"))
        return None, file_lines
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line, message = explain_encoding_error(error, raw)
        problems.append(Problem(Location(name, line), message))
        return None, file_lines
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        line, message = explain_syntax_error(error, text)
        problems.append(Problem(Location(name, line), message))
        return None, file_lines
    except yaml.YAMLError as error:
        problems.append(Problem(Location(name, 0), f"cannot read the file: {error}"))
        return None, file_lines
    if root is None:
        problems.append(Problem(Location(name, 1), "file is empty"))
        return None, file_lines
    data = _plain(root, (), file_lines, duplicates)
    for key_path, line, message in duplicates:
        problems.append(Problem(Location(name, line), message, _node_id(namespace, key_path)))
    return data, file_lines


def _plain(
    node: yaml.Node,
    path: FieldPath,
    file_lines: dict[FieldPath, int],
    duplicates: list[tuple[FieldPath, int, str]],
) -> object:
    file_lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in result:
                first = file_lines[(*path, key)]
                message = f"'{key}' is written twice (first at line {first})"
                duplicates.append(((*path, key), line, message))
                continue
            file_lines[(*path, key)] = line
            result[key] = _plain(value_node, (*path, key), file_lines, duplicates)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _plain(item, (*path, index), file_lines, duplicates)
            for index, item in enumerate(node.value)
        ]
    return None if node.tag == _NULL_TAG else node.value


def _validate(
    model: type[M],
    data: object,
    file_lines: dict[FieldPath, int],
    name: str,
    namespace: str | None,
    problems: list[Problem],
) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        details = error.errors()
        paths = [_field_path(detail, data) for detail in details]
        # One message per place: a value that fits no shape of a union ("a text or a list of
        # times") gets one error per shape from pydantic.
        messages: dict[FieldPath, list[str]] = defaultdict(list)
        for detail, path in zip(details, paths, strict=True):
            if _is_shape_error(detail) and _has_inner_error(path, paths):
                # "should be a text" or "at least 1 item" only because the value has the other
                # shape, or the one item given was wrong: the inner error says what is wrong.
                continue
            message = _explain(detail, path)
            if message not in messages[path]:
                messages[path].append(message)
        for path, said in messages.items():
            line = _nearest_line(path, file_lines)
            message = said[0] + "".join(
                " or " + other.split(": ", 1)[-1].removeprefix("should be ") for other in said[1:]
            )
            problems.append(Problem(Location(name, line), message, _node_id(namespace, path)))
        return None


def _node_id(namespace: str | None, path: FieldPath) -> str | None:
    """The full id of the node a field path in a topic file belongs to."""
    if namespace and len(path) > 1 and path[0] == "nodes":
        return f"{namespace}.{path[1]}"
    return None


def _has_inner_error(path: FieldPath, paths: list[FieldPath]) -> bool:
    return any(len(other) > len(path) and other[: len(path)] == path for other in paths)


def _field_path(detail: ErrorDetails, data: object) -> FieldPath:
    """pydantic's error location as the keys written in the file: without the names of union
    members it inserts (`nodes.x.info.text`, `hours.list[function-after[...]].0`)."""
    path: list[str | int] = []
    loc = detail["loc"]
    for index, part in enumerate(loc):
        written = (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        )
        if written:
            data = data[part]  # type: ignore[index]
        elif part != "[key]" and not (index == len(loc) - 1 and detail["type"] == "missing"):
            continue  # a union member's name: not in the file
        path.append(part)
    return tuple(path)


def _is_shape_error(detail: ErrorDetails) -> bool:
    return detail["type"] == "too_short" or detail["type"].endswith("_type")


def _nearest_line(path: FieldPath, file_lines: dict[FieldPath, int]) -> int:
    for end in range(len(path), -1, -1):
        line = file_lines.get(path[:end])
        if line is not None:
            return line
    return 1


def _explain(detail: ErrorDetails, path: FieldPath) -> str:
    """pydantic's message in words a maintainer can act on."""
    kind = detail["type"]
    field = _shown_field(path)
    last = str(path[-1]) if path else "file"
    if kind == "missing":
        return f"'{last}' is missing"
    if kind == "extra_forbidden" and " " in last.strip():
        return (
            f"'{last}' is not a setting but looks like a line of text: if it belongs to the "
            "text above, indent it as far as the other lines of that text"
        )
    if kind == "extra_forbidden":
        return f"unknown key '{last}' (a typo?)"
    if kind == "union_tag_not_found":
        return f"'kind' is missing: one of {', '.join(NODE_KINDS)}"
    if kind == "union_tag_invalid":
        tag = detail.get("ctx", {}).get("tag", "")
        return f"kind '{tag}' is unknown: use one of {', '.join(NODE_KINDS)}"
    if kind == "string_pattern_mismatch" and path and path[-1] == "[key]":
        return f"id '{path[-2]}' must be lower case letters, digits and _, starting with a letter"
    if kind == "string_pattern_mismatch":
        return f"{field}: '{detail['input']}' is not a node id (lower case letters, digits, _)"
    if kind == "enum":
        expected = detail.get("ctx", {}).get("expected", "")
        return f"{field}: '{detail['input']}' is unknown; expected {expected}"
    message = detail["msg"].removeprefix("Value error, ")
    for jargon, words in _PLAIN_WORDS:
        message = message.replace(jargon, words)
    return f"{field}: {message}"


def _shown_field(path: FieldPath) -> str:
    """A field as a maintainer finds it in the file: `service.hours, entry 1, days`."""
    shown = ""
    for part in path:
        if part == "[key]":
            continue
        if isinstance(part, int):
            shown += f", entry {part + 1}"
        else:
            shown += (", " if shown.endswith(tuple("0123456789")) else ".") + part
    return shown.lstrip(".") or "file"
