"""DB security groups (the `default` one exists from the start, as on RDS), their ingress rules, and the
groups each instance is in."""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    groups = op.create_table(
        "db_security_groups",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("description", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "db_security_group_rules",
        sa.Column("group_name", sa.String, primary_key=True),
        sa.Column("kind", sa.String, primary_key=True),
        sa.Column("value", sa.String, primary_key=True),
        sa.Column("owner_id", sa.String),
        sa.Column("status", sa.String, nullable=False),
    )
    op.bulk_insert(groups, [{"name": "default", "description": "default",
                             "created_at": datetime.now(UTC).replace(tzinfo=None)}])
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("db_security_groups", sa.JSON, nullable=False, server_default="[]"))
