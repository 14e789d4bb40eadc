"""The APScheduler wiring: fixed job ids, replaced on every start, coalesced when late."""

from apscheduler.schedulers.background import BackgroundScheduler

from emulator.context import Context
from scheduler import jobs


def start(ctx: Context) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(jobs.tick, "interval", args=[ctx], seconds=ctx.settings.monitor_seconds, id="tick",
                      replace_existing=True)
    scheduler.add_job(jobs.archive_binlogs, "interval", args=[ctx], seconds=ctx.settings.archive_seconds,
                      id="archive-binlogs", replace_existing=True)
    scheduler.add_job(jobs.rotate_logs, "interval", args=[ctx], seconds=60, id="rotate-logs", replace_existing=True)
    scheduler.add_job(jobs.purge_events, "interval", args=[ctx], hours=1, id="purge-events", replace_existing=True)
    scheduler.start()
    return scheduler
