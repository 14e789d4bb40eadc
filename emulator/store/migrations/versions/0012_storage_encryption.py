"""Encryption at rest: whether an instance's (and a snapshot's) storage is encrypted, the KMS key it reports,
and the data key's name: the instance that first wrote the data (its restores, replicas and standby read the
same data, so they use its key). The key itself is derived from a key the emulator keeps, never stored."""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    for table in ("instances", "snapshots"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("storage_encrypted", sa.Boolean, nullable=False, server_default="0"))
            batch.add_column(sa.Column("kms_key_id", sa.String))
            batch.add_column(sa.Column("data_key_id", sa.String))


def downgrade() -> None:
    for table in ("snapshots", "instances"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("data_key_id")
            batch.drop_column("kms_key_id")
            batch.drop_column("storage_encrypted")
