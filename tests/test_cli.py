"""`wegweiser --help`: the defaults it names are the folders actually used."""

from __future__ import annotations

import pytest

from bot.config import EXAMPLE_DEPLOYMENT, PROJECT_ROOT
from tests.conftest import wegweiser


@pytest.mark.parametrize("command", [("flows", "check"), ("i18n", "update"), ("chat",)])
def test_help_names_the_real_default_folders(command: tuple[str, ...]) -> None:
    run = wegweiser(*command, "--help")

    assert run.returncode == 0
    # without any white space: argparse wraps a long path at a hyphen (/work/wt-<newline>ops)
    said = "".join(run.stdout.split())
    assert f"WEGWEISER_FLOWSor{PROJECT_ROOT / 'flows'})" in said
    assert f"WEGWEISER_LOCALESor{PROJECT_ROOT / 'locales'})" in said
    assert f"WEGWEISER_CONFIGor{EXAMPLE_DEPLOYMENT})" in said
    assert "./flows" not in said
