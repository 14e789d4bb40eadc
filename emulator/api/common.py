"""What the API's handlers share: finding a resource or saying it is not there, an instance's wire form and
the one way a new instance is made (create and restore), what tags and groups an instance names."""

from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from itertools import chain
from typing import Any

from emulator.context import Context
from emulator.drivers.base import InsufficientCapacity, PortUnavailable
from emulator.host import certificates
from emulator.model import arn, catalogue, engine_versions, kms, network, options, storage, validation
from emulator.model.instance import Instance
from emulator.model.keys import parameter_group_key, subnet_group_key
from emulator.model.options import OptionGroup
from emulator.model.records import IngressRule, ParameterGroup, SecurityGroup, SubnetGroup, Surroundings
from emulator.model.snapshot import Snapshot
from emulator.protocol.errors import RdsError, combination, instance_exists, instance_not_found, invalid, shown
from emulator.store.errors import GroupGone, GroupMissing, NameTaken, OptionGroupGone, PortTaken, SnapshotGone
from emulator.work import configuration


def automated_backup_resource_id(arn: str, alternative: str) -> str:
    """The DbiResourceId an automated backup's ARN names (`...:auto-backup:ab-<resource id, lower case>`)."""
    _, _, name = arn.rpartition(":auto-backup:ab-")
    if not name:
        raise invalid(f"Give {alternative} or an automated backup's ARN, not {shown(arn)!r}.")
    return "db-" + name.upper()


def automated_backup_not_found(resource_id: str) -> RdsError:
    return RdsError("DBInstanceAutomatedBackupNotFound", f"No automated backup found for {shown(resource_id)}.")


def existing_subnet_group(ctx: Context, name: str | None) -> str:
    """The name of a group that exists (the default one when none is named), or DBSubnetGroupNotFoundFault."""
    if not name:
        return network.DEFAULT_SUBNET_GROUP
    lowered = name.lower()
    if lowered != network.DEFAULT_SUBNET_GROUP and ctx.store.get_subnet_group(lowered) is None:
        raise subnet_group_not_found(name)
    return lowered


def subnet_group_wire_of(ctx: Context, name: str) -> dict[str, Any]:
    """A group as an instance reports it: the default one is computed, others read from the store."""
    group = ctx.store.get_subnet_group(name) if name != network.DEFAULT_SUBNET_GROUP else None
    if group is None:
        return network.default_subnet_group_wire(*place(ctx))
    return subnet_group_wire(ctx, group)


def subnet_group_tags_key(ctx: Context, name: str) -> str:
    """The store's key for the tags of the group an ARN names."""
    return subnet_group_key(stored_subnet_group(ctx, name, "tagged"))


def stored_subnet_group(ctx: Context, name: str, what: str) -> str:
    lowered = name.lower()
    if lowered == network.DEFAULT_SUBNET_GROUP:
        raise RdsError("InvalidDBSubnetGroupStateFault", f"The default DB subnet group cannot be {what}.")
    if ctx.store.get_subnet_group(lowered) is None:
        raise subnet_group_not_found(name)
    return lowered


def place(ctx: Context) -> tuple[str, str]:
    return ctx.settings.region, ctx.settings.account_id


def subnet_group_wire(ctx: Context, group: SubnetGroup) -> dict[str, Any]:
    return network.subnet_group_wire(group.name, group.description, group.subnets, *place(ctx))


def subnet_group_not_found(name: str) -> RdsError:
    return RdsError("DBSubnetGroupNotFoundFault", f"DBSubnetGroupName '{shown(name)}' not found.")


def snapshot_tags(ctx: Context, instance: Instance, requested: list[dict[str, str]] | None) -> list[tuple[str, str]]:
    """The request's tags; with none, the instance's when it copies its tags to snapshots."""
    if requested:
        return validation.tags(requested)
    if instance.copy_tags_to_snapshot:
        return [(tag["Key"], tag["Value"]) for tag in ctx.store.tags_for(instance.resource_id)]
    return []


def existing_snapshot(ctx: Context, identifier: str) -> Snapshot:
    snapshot = ctx.store.get_snapshot(snapshot_name_of(identifier))
    if snapshot is None:
        raise snapshot_not_found(identifier)
    return snapshot


def snapshot_not_found(identifier: str) -> RdsError:
    return RdsError("DBSnapshotNotFound", f"DBSnapshot {shown(identifier)} not found.")


