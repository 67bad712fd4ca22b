"""Prometheus metrics: the anonymous counters since the process started, and update latency.

Labels are the counters' own (event, language, topic area): never a person, chat or node id.
Each application has a registry of its own, so that tests and benchmarks can run several.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.stats import Counted

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Seconds from an update's arrival at the dialogue to its answer having been delivered.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "wegweiser_events",
            "Counted events of the anonymous statistics since the start",
            ["event", "language", "area"],
            registry=self.registry,
        )
        self.updates = Histogram(
            "wegweiser_update_seconds",
            "Time to answer a person's message or button press",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.reloads = Counter(
            "wegweiser_flow_reloads",
            "Flow reloads, by result",
            ["result"],
            registry=self.registry,
        )

        self.unreadable_updates = Counter(
            "wegweiser_unreadable_updates",
            "Updates from Telegram that could not be read and were skipped (never logged)",
            ["mode"],
            registry=self.registry,
        )
        self.webhook_refused = Counter(
            "wegweiser_webhook_refused",
            "Requests to the webhook refused on their headers (no secret token, not JSON)",
            registry=self.registry,
        )

    def count(self, counted: Iterable[Counted]) -> None:
        for item in counted:
            self.events.labels(item.event.value, item.language, item.area).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
