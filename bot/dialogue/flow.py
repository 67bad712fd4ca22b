"""The loaded dialogue: every node of every flow file under its full id, with source locations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from bot.dialogue.schema import Fact, GlobalAction, Node, SystemFile

FieldPath = tuple[str | int, ...]

# Keys under which Flow.lines keeps the locations in system.yaml and facts.yaml.
SYSTEM_LINES = "@system"
FACTS_LINES = "@facts"


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of the loader or the linter, located for a maintainer to fix."""

    location: Location
    message: str
    node_id: str | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        node = f" [{self.node_id}]" if self.node_id else ""
        return f"{self.location}: {self.severity}{node}: {self.message}"


@dataclass(frozen=True)
class Flow:
    """All nodes under full ids (`health.sti_test`), the system settings and the facts.

    `lines` maps a field path within a node, e.g. ("health.start", "options", 1, "goto"), to the
    place in the YAML file where it was written.
    """

    directory: Path
    system: SystemFile
    nodes: Mapping[str, Node]
    facts: Mapping[str, Fact] = field(default_factory=dict)
    lines: Mapping[FieldPath, Location] = field(default_factory=dict, repr=False)

    def where(self, *path: str | int) -> Location:
        """The location of a field, or of the nearest enclosing one that was written down."""
        for end in range(len(path), 0, -1):
            location = self.lines.get(path[:end])
            if location is not None:
                return location
        return Location("flows", 0)

    def global_target(self, action: GlobalAction) -> str | None:
        """The node a global action shows, for the actions that show a node."""
        return {
            GlobalAction.MENU: self.system.menu,
            GlobalAction.COUNSELLOR: self.system.counsellor,
            GlobalAction.PRIVACY: self.system.privacy,
        }.get(action)


def namespace_of(node_id: str) -> str:
    return node_id.split(".", 1)[0]