def snapshot_exists(identifier: str) -> RdsError:
    return RdsError("DBSnapshotAlreadyExists",
                    f"Cannot create the snapshot because a snapshot with the identifier {identifier} already exists.")


def existing_security_group(ctx: Context, name: str) -> tuple[SecurityGroup, list[IngressRule]]:
    found = ctx.store.get_security_group(name.lower())
    if found is None:
        raise security_group_not_found(name)
    return found


def security_group_memberships(ctx: Context, names: list[str]) -> list[str]:
    """The groups a CreateDBInstance or ModifyDBInstance names, each of which must exist."""
    return sorted({existing_security_group(ctx, name)[0].name for name in names})


def security_group_not_found(name: str) -> RdsError:
    return RdsError("DBSecurityGroupNotFound", f"DBSecurityGroup {shown(name)} not found.")


DEFAULT_PREFIX = "default."


def parameter_group_for_instance(ctx: Context, name: str | None, family: str) -> str:
    """The group an instance of this family is to use: the family's default when none is named."""
    if not name:
        return DEFAULT_PREFIX + family
    group = parameter_group(ctx, name)
    if group.family != family:
        raise combination(
            f"The parameter group {group.name} with DBParameterGroupFamily {group.family} cannot be used for "
            f"this instance. Please use a Parameter Group with DBParameterGroupFamily {family}"
        )
    return group.name


def parameter_group_tags_key(ctx: Context, name: str) -> str:
    return parameter_group_key(custom_parameter_group(ctx, name, "tagged"))


def parameter_group_not_found(name: str) -> RdsError:
    return RdsError("DBParameterGroupNotFound", f"DBParameterGroup not found: {shown(name)}")


def parameter_group(ctx: Context, name: str) -> ParameterGroup:
    lowered = name.lower()
    if is_default_parameter_group(lowered):
        family = lowered.removeprefix(DEFAULT_PREFIX)
        if family in catalogue.families(ctx.driver.versions()):
            return default_parameter_group(ctx, family)
        raise parameter_group_not_found(name)
    group = ctx.store.get_parameter_group(lowered)
    if group is None:
        raise parameter_group_not_found(name)
    return group


def custom_parameter_group(ctx: Context, name: str, what: str) -> str:
    group = parameter_group(ctx, name)
    if is_default_parameter_group(group.name):
        raise RdsError("InvalidDBParameterGroupState", f"Default parameter groups cannot be {what}: {group.name}")
    return group.name


def default_parameter_group(ctx: Context, family: str) -> ParameterGroup:
    return ParameterGroup(DEFAULT_PREFIX + family, family, f"Default parameter group for {family}",
                          ctx.clock.now())


def is_default_parameter_group(name: str) -> bool:
    return name.startswith(DEFAULT_PREFIX)


AS_IT_IS = {
    "MultiAZ": False,  # accepted as true where the driver's servers can replicate (multi_az)
    "EnableIAMDatabaseAuthentication": False,
    "EnablePerformanceInsights": False,
    "MonitoringInterval": 0,
    "EnableCustomerOwnedIp": False,
    "DedicatedLogVolume": False,
    "NetworkType": "IPV4",
    "EnableCloudwatchLogsExports": [],
}


PORT_TRIES = 50


def insert_instance(ctx: Context, instance: Instance, requested: int | None, tag_pairs: list[tuple[str, str]],
           task: tuple[str, dict[str, Any]] = ("create", {})) -> Instance:
    """Claim an endpoint the driver offers and the store has not given to another instance: the store's
    unique endpoint decides between creates racing for one port. `task` makes its server."""
    host = instance.address or ctx.settings.server_host
    try:
        candidates = iter(ctx.driver.endpoints(host, requested, ctx.store, port_order(ctx, host)))
    except PortUnavailable:
        raise invalid(f"Port {requested} is in use by another program on this host.") from None
    for (address, port), _ in zip(candidates, range(PORT_TRIES), strict=False):
        placed = replace(instance, address=address, port=port)
        try:
            with refused_by_store(instance.parameter_group):
                ctx.store.add_instance(placed, tag_pairs, ctx.clock.now(), task)
        except PortTaken:
            if requested is not None:
                raise invalid(f"Port {requested} is already used by another DB instance of this emulator.") from None
            continue
        return placed
    raise RdsError("InsufficientDBInstanceCapacity",
                   "No free endpoint (address and port) is left for another DB instance.")


