"""Assembling and tearing down a running emulator: store, driver, task runner, scheduler and app."""

import fcntl
import ipaddress
import logging
import os
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import IO

from flask import Flask

from emulator.clock import Clock
from emulator.config import Settings
from emulator.context import Context
from emulator.drivers import choice as driver_choice
from emulator.drivers.factory import make_driver
from emulator.engines.variables import Variables
from emulator.host import credentials, firewall, work_dirs
from emulator.host.backups import LocalStorage
from emulator.host.certificates import Authorities
from emulator.host.master_passwords import MasterPasswords
from emulator.host.storage_keys import StorageKeys
from emulator.images.servers import Servers
from emulator.store import Store
from emulator.web import operator
from emulator.web.app import create_app
from emulator.work import instances, option_work, parameters, security_groups, storage
from emulator.work.runner import TaskRunner
from scheduler import jobs
from scheduler import service as scheduler_service

log = logging.getLogger(__name__)


class DataDirInUse(Exception):
    """Another emulator serves this data directory."""


@dataclass
class Runtime:
    ctx: Context
    runner: TaskRunner
    app: Flask
    scheduler: scheduler_service.Schedule | None
    lock: IO[str]

    def close(self, stop_servers: bool = True) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
        self.runner.close()
        self.ctx.authorities.close()
        if stop_servers:
            self.ctx.driver.stop_all()
            self.ctx.firewall.remove()
        self.ctx.store.close()
        self.lock.close()


def boot(settings: Settings, clock: Clock | None = None, schedule: bool = True) -> Runtime:
    """Reload the store, resume interrupted work, bring servers to their recorded state, and start."""
    _check_server_host(settings.server_host)
    settings.port_range  # noqa: B018 - read now: ValueError, with the reason, for a range it cannot read
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keys = access_keys(settings)
    # what is taken is given back, the last first, if a later step fails: no lock held, no thread left
    with ExitStack() as undo:
        lock = _lock(settings)
        undo.callback(lock.close)
        store = Store(settings.database_url)
        undo.callback(store.close)
        settings = _driver_chosen(settings, store)
        servers = Servers(settings.cache_dir)
        authorities = Authorities(settings.data_dir, settings.region)
        driver = make_driver(settings, servers, authorities)
        undo.callback(driver.stop_all)
        ctx = Context(
            settings=settings,
            store=store,
            clock=clock or Clock(timedelta(seconds=float(store.state(operator.CLOCK_OFFSET) or 0))),
            driver=driver,
            servers=servers,
            variables=Variables(servers, settings.cache_dir, build=settings.driver != "none"),
            backups=LocalStorage(settings.data_dir / "backups"),
            firewall=firewall.make(settings.driver, settings.data_dir),
            passwords=MasterPasswords(settings.data_dir),
            storage_keys=StorageKeys(settings.data_dir),
            authorities=authorities,
        )
        work_dirs.sweep(settings.data_dir)
        undo.callback(ctx.firewall.remove)
        _enforce(ctx)
        runner = _resume(ctx, undo)
        jobs.watch_servers(ctx)
        app = create_app(ctx, lambda: jobs.clock_moved(ctx), keys)
        scheduler = scheduler_service.start(ctx) if schedule else None
        undo.pop_all()
    ctx.variables.warm(list(driver.versions()))  # once nothing can fail: a boot that fails leaves no thread
    if settings.driver != "none":  # the control plane alone makes them when first asked (DescribeCertificates)
        ctx.authorities.warm()
    return Runtime(ctx, runner, app, scheduler, lock)


def _driver_chosen(settings: Settings, store: Store) -> Settings:
    """The driver `auto` stands for here, said in one line, and kept with the data directory's instances."""
    if settings.driver == "auto":
        choice = driver_choice.choose(settings.cache_dir, store.state(driver_choice.RECORDED))
        log.info("driver: %s (auto: %s)", choice.driver, choice.reason)
        settings = replace(settings, driver=choice.driver)
    if settings.driver in ("process", "libvirt") and store.state(driver_choice.RECORDED) != settings.driver:
        store.set_state(driver_choice.RECORDED, settings.driver)
    return settings


def _enforce(ctx: Context) -> None:
    try:
        security_groups.enforce(ctx)
    except firewall.FirewallError as error:
        log.error("the DB security groups are not enforced: %s", error)
    for stray in ctx.driver.reconcile(ctx.specs(ctx.store.list_instances())):
        log.warning("%s: left alone; remove it by hand if it is not wanted", stray)


def _resume(ctx: Context, undo: ExitStack) -> TaskRunner:
    """The task runner, working again on what a former run left under way."""
    runner = TaskRunner(
        ctx, ctx.settings.workers,
        {"db-instance": instances.INSTANCE_WORK, "db-parameter-group": parameters.GROUP_WORK,
         "db-security-group-rule": security_groups.RULE_WORK, "firewall": security_groups.FIREWALL_WORK,
         "db-snapshot": storage.SNAPSHOT_WORK, "backup-storage": storage.STORAGE_WORK,
         "option-group": option_work.GROUP_WORK},
    )
    ctx.wake = runner.kick
    runner.resume_orphans()
    runner.start()
    undo.callback(runner.close)
    return runner


def access_keys(settings: Settings) -> dict[str, str] | None:
    """The secrets of the access keys requests may be signed with, by key id; None when any request goes."""
    if settings.auth == "off":
        return None
    if settings.auth != "sigv4":
        raise ValueError(f"unknown auth {settings.auth!r}: choose sigv4 or off")
    access_key, secret = credentials.data_dir_pair(settings.data_dir)
    return credentials.configured(settings.access_keys) | {access_key: secret}


def _check_server_host(address: str) -> None:
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        raise ValueError(f"--server-host {address!r} is not an IPv4 address: DB servers listen on one, and "
                         "DB security groups guard it") from None


def _lock(settings: Settings) -> IO[str]:
    """Hold the data directory for as long as we run: two emulators on one store would steal each other's
    work and start each instance's server twice."""
    handle = open(settings.data_dir / "emulator.lock", "a+")  # noqa: SIM115 - held until Runtime.close
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise DataDirInUse(
            f"another RDS Emulator (pid {holder}) is serving the data directory {settings.data_dir}: "
            "stop it first, or give this one its own --data-dir"
        ) from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
