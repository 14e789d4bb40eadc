"""Managed master passwords: the secret an instance's master password is kept in (its ARN, key, versions),
never the password itself, which is derived from a key the emulator keeps (host/master_passwords.py)."""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("master_secret", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("master_secret")