def port_order(ctx: Context, host: str) -> Iterable[int]:
    """The ports of the range above the highest one in use first, then those below it: a create then finds a
    free port at its first try, however many instances there are."""
    ports = ctx.settings.port_range
    highest = ctx.store.highest_port(host, ports)
    if highest is None:
        return ports
    return chain(range(highest + 1, ports.stop), range(ports.start, highest + 1))


@contextmanager
def refused_by_store(parameter_group: str | None) -> Iterator[None]:
    """What the store refuses as it writes an instance, told as RDS tells it: its identifier taken, its
    parameter group or a DB security group of it deleted meanwhile, the snapshot it restores from as well."""
    try:
        yield
    except NameTaken:
        raise instance_exists() from None
    except SnapshotGone as gone:
        raise snapshot_not_found(gone.args[0]) from None
    except GroupGone:
        raise parameter_group_not_found(parameter_group or "") from None
    except GroupMissing as gone:
        raise security_group_not_found(gone.args[0]) from None
    except OptionGroupGone as gone:
        raise option_group_not_found(gone.args[0]) from None


@contextmanager
def room(ctx: Context, instance: Instance, instance_class: str | None, standby: bool = False) -> Iterator[None]:
    """The driver holds room for the instance's server, of this class and with its parameter group's values,
    and for its Multi-AZ standby's when `standby`, while the block queues its work (none to hold when no class
    is given)."""
    if instance_class is None:
        yield
        return
    with ExitStack() as held:
        try:
            for server in (False, True) if standby else (False,):  # the primary, then its standby
                held.enter_context(ctx.driver.admit(configuration.sized(ctx, instance, instance_class, server)))
        except InsufficientCapacity as error:
            whose = " and its Multi-AZ standby" if standby else ""
            raise RdsError(
                "InsufficientDBInstanceCapacity",
                f"Cannot start a DB instance of class {instance_class}{whose} on this host now: {error}.",
            ) from None
        yield


def instance_wire(ctx: Context, instance: Instance, around: Surroundings) -> dict[str, Any]:
    """An instance as the API shows it, from its row and what was read with it: no further read."""
    if instance.observed == "running" and instance.resource_id in ctx.full:
        instance = replace(instance, observed="storage-full")
    group = network.default_subnet_group_wire(*place(ctx)) if around.subnet_group is None else \
        subnet_group_wire(ctx, around.subnet_group)
    replication = ctx.replication.get(instance.resource_id) if instance.replica_source else None
    return instance.to_wire(
        ctx.instance_arn(instance.identifier), around.tags, group, network.default_security_group(*place(ctx)),
        configuration.apply_status(ctx, instance, around.values),
        (replication.status, replication.message) if replication is not None else None,
        ctx.settings.endpoint_address,
    )


def instance_answer(ctx: Context, instance: Instance, around: Surroundings | None = None) -> dict[str, Any]:
    """A handler's answer about one instance: `around` read before a change that may take it away (a
    delete's task may end before the answer), or read now."""
    around = around or ctx.store.surroundings([instance])[instance.resource_id]
    return {"DBInstance": instance_wire(ctx, instance, around)}


def instance_name_of(value: str) -> str:
    """An identifier, or the ARN of an instance."""
    return arn.name_of(value, "db", "DB instance")


def existing_instance(ctx: Context, identifier: str) -> Instance:
    name = instance_name_of(identifier)
    instance = ctx.store.find_instance(name)
    if instance is None:
        raise instance_not_found(name)
    return instance


def refuse_unsupported(request: dict[str, Any], supported: set[str], action: str) -> None:
    for member in sorted(set(request) - supported):
        if member not in AS_IT_IS:
            raise invalid(f"The parameter {member} of {action} is not supported by RDS Emulator yet.")
        if request[member] != AS_IT_IS[member]:
            raise invalid(
                f"RDS Emulator supports {member} only as {AS_IT_IS[member]!r} (what every instance here is), "
                f"not {shown(request[member])!r}."
            )


def vpc_security_groups(ids: list[str] | None) -> list[str]:
    """VPC security groups by id (none: the VPC's default group). They are records until a later release
    enforces them at the network (docs/compatibility.md)."""
    ids = ids or []
    for group in ids:
        if not validation.SECURITY_GROUP_ID.match(group):
            raise invalid(f"Invalid security group, groupId= {shown(group)}")
    return list(dict.fromkeys(ids))


