"""Event source types, their categories, and the messages RDS writes."""

from datetime import timedelta

# How long RDS keeps events.
RETENTION = timedelta(days=14)

CATEGORIES = {
    "db-instance": [
        "availability", "backup", "configuration change", "creation", "deletion", "failover", "failure",
        "low storage", "maintenance", "notification", "read replica", "recovery", "restoration",
    ],
    "db-parameter-group": ["configuration change"],
    "db-security-group": ["configuration change", "failure"],
    "db-snapshot": ["creation", "deletion", "notification", "restoration"],
}
SOURCE_TYPES = tuple(CATEGORIES)

# message -> category, for the events this emulator emits about DB instances
INSTANCE_EVENTS = {
    "DB instance created": "creation",
    "DB instance deleted": "deletion",
    "DB instance shutdown": "availability",
    "DB instance restarted": "availability",
    "DB instance stopped": "notification",
    "DB instance started": "notification",
    "Applying modification to database instance class": "configuration change",
    "Finished applying modification to DB instance class": "configuration change",
    "Applying modification to allocated storage": "configuration change",
    "Finished applying modification to allocated storage": "configuration change",
    "Reset master credentials": "configuration change",
    "Enabled automated backups": "configuration change",
    "Disabled automated backups": "configuration change",
    "DB instance failed": "failure",
    "Recovery of the DB instance is complete": "recovery",
}
STORAGE_FULL = ("The storage of the DB instance is full: the disk holding it has no room left, and the server's "
                "writes wait. Free space on that disk, or allocate more storage.")
STORAGE_BACK = "The storage of the DB instance has room again."
INSTANCE_EVENTS |= {STORAGE_FULL: "low storage", STORAGE_BACK: "low storage"}
UPDATED_PARAMETER_GROUP = "Updated to use DBParameterGroup {name}"
RENAMED = "Renamed instance from {old} to {new}"
INSTANCE_EVENTS |= {
    "Backing up DB instance": "backup",
    "Finished DB Instance backup": "backup",
}
FAILOVER_STARTED = "Multi-AZ instance failover started"
FAILOVER_DONE = "Multi-AZ instance failover completed"
TO_MULTI_AZ = "Applying modification to convert to a Multi-AZ DB instance"
TO_MULTI_AZ_DONE = "Finished applying modification to convert to a Multi-AZ DB instance"
TO_SINGLE_AZ_DONE = "Finished applying modification to convert to a standard (Single-AZ) DB instance"
STANDBY_REPLACED = "The standby of the Multi-AZ DB instance was lost and has been made again"
INSTANCE_EVENTS |= {FAILOVER_STARTED: "failover", FAILOVER_DONE: "failover", TO_MULTI_AZ: "configuration change",
                    TO_MULTI_AZ_DONE: "configuration change", TO_SINGLE_AZ_DONE: "configuration change",
                    STANDBY_REPLACED: "availability"}
RESTORED_FROM_SNAPSHOT = "Restored from snapshot {name}"
RESTORED_TO_POINT = "Restored from DB instance {source} to {target}"
SNAPSHOT_EVENTS = {
    "Creating manual snapshot": "creation",
    "Manual snapshot created": "creation",
    "Creating automated snapshot": "creation",
    "Automated snapshot created": "creation",
    "Deleted user snapshot": "deletion",
    "Snapshot failed": "notification",
}
