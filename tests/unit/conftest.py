from datetime import UTC, datetime

import pytest

from emulator.clock import ManualClock
from emulator.config import Settings
from emulator.runtime import boot
from tests.api_client import Api


@pytest.fixture
def clock():
    """The emulator's clock, moved only by the test."""
    return ManualClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))


@pytest.fixture
def api(tmp_path, clock):
    """The API of an emulator with no servers (the none driver), in-process, on the test's clock."""
    runtime = boot(Settings(data_dir=tmp_path / "data", driver="none", auth="off"), clock=clock, schedule=False)
    yield Api(runtime)
    runtime.close()
