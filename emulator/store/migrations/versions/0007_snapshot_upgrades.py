"""A snapshot upgraded to a newer engine version (ModifyDBSnapshot) keeps the version its backup was made
with: a restore unpacks it with that version's tools, then starts the newer server over it."""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("snapshots") as batch:
        batch.add_column(sa.Column("data_version", sa.String))


def downgrade() -> None:
    with op.batch_alter_table("snapshots") as batch:
        batch.drop_column("data_version")
