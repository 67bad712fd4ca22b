"""The shipped flows with the real catalogs, built once for the search tests."""

from __future__ import annotations

import pytest

from bot.config import PROJECT_ROOT, Deployment
from bot.dialogue import Engine
from tests.conftest import SHIPPED_FLOWS, engine_for


@pytest.fixture(scope="session")
def shipped(example_deployment: Deployment) -> Engine:
    return engine_for(SHIPPED_FLOWS, example_deployment, locales=PROJECT_ROOT / "locales")
