"""The APScheduler wiring: fixed job ids, replaced on every start, coalesced when late."""

import functools
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from emulator.context import Context
from scheduler import jobs


def _background(job: Callable[[Context], None]) -> Callable[[Context], None]:
    """A job's writes give way to requests' (store/base.py)."""

    @functools.wraps(job)
    def run(ctx: Context) -> None:
        ctx.store.in_background()
        job(ctx)

    return run


def start(ctx: Context) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(_background(jobs.tick), "interval", args=[ctx], seconds=ctx.settings.monitor_seconds, id="tick",
                      replace_existing=True)
    scheduler.add_job(_background(jobs.archive_binlogs), "interval", args=[ctx], seconds=ctx.settings.archive_seconds,
                      id="archive-binlogs", replace_existing=True)
    scheduler.add_job(_background(jobs.rotate_logs), "interval", args=[ctx], seconds=60, id="rotate-logs",
                      replace_existing=True)
    scheduler.add_job(_background(jobs.purge_events), "interval", args=[ctx], hours=1, id="purge-events",
                      replace_existing=True)
    scheduler.start()
    return scheduler
