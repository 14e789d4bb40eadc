"""A read replica names its source instance (by resource id); a source finds its replicas by the index."""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("replica_source", sa.String))
        batch.create_index("ix_instances_replica_source", ["replica_source"])


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_index("ix_instances_replica_source")
        batch.drop_column("replica_source")
