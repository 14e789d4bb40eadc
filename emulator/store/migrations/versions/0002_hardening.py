"""The store guarantees what handlers used to check: one task under way per resource, one instance per
endpoint; tasks name their resource's kind and may wait for a time or carry a run-once key; instances
carry their network and storage performance settings; DB subnet groups.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

ACTIVE = "state IN ('queued', 'running')"


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("resource_type", sa.String, nullable=False, server_default="db-instance"))
        batch.add_column(sa.Column("not_before", sa.DateTime))
        batch.add_column(sa.Column("key", sa.String))
        batch.add_column(sa.Column("error", sa.String))
        batch.create_unique_constraint("uq_tasks_key", ["key"])
    # The race this index closes may have left two tasks under way for one instance: the newer ones go.
    op.execute(
        f"UPDATE tasks SET state = 'failed', error = 'superseded' WHERE {ACTIVE} AND id NOT IN "
        f"(SELECT MIN(id) FROM tasks WHERE {ACTIVE} GROUP BY resource_type, resource_id)"
    )
    op.create_index(
        "uq_tasks_one_under_way", "tasks", ["resource_type", "resource_id"], unique=True,
        sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE),
    )
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("subnet_group", sa.String, nullable=False, server_default="default"))
        batch.add_column(sa.Column("vpc_security_groups", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("iops", sa.Integer))
        batch.add_column(sa.Column("storage_throughput", sa.Integer))
    _separate_shared_ports()
    op.create_index("uq_instances_endpoint", "instances", ["address", "port"], unique=True)
    op.create_table(
        "subnet_groups",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("description", sa.String, nullable=False),
        sa.Column("subnets", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def _separate_shared_ports() -> None:
    """Before the endpoint became unique, racing creates could share a port (and all but one failed):
    each later one gets a port no instance uses, which its next start takes."""
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT resource_id, address, port FROM instances ORDER BY created_at")).all()
    used = {(address, port) for _, address, port in rows}
    seen: set[tuple[str, int]] = set()
    for resource_id, address, port in rows:
        if (address, port) in seen:
            port = max(p for _, p in used) + 1
            used.add((address, port))
            conn.execute(
                sa.text("UPDATE instances SET port = :port WHERE resource_id = :id"), {"port": port, "id": resource_id}
            )
        seen.add((address, port))
