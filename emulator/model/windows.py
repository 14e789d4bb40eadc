"""Backup (`hh24:mi-hh24:mi`) and maintenance (`ddd:hh24:mi-ddd:hh24:mi`) windows: parse, validate, default.

Windows are in UTC. A window is a half-open span of minutes: of the day for backups, of the week
(Monday 00:00 = 0) for maintenance. Pure functions only.
"""

import random
import re
from datetime import datetime, timedelta

from emulator.protocol.errors import invalid, shown

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES
MIN_LENGTH = 30
# us-east-1's 8-hour block for default windows; other regions' blocks are unconfirmed, so all use this one.
DEFAULT_BLOCK = (3 * 60, 11 * 60)

_TIME = r"([01]\d|2[0-3]):([0-5]\d)"
_BACKUP = re.compile(rf"^{_TIME}-{_TIME}$")
_MAINTENANCE = re.compile(rf"^(\w{{3}}):{_TIME}-(\w{{3}}):{_TIME}$")


def parse_backup(text: str) -> tuple[int, int]:
    match = _BACKUP.match(text)
    if not match:
        raise invalid(f"The parameter PreferredBackupWindow must be in the format hh24:mi-hh24:mi, not {shown(text)}.")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if (end - start) % DAY_MINUTES < MIN_LENGTH:
        raise invalid("The backup window must be at least 30 minutes.")
    return start, end


def parse_maintenance(text: str) -> tuple[int, int]:
    match = _MAINTENANCE.match(text.lower())
    if not match or match.group(1) not in DAYS or match.group(4) not in DAYS:
        raise invalid(
            "The parameter PreferredMaintenanceWindow must be in the format ddd:hh24:mi-ddd:hh24:mi "
            f"(ddd one of mon, tue, wed, thu, fri, sat, sun), not {shown(text)}."
        )
    d1, h1, m1, d2, h2, m2 = match.groups()
    start = DAYS.index(d1) * DAY_MINUTES + int(h1) * 60 + int(m1)
    end = DAYS.index(d2) * DAY_MINUTES + int(h2) * 60 + int(m2)
    if (end - start) % WEEK_MINUTES < MIN_LENGTH:
        raise invalid("The maintenance window must be at least 30 minutes.")
    return start, end


def overlap(backup: tuple[int, int], maintenance: tuple[int, int]) -> bool:
    """Whether the daily backup window meets the weekly maintenance window on any day."""
    m_start, m_end = maintenance
    m_len = (m_end - m_start) % WEEK_MINUTES
    b_len = (backup[1] - backup[0]) % DAY_MINUTES
    for day in range(7):
        b_start = day * DAY_MINUTES + backup[0]
        # two spans on a circle meet when either one's start lies inside the other
        if (b_start - m_start) % WEEK_MINUTES < m_len or (m_start - b_start) % WEEK_MINUTES < b_len:
            return True
    return False


def check(backup_text: str, maintenance_text: str) -> None:
    if overlap(parse_backup(backup_text), parse_maintenance(maintenance_text)):
        raise invalid("The backup window and maintenance window must not overlap.")


def format_backup(start: int) -> str:
    end = (start + MIN_LENGTH) % DAY_MINUTES
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def format_maintenance(start: int) -> str:
    end = (start + MIN_LENGTH) % WEEK_MINUTES

    def one(minute: int) -> str:
        day, rest = divmod(minute, DAY_MINUTES)
        return f"{DAYS[day]}:{rest // 60:02d}:{rest % 60:02d}"

    return f"{one(start)}-{one(end)}"


def defaults(seed: str, backup_text: str | None, maintenance_text: str | None) -> tuple[str, str]:
    """Fill in whichever window is missing, as RDS does: 30 minutes in the region's block, a random day."""
    maintenance_text = maintenance_text.lower() if maintenance_text else None
    if backup_text and maintenance_text:
        check(backup_text, maintenance_text)
        return backup_text, maintenance_text
    rng = random.Random(seed)
    first, last = DEFAULT_BLOCK
    for _ in range(100):
        backup = backup_text or format_backup(rng.randrange(first, last - MIN_LENGTH + 1))
        maintenance = maintenance_text or format_maintenance(
            rng.randrange(7) * DAY_MINUTES + rng.randrange(first, last - MIN_LENGTH + 1)
        )
        if not overlap(parse_backup(backup), parse_maintenance(maintenance)):
            return backup, maintenance
    # only a given window that leaves no room in the block for the other one gets here
    raise invalid("The backup window and maintenance window must not overlap.")


def last_backup_start(text: str, now: datetime) -> datetime:
    """When the daily backup window last opened, at or before `now`."""
    start, _ = parse_backup(text)
    opened = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(minutes=start)
    return opened if opened <= now else opened - timedelta(days=1)


def last_maintenance_start(text: str, now: datetime) -> datetime:
    """When the weekly maintenance window last opened, at or before `now`."""
    start, _ = parse_maintenance(text)
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    opened = monday + timedelta(minutes=start)
    return opened if opened <= now else opened - timedelta(weeks=1)
