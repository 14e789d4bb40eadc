"""Assembling and tearing down a running emulator: store, driver, task runner, scheduler and app."""

import logging
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from emulator.app import create_app
from emulator.clock import Clock
from emulator.config import Settings
from emulator.context import Context
from emulator.drivers import make_driver
from emulator.engines import server
from emulator.store import Store
from emulator.tasks import TaskRunner
from scheduler import jobs
from scheduler import service as scheduler_service

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    ctx: Context
    app: Flask
    scheduler: BackgroundScheduler | None

    def close(self, stop_servers: bool = True) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        if self.ctx.runner is not None:
            self.ctx.runner.close()
        if stop_servers:
            self.ctx.driver.stop_all()
        self.ctx.store.close()


def boot(settings: Settings, clock: Clock | None = None, schedule: bool = True) -> Runtime:
    """Reload the store, resume interrupted work, bring servers to their recorded state, and start."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.database_url)
    ctx = Context(
        settings=settings,
        store=store,
        clock=clock or Clock(),
        driver=make_driver(settings.driver, settings.data_dir),
        server=server.installed(),
    )
    ctx.runner = TaskRunner(ctx, settings.workers)
    ctx.runner.resume_orphans()
    jobs.watch_servers(ctx)
    ctx.kick()
    return Runtime(ctx, create_app(ctx), scheduler_service.start(ctx) if schedule else None)
