"""TLS under RDS's certificate names: the authority each instance's server certificate is signed by."""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("ca_certificate", sa.String, nullable=False, server_default="rds-ca-rsa2048-g1"))


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("ca_certificate")
