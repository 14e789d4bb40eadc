from datetime import UTC, datetime

import pytest

from emulator.clock import ManualClock


@pytest.fixture
def clock():
    """The emulator's clock, moved only by the test."""
    return ManualClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
