"""Multi-AZ: the standby's zone, which of an instance's two servers is its primary, and its binary logs'
chain (one more at each failover: the new primary's logs are archived under names of their own); and the
GTIDs a snapshot holds, where a replay of a later chain's logs starts."""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("secondary_az", sa.String))
        batch.add_column(sa.Column("active_server", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("binlog_chain", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("snapshots") as batch:
        batch.add_column(sa.Column("binlog_gtid", sa.String))


def downgrade() -> None:
    with op.batch_alter_table("snapshots") as batch:
        batch.drop_column("binlog_gtid")
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("binlog_chain")
        batch.drop_column("active_server")
        batch.drop_column("secondary_az")
