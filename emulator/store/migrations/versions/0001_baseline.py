"""The store as the foundation wrote it (main on 2026-11-24): instances, tags, events, tasks.

A data directory from before migrations has these tables and no alembic_version: it is stamped with this
revision rather than created again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "instances",
        sa.Column("resource_id", sa.String, primary_key=True),
        sa.Column("identifier", sa.String, nullable=False, unique=True),
        sa.Column("engine", sa.String, nullable=False),
        sa.Column("engine_version", sa.String, nullable=False),
        sa.Column("instance_class", sa.String, nullable=False),
        sa.Column("master_username", sa.String, nullable=False),
        sa.Column("password_hash", sa.String, nullable=False),
        sa.Column("allocated_storage", sa.Integer, nullable=False),
        sa.Column("storage_type", sa.String, nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("availability_zone", sa.String, nullable=False),
        sa.Column("backup_window", sa.String, nullable=False),
        sa.Column("maintenance_window", sa.String, nullable=False),
        sa.Column("retention", sa.Integer, nullable=False),
        sa.Column("parameter_group", sa.String, nullable=False),
        sa.Column("parameter_apply_status", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("db_name", sa.String),
        sa.Column("address", sa.String),
        sa.Column("observed", sa.String, nullable=False),
        sa.Column("multi_az", sa.Boolean, nullable=False),
        sa.Column("auto_minor_version_upgrade", sa.Boolean, nullable=False),
        sa.Column("publicly_accessible", sa.Boolean, nullable=False),
        sa.Column("deletion_protection", sa.Boolean, nullable=False),
        sa.Column("copy_tags_to_snapshot", sa.Boolean, nullable=False),
        sa.Column("stopped_at", sa.DateTime),
    )
    op.create_table(
        "tags",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resource_id", sa.String, nullable=False, index=True),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("value", sa.String, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("date", sa.DateTime, nullable=False, index=True),
        sa.Column("source_type", sa.String, nullable=False),
        sa.Column("source_id", sa.String, nullable=False),
        sa.Column("source_arn", sa.String, nullable=False),
        sa.Column("message", sa.String, nullable=False),
        sa.Column("categories", sa.String, nullable=False),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resource_id", sa.String, nullable=False, index=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("state", sa.String, nullable=False, index=True),
        sa.Column("owner", sa.String),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
