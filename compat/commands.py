"""The legacy rds-* commands, as data: one row each names the command, the Query action it sends, its
positional argument, its flags (the old long names, and short forms where the toolkit had them) and the
records it prints. compat/cli.py runs any of them; none is written by hand."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Flag:
    long: str  # --allocated-storage
    param: str  # the Query member it sets: AllocatedStorage, or a list's member path
    short: str | None = None
    # value: one value; list: repeatable or comma-separated, sent as `param.member.N`; parameters: the
    # old `name=..., value=..., method=...` form; switch: no value, sends `true`; engine/family: an old
    # engine name (MySQL5.1) mapped to what the server serves
    kind: str = "value"


@dataclass(frozen=True)
class Command:
    name: str
    action: str
    positional: str | None  # the Query member the first argument fills
    flags: tuple[Flag, ...]
    # the records printed (compat/records.py) and where the result holds them
    record: str | None
    found_at: str
    # the question the old tool asked before doing it, unless --force
    confirm: str | None = None


INSTANCE = "DBInstanceIdentifier"
DELETE_INSTANCE = ("Once you begin deleting this database, it will no longer be able to accept connections.\n"
                   "    Are you sure you want to delete this database? [Ny]")
DELETE = "Are you sure you want to delete this {kind}? [Ny]"

_INSTANCE_SETTINGS = (
    Flag("--db-instance-class", "DBInstanceClass", "-c"),
    Flag("--allocated-storage", "AllocatedStorage", "-s"),
    Flag("--master-user-password", "MasterUserPassword", "-p"),
    Flag("--db-parameter-group-name", "DBParameterGroupName", "-g"),
    Flag("--db-security-groups", "DBSecurityGroups.member", "-a", "list"),
    Flag("--preferred-maintenance-window", "PreferredMaintenanceWindow", "-w"),
    Flag("--preferred-backup-window", "PreferredBackupWindow", "-b"),
    Flag("--backup-retention-period", "BackupRetentionPeriod", "-r"),
    Flag("--engine-version", "EngineVersion", "-v"),
    Flag("--auto-minor-version-upgrade", "AutoMinorVersionUpgrade", "-m"),
    Flag("--multi-az", "MultiAZ"),
)
_RESTORED = (
    Flag("--db-instance-class", "DBInstanceClass", "-c"),
    Flag("--port", "Port", "-p"),
    Flag("--availability-zone", "AvailabilityZone", "-z"),
    Flag("--auto-minor-version-upgrade", "AutoMinorVersionUpgrade", "-m"),
)
_PAGED = (Flag("--max-records", "MaxRecords"), Flag("--marker", "Marker"))

COMMANDS = {command.name: command for command in (
    Command("rds-create-db-instance", "CreateDBInstance", INSTANCE, (
        *_INSTANCE_SETTINGS,
        Flag("--engine", "Engine", "-e", "engine"),
        Flag("--master-username", "MasterUsername", "-u"),
        Flag("--db-name", "DBName", "-n"),
        Flag("--port", "Port", "-P"),
        Flag("--availability-zone", "AvailabilityZone", "-z"),
    ), "DBINSTANCE", "DBInstance"),
    Command("rds-describe-db-instances", "DescribeDBInstances", INSTANCE, _PAGED, "DBINSTANCE",
            "DBInstances.DBInstance"),
    Command("rds-modify-db-instance", "ModifyDBInstance", INSTANCE, (
        *_INSTANCE_SETTINGS,
        Flag("--apply-immediately", "ApplyImmediately", "-i", "switch"),
        Flag("--new-db-instance-identifier", "NewDBInstanceIdentifier", "-n"),
    ), "DBINSTANCE", "DBInstance"),
    Command("rds-delete-db-instance", "DeleteDBInstance", INSTANCE, (
        Flag("--final-db-snapshot-identifier", "FinalDBSnapshotIdentifier"),
        Flag("--skip-final-snapshot", "SkipFinalSnapshot", kind="switch"),
    ), "DBINSTANCE", "DBInstance", DELETE_INSTANCE),
    Command("rds-reboot-db-instance", "RebootDBInstance", INSTANCE, (
        Flag("--force-failover", "ForceFailover", kind="switch"),
    ), "DBINSTANCE", "DBInstance"),
    Command("rds-create-db-instance-read-replica", "CreateDBInstanceReadReplica", INSTANCE, (
        Flag("--source-db-instance-identifier", "SourceDBInstanceIdentifier", "-s"),
        Flag("--db-instance-class", "DBInstanceClass", "-c"),
        Flag("--availability-zone", "AvailabilityZone", "-z"),
        Flag("--port", "Port", "-P"),
        Flag("--auto-minor-version-upgrade", "AutoMinorVersionUpgrade", "-m"),
    ), "DBINSTANCE", "DBInstance"),
    Command("rds-promote-read-replica", "PromoteReadReplica", INSTANCE, (
        Flag("--backup-retention-period", "BackupRetentionPeriod", "-r"),
        Flag("--preferred-backup-window", "PreferredBackupWindow", "-b"),
    ), "DBINSTANCE", "DBInstance"),
    Command("rds-create-db-parameter-group", "CreateDBParameterGroup", "DBParameterGroupName", (
        Flag("--description", "Description", "-d"),
        Flag("--engine", "DBParameterGroupFamily", "-e", "family"),
        Flag("--db-parameter-group-family", "DBParameterGroupFamily", kind="family"),
    ), "DBPARAMGRP", "DBParameterGroup"),
    Command("rds-modify-db-parameter-group", "ModifyDBParameterGroup", "DBParameterGroupName", (
        Flag("--parameters", "Parameters.member", "-p", "parameters"),
    ), "DBPARAMGRP", ""),
    Command("rds-describe-db-parameters", "DescribeDBParameters", "DBParameterGroupName", (
        Flag("--source", "Source", "-s"), *_PAGED,
    ), "DBPARAMETER", "Parameters.Parameter"),
    Command("rds-describe-db-parameter-groups", "DescribeDBParameterGroups", "DBParameterGroupName", _PAGED,
            "DBPARAMGRP", "DBParameterGroups.DBParameterGroup"),
    Command("rds-reset-db-parameter-group", "ResetDBParameterGroup", "DBParameterGroupName", (
        Flag("--parameters", "Parameters.member", "-p", "parameters"),
        Flag("--reset-all-parameters", "ResetAllParameters", "-R", "switch"),
    ), "DBPARAMGRP", ""),
    Command("rds-delete-db-parameter-group", "DeleteDBParameterGroup", "DBParameterGroupName", (), None, "",
            DELETE.format(kind="DB parameter group")),
    Command("rds-create-db-security-group", "CreateDBSecurityGroup", "DBSecurityGroupName", (
        Flag("--description", "DBSecurityGroupDescription", "-d"),
    ), "DBSECURITYGROUP", "DBSecurityGroup"),
    Command("rds-authorize-db-security-group-ingress", "AuthorizeDBSecurityGroupIngress", "DBSecurityGroupName", (
        Flag("--cidr-ip", "CIDRIP", "-i"),
        Flag("--ec2-security-group-name", "EC2SecurityGroupName", "-g"),
        Flag("--ec2-security-group-owner-id", "EC2SecurityGroupOwnerId", "-o"),
    ), "DBSECURITYGROUP", "DBSecurityGroup"),
    Command("rds-revoke-db-security-group-ingress", "RevokeDBSecurityGroupIngress", "DBSecurityGroupName", (
        Flag("--cidr-ip", "CIDRIP", "-i"),
        Flag("--ec2-security-group-name", "EC2SecurityGroupName", "-g"),
        Flag("--ec2-security-group-owner-id", "EC2SecurityGroupOwnerId", "-o"),
    ), "DBSECURITYGROUP", "DBSecurityGroup"),
    Command("rds-describe-db-security-groups", "DescribeDBSecurityGroups", "DBSecurityGroupName", _PAGED,
            "DBSECURITYGROUP", "DBSecurityGroups.DBSecurityGroup"),
    Command("rds-delete-db-security-group", "DeleteDBSecurityGroup", "DBSecurityGroupName", (), None, "",
            DELETE.format(kind="DB security group")),
    Command("rds-describe-events", "DescribeEvents", None, (
        Flag("--source-identifier", "SourceIdentifier", "-i"),
        Flag("--source-type", "SourceType", "-t"),
        Flag("--start-time", "StartTime", "-s"),
        Flag("--end-time", "EndTime", "-e"),
        Flag("--duration", "Duration", "-d"),
        *_PAGED,
    ), "EVENT", "Events.Event"),
    Command("rds-create-db-snapshot", "CreateDBSnapshot", INSTANCE, (
        Flag("--db-snapshot-identifier", "DBSnapshotIdentifier", "-s"),
    ), "DBSNAPSHOT", "DBSnapshot"),
    Command("rds-describe-db-snapshots", "DescribeDBSnapshots", "DBSnapshotIdentifier", (
        Flag("--db-instance-identifier", INSTANCE, "-i"),
        Flag("--snapshot-type", "SnapshotType", "-t"),
        *_PAGED,
    ), "DBSNAPSHOT", "DBSnapshots.DBSnapshot"),
    Command("rds-delete-db-snapshot", "DeleteDBSnapshot", "DBSnapshotIdentifier", (), "DBSNAPSHOT", "DBSnapshot",
            DELETE.format(kind="DB snapshot")),
    Command("rds-restore-db-instance-from-db-snapshot", "RestoreDBInstanceFromDBSnapshot", INSTANCE, (
        Flag("--db-snapshot-identifier", "DBSnapshotIdentifier", "-s"), *_RESTORED,
    ), "DBINSTANCE", "DBInstance"),
    Command("rds-restore-db-instance-to-point-in-time", "RestoreDBInstanceToPointInTime",
            "TargetDBInstanceIdentifier", (
                Flag("--source-db-instance-identifier", "SourceDBInstanceIdentifier", "-s"),
                Flag("--restore-time", "RestoreTime", "-r"),
                Flag("--use-latest-restorable-time", "UseLatestRestorableTime", "-l", "switch"),
                *_RESTORED,
            ), "DBINSTANCE", "DBInstance"),
    Command("rds-describe-db-engine-versions", "DescribeDBEngineVersions", None, (
        Flag("--engine", "Engine", "-e"),
        Flag("--engine-version", "EngineVersion", "-v"),
        Flag("--db-parameter-group-family", "DBParameterGroupFamily"),
        Flag("--default-only", "DefaultOnly", "-d", "switch"),
        *_PAGED,
    ), "VERSION", "DBEngineVersions.DBEngineVersion"),
    Command("rds-describe-db-log-files", "DescribeDBLogFiles", INSTANCE, (
        Flag("--filename-contains", "FilenameContains"),
        Flag("--file-last-written", "FileLastWritten"),
        Flag("--file-size", "FileSize"),
        *_PAGED,
    ), "DBLOGFILE", "DescribeDBLogFiles.DescribeDBLogFilesDetails"),
    Command("rds-download-db-log-file-portion", "DownloadDBLogFilePortion", INSTANCE, (
        Flag("--log-file-name", "LogFileName", "-l"),
        Flag("--starting-token", "Marker", "-t"),
        Flag("--number-of-lines", "NumberOfLines", "-n"),
    ), "LOGDATA", ""),
)}
