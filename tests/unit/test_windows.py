import pytest

from emulator.model import windows
from emulator.protocol.errors import RdsError


def test_parse_backup_and_maintenance():
    assert windows.parse_backup("03:00-03:30") == (180, 210)
    assert windows.parse_maintenance("Sun:23:45-mon:00:15") == (6 * 1440 + 23 * 60 + 45, 15)


@pytest.mark.parametrize("text", ["3:00-03:30", "03:00-03:29", "25:00-25:30", "03:00", "03:00-03:10"])
def test_bad_backup_windows(text):
    with pytest.raises(RdsError) as caught:
        windows.parse_backup(text)
    assert caught.value.code == "InvalidParameterValue"


@pytest.mark.parametrize("text", ["mon:03:00-mon:03:29", "xyz:03:00-mon:04:00", "mon:03:00"])
def test_bad_maintenance_windows(text):
    with pytest.raises(RdsError):
        windows.parse_maintenance(text)


def test_overlap_on_any_day_and_across_midnight():
    assert windows.overlap((180, 240), windows.parse_maintenance("wed:03:30-wed:04:30"))
    assert not windows.overlap((180, 210), windows.parse_maintenance("wed:03:30-wed:04:30"))
    assert windows.overlap((23 * 60 + 50, 20), windows.parse_maintenance("tue:00:10-tue:01:00"))
    with pytest.raises(RdsError, match="must not overlap"):
        windows.check("03:00-04:00", "fri:03:30-fri:04:30")


def test_defaults_are_30_minutes_in_the_block_and_never_overlap():
    for seed in range(200):
        backup, maintenance = windows.defaults(str(seed), None, None)
        start, end = windows.parse_backup(backup)
        assert (end - start) % 1440 == 30 and 180 <= start <= 630
        m_start, m_end = windows.parse_maintenance(maintenance)
        assert (m_end - m_start) % (7 * 1440) == 30 and 180 <= m_start % 1440 <= 630
        assert not windows.overlap((start, end), (m_start, m_end))


def test_defaults_keep_what_was_given():
    backup, maintenance = windows.defaults("x", "05:00-06:00", None)
    assert backup == "05:00-06:00"
    assert not windows.overlap(windows.parse_backup(backup), windows.parse_maintenance(maintenance))