def engine_version(ctx: Context, engine: str, requested: str | None) -> catalogue.Offered:
    """The version a create or restore runs: the one named (a major picks its newest minor, a full version
    must be the one served), or the engine's default."""
    served = [item for item in catalogue.offered(ctx.driver.versions()) if item.engine == engine]
    row = engine_versions.of(engine, requested)
    found = next((item for item in served if item.row == row), None)
    if requested is None and found is None and served:  # the default is not served here: the newest is
        found = served[-1]
    if found is None or (requested and not (found.version == requested or found.version.startswith(requested + "."))):
        listed = ", ".join(f"{item.engine} {item.version}" for item in catalogue.offered(ctx.driver.versions())
                           if item.engine == engine or not served)
        asked = f"version {shown(requested)}" if requested else "a version"
        raise combination(f"Cannot find {asked} for {engine} (this host serves {listed})")
    return found


def upgrade_target(ctx: Context, engine: str, version: str, requested: str) -> catalogue.Offered | None:
    """The served version an instance or snapshot recorded as `version` of `engine` may be upgraded to when
    `requested` is asked for: None when it is the one it has; RDS's refusal for an older one, or one of
    another engine's data (an instance from before engine images)."""
    target = engine_version(ctx, engine, requested)
    if target.version == version:
        return None
    current = served_row(ctx, engine, version)
    if target.row.flavor != current.flavor or catalogue.newer(version, target.version):
        raise combination(f"Cannot upgrade {engine} from {version} to {target.version}")
    return target


def served_row(ctx: Context, engine: str, version: str) -> engine_versions.EngineVersion:
    """The engine version whose server runs what was recorded as `version` of `engine` (an instance, a
    snapshot), if this host serves it."""
    row = engine_versions.serving(engine, version)
    if row is None or row not in ctx.driver.versions():
        raise combination(f"Cannot find version {shown(version)} for {engine}")
    return row


def snapshot_name_of(value: str) -> str:
    """A snapshot's identifier, or its ARN."""
    return arn.name_of(value, "snapshot", "DB snapshot")


def stop_refused(identifier: str) -> RdsError:
    """As RDS for MySQL and MariaDB: neither a read replica nor a source of read replicas may be stopped."""
    return RdsError("InvalidDBInstanceState",
                    f"Cannot stop DB instance {identifier}: a read replica, or a source of read replicas, cannot "
                    "be stopped.")


