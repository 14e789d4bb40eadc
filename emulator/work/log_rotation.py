"""Hourly rotation of an instance's slow and general query logs, as RDS rotates them: the file of the hour
that ended is set aside under that hour's number, and the server starts new ones."""

import logging

import pymysql

from emulator.context import Context
from emulator.engines import live
from emulator.failures import Failure
from emulator.model.instance import Instance

log = logging.getLogger(__name__)


def rotate(ctx: Context, instance: Instance, hour: int) -> None:
    spec = ctx.spec(instance)
    try:
        ctx.driver.rotate_logs(spec, hour)
        with ctx.driver.admin(spec) as cursor:
            live.reopen_logs(cursor)
    except (Failure, pymysql.MySQLError, OSError) as error:
        # a server that is down has nothing open; it writes new files when it starts
        log.warning("could not rotate the logs of %s: %s", instance.identifier, error)
