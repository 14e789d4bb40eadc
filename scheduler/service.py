"""The APScheduler wiring: fixed job ids, replaced on every start, coalesced when late."""

import functools
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from emulator.context import Context
from scheduler import jobs
from scheduler.archivers import Archivers


def _background(job: Callable[..., None]) -> Callable[..., None]:
    """A job's writes give way to requests' (store/base.py)."""

    @functools.wraps(job)
    def run(ctx: Context, *args: Any) -> None:
        ctx.store.in_background()
        job(ctx, *args)

    return run


class Schedule:
    """The scheduler and the archiving workers its archiving job hands instances to."""

    def __init__(self, scheduler: BackgroundScheduler, archivers: Archivers):
        self.scheduler, self.archivers = scheduler, archivers

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=True)
        self.archivers.close()


def start(ctx: Context) -> Schedule:
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    archivers = Archivers(ctx)
    scheduler.add_job(_background(jobs.tick), "interval", args=[ctx], seconds=ctx.settings.monitor_seconds, id="tick",
                      replace_existing=True)
    scheduler.add_job(_background(jobs.archive_binlogs), "interval", args=[ctx, archivers],
                      seconds=ctx.settings.archive_seconds, id="archive-binlogs", replace_existing=True)
    scheduler.add_job(_background(jobs.rotate_logs), "interval", args=[ctx], seconds=60, id="rotate-logs",
                      replace_existing=True)
    scheduler.add_job(_background(jobs.purge_events), "interval", args=[ctx], hours=1, id="purge-events",
                      replace_existing=True)
    scheduler.start()
    return Schedule(scheduler, archivers)