def instance_options(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    """What a create, a restore and a read replica take alike from the request: its switches and its network."""
    return {
        "auto_minor_version_upgrade": request.get("AutoMinorVersionUpgrade", True),
        "publicly_accessible": request.get("PubliclyAccessible", False),
        "deletion_protection": request.get("DeletionProtection", False),
        "copy_tags_to_snapshot": request.get("CopyTagsToSnapshot", False),
        "subnet_group": existing_subnet_group(ctx, request.get("DBSubnetGroupName")),
        "vpc_security_groups": vpc_security_groups(request.get("VpcSecurityGroupIds")),
    }


def multi_az(ctx: Context, request: dict[str, Any], zone: str) -> dict[str, Any]:
    """A new instance's Multi-AZ columns from MultiAZ: a standby in another zone of the region, where the
    driver keeps standbys."""
    if not request.get("MultiAZ"):
        return {"multi_az": False, "secondary_az": None}
    standby_possible(ctx)
    if request.get("AvailabilityZone"):
        raise combination("Requesting a specific availability zone is not valid for Multi-AZ instances.")
    return {"multi_az": True, "secondary_az": catalogue.secondary_zone(ctx.settings.region, zone)}


def standby_possible(ctx: Context) -> None:
    if not ctx.driver.standbys:
        raise invalid("MultiAZ is not supported by RDS Emulator for guests on a bridge: an instance's endpoint is "
                      "its primary guest's own address, which a standby guest cannot take over.")


def storage_of_copy(request: dict[str, Any], of: Instance | Snapshot, whose: str) -> dict[str, Any]:
    """The storage of a new instance made from another's data (a snapshot's, a source's): its type and size
    unless the request changes them, never smaller; IOPS and throughput worked out for them."""
    kind = validation.storage_type(request.get("StorageType", of.storage_type))
    size = of.allocated_storage
    if request.get("AllocatedStorage") is not None:
        size = validation.allocated_storage(request["AllocatedStorage"], of.engine, kind)
        if size < of.allocated_storage:
            raise invalid(f"The allocated storage must be at least {whose} {of.allocated_storage} GiB.")
    iops, throughput = storage.performance(kind, size, request.get("Iops"), request.get("StorageThroughput"),
                                           of.engine)
    return {"storage_type": kind, "allocated_storage": size, "iops": iops, "storage_throughput": throughput}


# option groups


def served_families(ctx: Context) -> dict[str, str]:
    """The families (engine and major version) this host serves, and the engine of each."""
    return catalogue.families(ctx.driver.versions())


def default_option_groups(ctx: Context) -> list[OptionGroup]:
    return sorted((options.default_group(engine, family.removeprefix(engine), ctx.clock.now())
                   for family, engine in served_families(ctx).items()), key=lambda group: group.name)


def option_group_name_of(value: str) -> str:
    """An option group's name, or its ARN's (whose name may hold a colon: default:mysql-9-7)."""
    if value.startswith("arn:"):
        return arn.name_of(value, "og", "option group")
    return value.lower()


def option_group(ctx: Context, name: str) -> OptionGroup:
    """A group by name, a default one included; OptionGroupNotFoundFault."""
    found = next((group for group in default_option_groups(ctx) if group.name == name), None) \
        if name.startswith(options.DEFAULT_PREFIX) else ctx.store.get_option_group(name)
    if found is None:
        raise option_group_not_found(name)
    return found


def custom_option_group(ctx: Context, name: str, what: str) -> str:
    if name.startswith(options.DEFAULT_PREFIX):
        raise invalid(f"Default option groups cannot be {what}.")
    return option_group(ctx, name).name


def option_group_not_found(name: str) -> RdsError:
    return RdsError("OptionGroupNotFoundFault", f"Specified OptionGroupName: {shown(name)} not found.")


def option_group_for(ctx: Context, name: str | None, engine: str, version: str) -> str | None:
    """The option group an instance of this engine version is to be in (None: its default one), or the error
    RDS gives for a group of another engine or major version."""
    if not name:
        return None
    group = option_group(ctx, option_group_name_of(name))
    major = served_row(ctx, engine, version).major
    if (group.engine, group.major) != (engine, major):
        raise combination(f"The option group {group.name} is for {group.engine} {group.major}; the DB instance "
                          f"runs {engine} {major}.")
    return None if group.default else group.name


# encryption at rest

DEFAULT_STORAGE_KEY = "alias/aws/rds"


def encryption(ctx: Context, request: dict[str, Any], engine: str, version: str) -> dict[str, Any]:
    """A new instance's encryption at rest (StorageEncrypted, KmsKeyId), where its server can have it."""
    if not request.get("StorageEncrypted"):
        if request.get("KmsKeyId"):
            raise combination("KmsKeyId can only be given with StorageEncrypted.")
        return {}
    encrypts(ctx, engine, version)
    return {"storage_encrypted": True, "kms_key_id": storage_key(ctx, request.get("KmsKeyId"))}


def encrypted_as(ctx: Context, of: Instance | Snapshot) -> dict[str, Any]:
    """A new instance made from another's data (a snapshot's, a source's) is encrypted as that is, with its
    key: its pages are that data's."""
    if not of.storage_encrypted:
        return {}
    encrypts(ctx, of.engine, of.engine_version)
    return {"storage_encrypted": True, "kms_key_id": of.kms_key_id, "data_key_id": of.data_key_name}


def encrypts(ctx: Context, engine: str, version: str) -> None:
    flavor = served_row(ctx, engine, version).flavor
    if flavor not in ctx.driver.encrypts:
        raise combination(f"RDS Emulator cannot yet encrypt the storage of {engine} {version} with its "
                          f"{ctx.settings.driver} driver: docs/encryption.md says where it can.")


def storage_key(ctx: Context, value: str | None) -> str:
    return kms.key_arn(value, DEFAULT_STORAGE_KEY, ctx.settings.region, ctx.settings.account_id)


def ca_certificate(name: str | None) -> str:
    """A certificate authority by name (none: the default for new instances); CertificateNotFound."""
    if not name:
        return certificates.DEFAULT
    if name not in certificates.AUTHORITIES:
        raise RdsError("CertificateNotFound", f"Certificate {shown(name)} not found: DescribeCertificates lists "
                       "the certificate authorities.")
    return name
