"""The flows the bot serves, reloaded while it runs: a change goes live only if it passes
`wegweiser flows check` (the same check as CI), otherwise the last good version keeps serving.

A reload is asked for by SIGHUP, by /reload in the staff group, or noticed by watching the files
of flows/ and locales/ (their sizes and modification times). Sessions at a node that no longer
exists continue at the start node (the engine repairs them on their next turn).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Deployment, build_engine, check_flows_for
from bot.dialogue import Engine, Problem, Severity

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]
# A refused reload logs its errors up to this many (`wegweiser flows check` lists them all).
PROBLEMS_LOGGED = 50


def fingerprint(*folders: Path) -> Fingerprint:
    """Path, size and modification time of every file below `folders` (compiled .mo files and
    editor leftovers aside): cheap enough to take every few seconds."""
    found = []
    for folder in folders:
        for path in _files(folder):
            try:
                stat = path.stat()
            except OSError:
                continue  # removed meanwhile: the next look sees the change
            found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))


def _files(folder: Path) -> Iterator[Path]:
    for root, directories, names in os.walk(folder):
        directories[:] = [name for name in directories if not name.startswith(".")]
        for name in names:
            if not name.startswith(".") and not name.endswith((".mo", "~", ".swp")):
                yield Path(root, name)


@dataclass(frozen=True)
class Reloaded:
    """The outcome of one reload: the new engine, or the problems that kept the old one."""

    engine: Engine | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity is Severity.ERROR]


class LiveFlows:
    """The engine now in service and how to make the next one."""

    def __init__(
        self,
        flows: Path,
        locales: Path,
        deployment: Deployment,
        engine: Engine,
        *,
        handover_available: bool = False,
    ) -> None:
        self.flows = flows
        self.locales = locales
        self.deployment = deployment
        self.engine = engine
        self.handover_available = handover_available
        self.version = 1
        self._seen = fingerprint(flows, locales)

    def changed(self) -> bool:
        """Whether a file of the flows or catalogs changed since the last load or look."""
        now = fingerprint(self.flows, self.locales)
        if now == self._seen:
            return False
        self._seen = now
        return True

    def reload(self) -> Reloaded:
        """Check and load the files as they are now; on success the new engine is in service."""
        self._seen = fingerprint(self.flows, self.locales)
        result = check_flows_for(self.flows, self.deployment, locales=self.locales)
        if result.flow is None or result.errors:
            log.warning(
                "flow reload refused: the last good version keeps serving",
                extra={
                    "errors": len(result.errors),
                    "problems": [str(problem) for problem in result.errors[:PROBLEMS_LOGGED]],
                },
            )
            return Reloaded(None, result.problems)
        engine = build_engine(
            result.flow,
            self.deployment,
            locales=self.locales,
            handover_available=self.handover_available,
        )
        engine.search.warm()  # here, in the reload's thread, not at the next typed question
        self.engine = engine
        self.version += 1
        log.info(
            "flows reloaded",
            extra={"version": self.version, "nodes": len(engine.flow.nodes)},
        )
        return Reloaded(engine, result.problems)


# A report of a reload lists this many problems at most (a Telegram message holds 4096
# characters); the log and `wegweiser flows check` have them all.
PROBLEMS_REPORTED = 15
REPORT_LIMIT = 4096


def reload_report(result: Reloaded, version: int) -> str:
    """What the staff are told of a reload (English, like every staff text)."""
    if result.engine is not None:
        return f"✅ Flows reloaded: version {version}, {len(result.engine.flow.nodes)} nodes."
    lines = [
        "❌ The changed flows were refused; the bot keeps serving the last good version.",
        f"{len(result.errors)} error(s):",
        *(f"• {problem}" for problem in result.errors[:PROBLEMS_REPORTED]),
    ]
    if len(result.errors) > PROBLEMS_REPORTED:
        more = len(result.errors) - PROBLEMS_REPORTED
        lines.append(f"… and {more} more (`wegweiser flows check`)")
    return "\n".join(lines)[:REPORT_LIMIT]
