"""What a handler, a task and a scheduled job work with: settings, store, clock, driver and task runner."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulator.clock import Clock
from emulator.config import Settings
from emulator.drivers import Driver, ServerSpec
from emulator.engines.server import ServerBinary
from emulator.model import arn
from emulator.model.events import INSTANCE_EVENTS
from emulator.model.instance import Instance
from emulator.store import Event, Store

if TYPE_CHECKING:
    from emulator.tasks import TaskRunner


@dataclass
class Context:
    settings: Settings
    store: Store
    clock: Clock
    driver: Driver
    server: ServerBinary
    runner: "TaskRunner | None" = field(default=None)

    def instance_arn(self, identifier: str) -> str:
        return arn.instance_arn(self.settings.region, self.settings.account_id, identifier)

    def instance_event(self, identifier: str, message: str, category: str | None = None) -> None:
        self.store.add_event(
            Event(
                date=self.clock.now(),
                source_type="db-instance",
                source_id=identifier,
                source_arn=self.instance_arn(identifier),
                message=message,
                categories=[category or INSTANCE_EVENTS[message]],
            )
        )

    def spec(self, instance: Instance) -> ServerSpec:
        return ServerSpec(
            resource_id=instance.resource_id,
            identifier=instance.identifier,
            host=instance.address or self.settings.server_host,
            port=instance.port,
            master_username=instance.master_username,
            password_hash=instance.password_hash,
            db_name=instance.db_name,
        )

    def queue(
        self, resource_type: str, resource_id: str, kind: str, params: dict | None = None, **options: Any
    ) -> None:
        """Queue a task (see Store.queue_task for the options and what it raises) and wake the runner."""
        self.store.queue_task(resource_type, resource_id, kind, params or {}, self.clock.now(), **options)
        self.kick()

    def kick(self) -> None:
        """Wake the task runner: work was queued, or became due."""
        if self.runner is not None:
            self.runner.kick()
