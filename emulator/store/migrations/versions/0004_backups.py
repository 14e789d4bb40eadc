"""Snapshots (manual and automated), archived binary logs, how far each instance can be restored, the
changes each instance waits to apply in its maintenance window, and the emulator's clock offset."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("identifier", sa.String, primary_key=True),
        sa.Column("instance_resource_id", sa.String, nullable=False, index=True),
        sa.Column("instance_identifier", sa.String, nullable=False),
        sa.Column("snapshot_type", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("instance_created_at", sa.DateTime, nullable=False),
        sa.Column("engine", sa.String, nullable=False),
        sa.Column("engine_version", sa.String, nullable=False),
        sa.Column("instance_class", sa.String, nullable=False),
        sa.Column("allocated_storage", sa.Integer, nullable=False),
        sa.Column("storage_type", sa.String, nullable=False),
        sa.Column("iops", sa.Integer),
        sa.Column("storage_throughput", sa.Integer),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("availability_zone", sa.String, nullable=False),
        sa.Column("master_username", sa.String, nullable=False),
        sa.Column("password_hash", sa.String, nullable=False),
        sa.Column("db_name", sa.String),
        sa.Column("storage_key", sa.String, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("binlog_file", sa.String),
        sa.Column("binlog_position", sa.Integer),
        sa.Column("source_snapshot", sa.String),
        sa.Column("restore_accounts", sa.JSON, nullable=False, server_default="[]"),
        sa.Column("data_time", sa.DateTime),
    )
    op.create_table(
        "binlogs",
        sa.Column("instance_resource_id", sa.String, primary_key=True),
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("storage_key", sa.String, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("closed_at", sa.DateTime, nullable=False),
        sa.Column("clock_offset", sa.Float, nullable=False),
    )
    op.create_table(
        "emulator_state",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("value", sa.String, nullable=False),
    )
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("restorable_until", sa.DateTime))
        batch.add_column(sa.Column("binlog_mark", sa.JSON))
        batch.add_column(sa.Column("pending", sa.JSON, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("pending_since", sa.DateTime))
        batch.add_column(sa.Column("maintenance_opt_in", sa.String))
