"""The operations listener: GET /healthz and GET /metrics on an address of their own.

Its own port (WEGWEISER_METRICS_PORT), in polling and webhook mode alike, so that it is never
reachable through the public webhook address: keep it on 127.0.0.1 or a private network. Tornado
serves it on the bot's event loop (python-telegram-bot's webhook server is tornado too).
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from bot.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)

# Each check's name and whether it passed: {"database": True, "flows": True, "bot_api": False}.
HealthCheck = Callable[[], Awaitable[Mapping[str, bool]]]


class _Health(RequestHandler):
    def initialize(self, check: HealthCheck) -> None:
        self.check = check

    async def get(self) -> None:
        results = dict(await self.check())
        healthy = all(results.values())
        self.set_status(200 if healthy else 503)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        checks = {name: "ok" if passed else "failing" for name, passed in results.items()}
        self.finish(json.dumps({"status": "ok" if healthy else "failing", "checks": checks}))


class _Metrics(RequestHandler):
    def initialize(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def get(self) -> None:
        self.set_header("Content-Type", CONTENT_TYPE)
        self.finish(self.metrics.exposition())


class OperationsServer:
    """Started by the application at start-up, stopped at shutdown."""

    def __init__(self, listen: str, port: int, check: HealthCheck, metrics: Metrics) -> None:
        self.listen = listen
        self.port = port
        self._app = Application(
            [
                (r"/healthz", _Health, {"check": check}),
                (r"/metrics", _Metrics, {"metrics": metrics}),
            ]
        )
        self._server: HTTPServer | None = None

    def start(self) -> None:
        """Listen; with port 0 the system picks a free port, which `port` tells afterwards."""
        sockets = bind_sockets(self.port, self.listen, family=socket.AF_UNSPEC)
        self.port = sockets[0].getsockname()[1]
        self._server = HTTPServer(self._app, xheaders=False)
        self._server.add_sockets(sockets)
        log.info(
            "operations endpoints listening (/healthz, /metrics)",
            extra={"listen": self.listen, "port": self.port},
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None
