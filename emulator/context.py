"""What a handler, a task and a scheduled job work with: settings, store, clock, driver, and wake() for the
task runner."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from emulator.clock import Clock
from emulator.config import Settings
from emulator.drivers.base import Driver, ServerSpec
from emulator.engines import in_tree
from emulator.engines.replication import Replication
from emulator.engines.variables import Variables
from emulator.failures import Failure
from emulator.foreground import Foreground
from emulator.host.backups import BackupStorage
from emulator.host.certificates import Authorities
from emulator.host.firewall import Firewall
from emulator.host.master_passwords import MasterPasswords
from emulator.host.storage_keys import StorageKeys
from emulator.images.servers import Servers
from emulator.model import arn, engine_versions, parameters
from emulator.model.engine_versions import EngineVersion
from emulator.model.events import INSTANCE_EVENTS, SNAPSHOT_EVENTS
from emulator.model.instance import Instance
from emulator.model.parameters import Parameter
from emulator.model.records import Event
from emulator.model.written import WrittenCache
from emulator.store import Store

# A standby's server, beside its parameter group's values: read-only, as every replica here (each driver keeps
# clients from it its own way: ServerSpec.standby).
STANDBY_PARAMETERS = {"MariaDB": {"read_only": "1"}, "MySQL": {"super_read_only": "1"}}


def server_name(resource_id: str, server: int) -> str:
    """What a driver calls one of an instance's servers: its first by the instance's resource id (every
    instance's only one, before Multi-AZ), its second (a Multi-AZ instance's) by a suffix."""
    return resource_id if server == 0 else f"{resource_id}-2"


@dataclass
class Context:
    settings: Settings
    store: Store
    clock: Clock
    driver: Driver
    servers: Servers
    variables: Variables
    backups: BackupStorage
    firewall: Firewall
    # managed master passwords, derived from the data directory's key
    passwords: MasterPasswords
    # encryption at rest: data keys, derived likewise
    storage_keys: StorageKeys
    # the certificate authorities named as RDS's, and the server certificates they sign
    authorities: Authorities
    # wakes the task runner (work/runner.py) once it runs: work was queued, or became due
    wake: Callable[[], None] = field(default=lambda: None, repr=False)
    # each instance's DBInstance XML, by the rows it was made from (DescribeDBInstances by identifier)
    written: WrittenCache = field(default_factory=WrittenCache, repr=False)
    # instances whose server's storage the watch last found full (status storage-full): an observation it
    # renews every few seconds, kept here, since the store may be on that very disk and unable to take it
    full: set[str] = field(default_factory=set, repr=False)
    # what each read replica's server last said of its replication (the watch asks every few seconds)
    replication: dict[str, Replication] = field(default_factory=dict, repr=False)
    # the requests being answered, which background work lets go first
    foreground: Foreground = field(default_factory=Foreground, repr=False)
    _catalogues: dict[EngineVersion, dict[str, Parameter]] = field(default_factory=dict, repr=False)

    def parameters(self, family: str) -> dict[str, Parameter]:
        """The parameters of a family this machine serves, as its engine version's own server lists them."""
        row = engine_versions.of_family(family)
        if row is None:
            return {}
        if row not in self._catalogues:
            self._catalogues[row] = parameters.catalogue(self.variables.get(row))
        return self._catalogues[row]

    def instance_parameters(self, instance: Instance) -> dict[str, Parameter]:
        """The parameters the instance's server knows."""
        row = self.engine_version(instance)
        return self.parameters(row.family) if row is not None else {}

    def engine_version(self, instance: Instance) -> EngineVersion | None:
        """The engine version whose server runs the instance."""
        return engine_versions.serving(instance.engine, instance.engine_version)

    def flavor(self, instance: Instance) -> str:
        """MySQL or MariaDB: the SQL and the tools its server takes (an instance from before engine images ran
        MariaDB)."""
        row = self.engine_version(instance)
        return row.flavor if row is not None else "MariaDB"

    def in_tree(self, instance: Instance, argv: list[str]) -> list[str]:
        """One of the engine's tools (`argv`), run from the instance's engine version's tree, where it sees the
        data directory (the work folders) and the driver's sockets at their own paths."""
        row = self.engine_version(instance)
        if row is None:
            raise Failure(f"no engine version serves {instance.engine} {instance.engine_version}")
        tree = self.servers.tree(row)
        return in_tree.command(tree.root, [self.settings.data_dir, *self.driver.reach()], argv)

    def arn(self, kind: str, name: str) -> str:
        return arn.resource_arn(self.settings.region, self.settings.account_id, kind, name)

    def instance_arn(self, identifier: str) -> str:
        return arn.instance_arn(self.settings.region, self.settings.account_id, identifier)

    def instance_event(self, identifier: str, message: str, category: str | None = None) -> None:
        self.store.add_event(self.told(identifier, message, category))

    def told(self, identifier: str, message: str, category: str | None = None) -> Event:
        """An event of a DB instance, to be written with the change it tells of."""
        return Event(self.clock.now(), "db-instance", identifier, self.instance_arn(identifier), message,
                     [category or INSTANCE_EVENTS[message]])

    def event(self, source_type: str, source_id: str, source_arn: str, message: str, category: str) -> None:
        self.store.add_event(Event(self.clock.now(), source_type, source_id, source_arn, message, [category]))

    def snapshot_event(self, name: str, message: str) -> Event:
        """An event of a DB snapshot, to be written with the change it tells of."""
        return Event(self.clock.now(), "db-snapshot", name, self.arn("snapshot", name), message,
                     [SNAPSHOT_EVENTS[message]])

    def spec(self, instance: Instance) -> ServerSpec:
        """The instance's server: its primary's, for a Multi-AZ instance."""
        return self._spec(instance, instance.active_server)

    def standby_spec(self, instance: Instance) -> ServerSpec:
        """A Multi-AZ instance's standby: the same server, read-only, that no client reaches (it reaches its
        primary)."""
        spec = self._spec(instance, 1 - instance.active_server)
        return replace(spec, parameters={**spec.parameters, **STANDBY_PARAMETERS[self.flavor(instance)]},
                       standby=True, follows=True)

    def specs(self, instances: list[Instance]) -> list[ServerSpec]:
        """Every server of these instances: each one's, and a Multi-AZ one's standby."""
        return [spec for instance in instances
                for spec in ([self.spec(instance), self.standby_spec(instance)] if instance.multi_az
                             else [self.spec(instance)])]

    def _spec(self, instance: Instance, server: int) -> ServerSpec:
        return ServerSpec(
            resource_id=server_name(instance.resource_id, server),
            identifier=instance.identifier,
            host=instance.address or self.settings.server_host,
            port=instance.port,
            master_username=instance.master_username,
            password_hash=instance.password_hash,
            db_name=instance.db_name,
            parameters=instance.server_parameters,
            instance_class=instance.instance_class,
            allocated_storage=instance.allocated_storage,
            version=self.engine_version(instance),
            follows=instance.replica_source is not None,
            options=instance.server_options,
            data_key=self.storage_keys.data_key(instance.data_key_name) if instance.storage_encrypted else None,
            ca_certificate=instance.ca_certificate,
        )

    def queue(
        self, resource_type: str, resource_id: str, kind: str, params: dict | None = None, **options: Any
    ) -> None:
        """Queue a task (see Store.queue_task for the options and what it raises) and wake the runner."""
        self.store.queue_task(resource_type, resource_id, kind, params or {}, self.clock.now(), **options)
        self.kick()

    def kick(self) -> None:
        """Wake the task runner: work was queued, or became due."""
        self.wake()
